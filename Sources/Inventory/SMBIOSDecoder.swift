import Foundation

/// Decodes the SMBIOS structures the inventory uses (DSP0134 3.x, §7): types 0, 1, 2, 3, 4,
/// 17 and 22. Offsets are those of the spec's tables; a field past a short structure's end
/// (an older SMBIOS version) is absent, never read out of bounds.
public enum SMBIOSDecoder {
    /// A processor socket (type 4).
    public struct ProcessorSocket: Sendable, Equatable {
        public var socket: String?
        public var manufacturer: String?
        public var version: String?
        public var populated: Bool
        public var cores: Int?
        public var threads: Int?
        public var maxSpeedMHz: Int?
        public var currentSpeedMHz: Int?
    }

    /// A portable battery (type 22).
    public struct PortableBattery: Sendable, Equatable {
        public var location: String?
        public var manufacturer: String?
        public var deviceName: String?
        public var serial: String?
        public var chemistry: String?
        public var designCapacityMWh: Int?
        public var designVoltageMV: Int?
    }

    /// Placeholders firmware leaves in unset strings; they mean "nothing".
    static let placeholders: Set<String> = [
        "", "to be filled by o.e.m.", "to be filled by o.e.m", "default string", "system product name",
        "system manufacturer", "system version", "system serial number", "not specified", "not applicable",
        "none", "n/a", "na", "0", "00000000", "0123456789", "123456789", "xxxxxxxxxx", "oem", "o.e.m.",
        "chassis serial number", "base board serial number", "type1productconfigid", "unknown", "not available",
    ]

    /// The string without surrounding blanks, or nil when it is a placeholder.
    public static func meaningful(_ string: String) -> String? {
        let trimmed = string.trimmingCharacters(in: .whitespacesAndNewlines.union(.controlCharacters))
        guard !placeholders.contains(trimmed.lowercased()), !trimmed.allSatisfy({ $0 == "." || $0 == " " || $0 == "-" }) else {
            return nil
        }
        return trimmed
    }

    // MARK: Type 0 — BIOS Information (§7.1)

    public static func bios(_ table: SMBIOSTable) -> BIOSInfo? {
        guard let s = table.structures(ofType: 0).first else { return nil }
        var release: String?
        // 14h/15h System BIOS major/minor release (2.4+); FFh FFh = not supported.
        if let major = s.byte(0x14), let minor = s.byte(0x15), major != 0xFF { release = "\(major).\(minor)" }
        return BIOSInfo(vendor: s.string(0x04), version: s.string(0x05), releaseDate: s.string(0x08), release: release)
    }

    // MARK: Type 1 — System Information (§7.2)

    public static func system(_ table: SMBIOSTable) -> SystemInfo? {
        guard let s = table.structures(ofType: 1).first else { return nil }
        return SystemInfo(manufacturer: s.string(0x04), product: s.string(0x05), version: s.string(0x06), serial: s.string(0x07),
                          uuid: uuid(s, table: table), sku: s.string(0x19), family: s.string(0x1A))
    }

    /// The UUID at 08h (16 bytes). §7.2.1: since SMBIOS 2.6 the first three fields (time_low,
    /// time_mid, time_hi_and_version) are little-endian; all 00h = not present, all FFh = not
    /// settable (both give nil). Older tables are read in network order, as dmidecode does.
    static func uuid(_ s: SMBIOSStructure, table: SMBIOSTable) -> String? {
        guard s.length >= 0x18 else { return nil }
        var bytes = Array(s.formatted[0x08..<0x18])
        if bytes.allSatisfy({ $0 == 0 }) || bytes.allSatisfy({ $0 == 0xFF }) { return nil }
        if table.isAtLeast(2, 6) {
            bytes[0..<4].reverse()
            bytes[4..<6].reverse()
            bytes[6..<8].reverse()
        }
        let hex = bytes.map { String(format: "%02x", $0) }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(separator: "-")
    }

    // MARK: Type 2 — Baseboard (§7.3)

    public static func baseboard(_ table: SMBIOSTable) -> BaseboardInfo? {
        guard let s = table.structures(ofType: 2).first else { return nil }
        return BaseboardInfo(manufacturer: s.string(0x04), product: s.string(0x05), version: s.string(0x06),
                             serial: s.string(0x07), assetTag: s.string(0x08))
    }

    // MARK: Type 3 — System Enclosure or Chassis (§7.4)

    public static func chassis(_ table: SMBIOSTable) -> ChassisInfo? {
        guard let s = table.structures(ofType: 3).first, let raw = s.byte(0x05) else { return nil }
        // Bit 7 is the chassis lock; bits 6:0 the type (§7.4.1).
        let code = Int(raw & 0x7F)
        // SKU number follows the contained elements: 15h + n × m (§7.4, 2.7+).
        var sku: String?
        if let count = s.byte(0x13), let recordLength = s.byte(0x14) {
            sku = s.string(0x15 + Int(count) * Int(recordLength))
        }
        return ChassisInfo(type: chassisType(code), smbiosType: code, smbiosTypeName: chassisTypeNames[code],
                           manufacturer: s.string(0x04), version: s.string(0x06), serial: s.string(0x07),
                           assetTag: s.string(0x08), sku: sku)
    }

    /// DSP0134 table 17 (System Enclosure or Chassis Types), names as dmidecode prints them.
    public static let chassisTypeNames: [Int: String] = [
        0x01: "Other", 0x02: "Unknown", 0x03: "Desktop", 0x04: "Low Profile Desktop", 0x05: "Pizza Box",
        0x06: "Mini Tower", 0x07: "Tower", 0x08: "Portable", 0x09: "Laptop", 0x0A: "Notebook", 0x0B: "Hand Held",
        0x0C: "Docking Station", 0x0D: "All In One", 0x0E: "Sub Notebook", 0x0F: "Space-saving", 0x10: "Lunch Box",
        0x11: "Main Server Chassis", 0x12: "Expansion Chassis", 0x13: "Sub Chassis", 0x14: "Bus Expansion Chassis",
        0x15: "Peripheral Chassis", 0x16: "RAID Chassis", 0x17: "Rack Mount Chassis", 0x18: "Sealed-case PC",
        0x19: "Multi-system", 0x1A: "CompactPCI", 0x1B: "AdvancedTCA", 0x1C: "Blade", 0x1D: "Blade Enclosing",
        0x1E: "Tablet", 0x1F: "Convertible", 0x20: "Detachable", 0x21: "IoT Gateway", 0x22: "Embedded PC",
        0x23: "Mini PC", 0x24: "Stick PC",
    ]

    /// The refurbisher's category for a DSP0134 chassis type code.
    public static func chassisType(_ code: Int) -> ChassisType {
        switch code {
        case 0x08, 0x09, 0x0A, 0x0E, 0x1F: .laptop           // portable, laptop, notebook, sub notebook, convertible
        case 0x03, 0x04, 0x05, 0x06, 0x07, 0x0F, 0x10, 0x18, 0x23, 0x24: .desktop  // towers, SFF, mini PC, stick PC
        case 0x0D: .allInOne
        case 0x0B, 0x1E, 0x20: .tablet                       // hand held, tablet, detachable
        case 0x11, 0x17, 0x1C, 0x1D: .server                 // main server, rack mount, blade
        case 0x02: .unknown
        case 0x01...0x24: .other                             // docking station, expansion and sub chassis, IoT…
        default: .unknown
        }
    }

    // MARK: Type 4 — Processor Information (§7.5)

    public static func processors(_ table: SMBIOSTable) -> [ProcessorSocket] {
        table.structures(ofType: 4).map { s in
            // 18h status: bit 6 = CPU socket populated.
            let populated = (s.byte(0x18) ?? 0) & 0x40 != 0
            // 23h core count / 25h thread count (2.5+); FFh means "see the WORD at 2Ah / 2Eh" (3.0+).
            func count(_ byteOffset: Int, _ wordOffset: Int) -> Int? {
                guard let value = s.byte(byteOffset) else { return nil }
                if value == 0xFF, let wide = s.word(wordOffset), wide != 0, wide != 0xFFFF { return Int(wide) }
                return value == 0 || value == 0xFF ? nil : Int(value)
            }
            func speed(_ offset: Int) -> Int? { s.word(offset).flatMap { $0 == 0 ? nil : Int($0) } }
            return ProcessorSocket(socket: s.string(0x04), manufacturer: s.string(0x07), version: s.string(0x10), populated: populated,
                                   cores: count(0x23, 0x2A), threads: count(0x25, 0x2E),
                                   maxSpeedMHz: speed(0x14), currentSpeedMHz: speed(0x16))
        }
    }

    // MARK: Type 17 — Memory Device (§7.18)

    public static func memoryModules(_ table: SMBIOSTable) -> [MemoryModule] {
        table.structures(ofType: 17).map { s in
            let size = memorySize(s)
            let installed = size.map { $0 > 0 } ?? (s.word(0x0C) == 0xFFFF)
            guard installed else {
                return MemoryModule(locator: s.string(0x10), bankLocator: s.string(0x11), installed: false)
            }
            return MemoryModule(
                locator: s.string(0x10), bankLocator: s.string(0x11), installed: true, sizeBytes: size,
                type: s.byte(0x12).map(memoryType), formFactor: s.byte(0x0E).map(formFactor),
                speedMTs: memorySpeed(s, 0x15, extended: 0x54), configuredSpeedMTs: memorySpeed(s, 0x20, extended: 0x58),
                manufacturer: s.string(0x17), partNumber: s.string(0x1A), serial: s.string(0x18))
        }
    }

    /// Size at 0Ch (§7.18.5): 0 = no device installed; FFFFh = unknown (nil); 7FFFh = see the
    /// Extended Size DWORD at 1Ch (bits 30:0, MB); otherwise bits 14:0 count MB when bit 15
    /// is 0, KB when it is 1.
    static func memorySize(_ s: SMBIOSStructure) -> UInt64? {
        guard let raw = s.word(0x0C) else { return nil }
        switch raw {
        case 0: return 0
        case 0xFFFF: return nil
        case 0x7FFF:
            guard let extended = s.dword(0x1C) else { return nil }
            return UInt64(extended & 0x7FFF_FFFF) << 20
        default:
            let value = UInt64(raw & 0x7FFF)
            return raw & 0x8000 != 0 ? value << 10 : value << 20
        }
    }

    /// Speed WORD (MT/s; 0 = unknown); FFFFh = see the extended DWORD (3.3+, bits 30:0).
    static func memorySpeed(_ s: SMBIOSStructure, _ offset: Int, extended: Int) -> Int? {
        guard let raw = s.word(offset), raw != 0 else { return nil }
        if raw == 0xFFFF {
            guard let wide = s.dword(extended) else { return nil }
            let value = Int(wide & 0x7FFF_FFFF)
            return value == 0 ? nil : value
        }
        return Int(raw)
    }

    /// DSP0134 table 76 (Memory Device — Type), as stable codes.
    static let memoryTypes: [UInt8: String] = [
        0x01: "other", 0x02: "unknown", 0x03: "dram", 0x04: "edram", 0x05: "vram", 0x06: "sram", 0x07: "ram",
        0x08: "rom", 0x09: "flash", 0x0A: "eeprom", 0x0B: "feprom", 0x0C: "eprom", 0x0D: "cdram", 0x0E: "3dram",
        0x0F: "sdram", 0x10: "sgram", 0x11: "rdram", 0x12: "ddr", 0x13: "ddr2", 0x14: "ddr2_fb_dimm", 0x18: "ddr3",
        0x19: "fbd2", 0x1A: "ddr4", 0x1B: "lpddr", 0x1C: "lpddr2", 0x1D: "lpddr3", 0x1E: "lpddr4",
        0x1F: "logical_non_volatile", 0x20: "hbm", 0x21: "hbm2", 0x22: "ddr5", 0x23: "lpddr5", 0x24: "hbm3",
    ]

    static func memoryType(_ code: UInt8) -> String { memoryTypes[code] ?? "unknown" }

    /// DSP0134 table 75 (Memory Device — Form Factor).
    static let formFactors: [UInt8: String] = [
        0x01: "other", 0x02: "unknown", 0x03: "simm", 0x04: "sip", 0x05: "chip", 0x06: "dip", 0x07: "zip",
        0x08: "proprietary_card", 0x09: "dimm", 0x0A: "tsop", 0x0B: "row_of_chips", 0x0C: "rimm", 0x0D: "sodimm",
        0x0E: "srimm", 0x0F: "fb_dimm", 0x10: "die", 0x11: "camm",
    ]

    static func formFactor(_ code: UInt8) -> String { formFactors[code] ?? "unknown" }

    // MARK: Type 22 — Portable Battery (§7.23)

    public static func batteries(_ table: SMBIOSTable) -> [PortableBattery] {
        table.structures(ofType: 22).map { s in
            // 0Ah design capacity (mWh, 0 = unknown) × 15h multiplier (2.2+).
            let multiplier = Int(s.byte(0x15) ?? 1)
            let capacity = s.word(0x0A).flatMap { $0 == 0 ? nil : Int($0) * max(multiplier, 1) }
            // 09h chemistry; 02h "unknown" lets the SBDS chemistry string (14h) speak.
            var chemistry = s.byte(0x09).flatMap { batteryChemistries[$0] }
            if chemistry == nil || chemistry == "unknown", let sbds = s.string(0x14) { chemistry = BatteryTechnology.code(sbds) }
            let voltage = s.word(0x0C).flatMap { $0 == 0 ? nil : Int($0) }
            // 07h serial string; when absent, the SBDS serial WORD at 10h (printed in hex).
            let serial = s.string(0x07) ?? s.word(0x10).map { String(format: "%04X", $0) }
            return PortableBattery(location: s.string(0x04), manufacturer: s.string(0x05), deviceName: s.string(0x08),
                                   serial: serial, chemistry: chemistry, designCapacityMWh: capacity, designVoltageMV: voltage)
        }
    }

    /// DSP0134 table 94 (Portable Battery — Device Chemistry).
    static let batteryChemistries: [UInt8: String] = [
        0x01: "other", 0x02: "unknown", 0x03: "lead_acid", 0x04: "nicd", 0x05: "nimh", 0x06: "li_ion",
        0x07: "zinc_air", 0x08: "li_poly",
    ]
}
