import Foundation

/// Builds SMBIOS tables byte by byte (DMTF DSP0134), for inventory fixtures that are then
/// checked against `dmidecode --from-dump`. Only what the fixtures need; every offset is the
/// spec's.
public struct SMBIOSBuilder: Sendable {
    public var majorVersion: UInt8
    public var minorVersion: UInt8
    private var structures: [[UInt8]] = []
    private var nextHandle: UInt16 = 0

    public init(majorVersion: UInt8 = 3, minorVersion: UInt8 = 2) {
        self.majorVersion = majorVersion
        self.minorVersion = minorVersion
    }

    /// Collects a structure's strings and hands out their 1-based numbers (0 for nil).
    public final class Strings {
        fileprivate var values: [String] = []
        public func callAsFunction(_ value: String?) -> UInt8 {
            guard let value, !value.isEmpty else { return 0 }
            if let index = values.firstIndex(of: value) { return UInt8(index + 1) }
            values.append(value)
            return UInt8(values.count)
        }
    }

    /// Appends a structure: `body` gets the string collector and returns the formatted area
    /// after the 4-byte header (type, length, handle are added here).
    @discardableResult
    public mutating func add(type: UInt8, _ body: (Strings) -> [UInt8]) -> UInt16 {
        let strings = Strings()
        let formatted = body(strings)
        let handle = nextHandle
        nextHandle += 1
        var bytes: [UInt8] = [type, UInt8(4 + formatted.count)] + le16(handle) + formatted
        if strings.values.isEmpty {
            bytes += [0, 0]
        } else {
            for value in strings.values { bytes += Array(value.utf8) + [0] }
            bytes.append(0)
        }
        structures.append(bytes)
        return handle
    }

    /// The structure table, closed by the end-of-table structure (type 127).
    public func table() -> [UInt8] {
        structures.flatMap { $0 } + [127, 4] + le16(0xFEFF) + [0, 0]
    }

    public var structureCount: Int { structures.count + 1 }

    /// The 64-bit `_SM3_` entry point (§5.2.2), 24 bytes.
    public func entryPoint64(tableAddress: UInt64) -> [UInt8] {
        var bytes = Array("_SM3_".utf8) + [0, 0x18, majorVersion, minorVersion, 0, 0x01, 0]
        bytes += le32(UInt32(table().count)) + le64(tableAddress)
        bytes[5] = checksum(bytes)
        return bytes
    }

    /// The 32-bit `_SM_` entry point (§5.2.1), 31 bytes.
    public func entryPoint32(tableAddress: UInt32) -> [UInt8] {
        let tableBytes = table()
        let largest = tableBytes.count  // an upper bound is enough for the fixtures
        var bytes = Array("_SM_".utf8) + [0, 0x1F, majorVersion, minorVersion] + le16(UInt16(min(largest, 0xFFFF))) + [0, 0, 0, 0, 0, 0]
        var intermediate = Array("_DMI_".utf8) + [0] + le16(UInt16(tableBytes.count)) + le32(tableAddress)
            + le16(UInt16(structureCount)) + [majorVersion << 4 | (minorVersion & 0x0F)]
        intermediate[5] = checksum(intermediate)
        bytes += intermediate
        bytes[4] = checksum(bytes)
        return bytes
    }

    /// What Linux exposes: `smbios_entry_point` and `DMI`.
    public func sysfsFiles(sixtyFourBit: Bool) -> (entryPoint: [UInt8], table: [UInt8]) {
        (sixtyFourBit ? entryPoint64(tableAddress: 0x7F00_0000) : entryPoint32(tableAddress: 0x000F_0000), table())
    }

    /// A `dmidecode --dump-bin` image of the same table: the entry point at offset 0 with the
    /// table address set to 32, the table at offset 32 (the layout `--from-dump` reads).
    public func dump(sixtyFourBit: Bool) -> [UInt8] {
        var bytes = sixtyFourBit ? entryPoint64(tableAddress: 32) : entryPoint32(tableAddress: 32)
        bytes += [UInt8](repeating: 0, count: 32 - bytes.count)
        return bytes + table()
    }

    private func checksum(_ bytes: [UInt8]) -> UInt8 {
        0 &- bytes.reduce(UInt8(0), &+)
    }
}

public func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
public func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8((value >> (8 * $0)) & 0xFF) } }
public func le64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8((value >> (8 * $0)) & 0xFF) } }

extension SMBIOSBuilder {
    /// Type 0 (§7.1), 2.4+ layout (length 18h).
    public mutating func addBIOS(vendor: String, version: String, date: String, release: (UInt8, UInt8) = (1, 20)) {
        add(type: 0) { s in
            [s(vendor), s(version)] + le16(0xE800) + [s(date), 0x3F] + le64(0x0000_0000_0B98_9880) + [0x03, 0x0D, release.0, release.1, 0xFF, 0xFF]
        }
    }

    /// Type 1 (§7.2), 2.4+ layout (length 1Bh). `uuid` is written in SMBIOS wire order
    /// (first three fields little-endian) from its RFC 4122 text.
    public mutating func addSystem(manufacturer: String?, product: String?, version: String?, serial: String?, uuid: String,
                                   sku: String?, family: String?) {
        var raw = stride(from: 0, to: 32, by: 2).map { index -> UInt8 in
            let hex = uuid.replacingOccurrences(of: "-", with: "")
            let start = hex.index(hex.startIndex, offsetBy: index)
            return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16) ?? 0
        }
        if (majorVersion, minorVersion) >= (2, 6) {
            raw[0..<4].reverse(); raw[4..<6].reverse(); raw[6..<8].reverse()
        }
        add(type: 1) { s in [s(manufacturer), s(product), s(version), s(serial)] + raw + [0x06, s(sku), s(family)] }
    }

    /// Type 2 (§7.3), without contained objects (length 0Fh).
    public mutating func addBaseboard(manufacturer: String?, product: String?, version: String?, serial: String?, assetTag: String?) {
        add(type: 2) { s in [s(manufacturer), s(product), s(version), s(serial), s(assetTag), 0x09, s(nil)] + le16(0x0003) + [0x0A, 0] }
    }

    /// Type 3 (§7.4), 2.7+ layout with no contained elements and a SKU (length 16h).
    public mutating func addChassis(type: UInt8, manufacturer: String?, version: String?, serial: String?, assetTag: String?, sku: String? = nil) {
        add(type: 3) { s in
            [s(manufacturer), type, s(version), s(serial), s(assetTag), 0x03, 0x03, 0x03, 0x03] + le32(0) + [0, 1, 0, 3, s(sku)]
        }
    }

    /// Type 4 (§7.5), 3.0+ layout (length 30h).
    public mutating func addProcessor(socket: String, manufacturer: String, version: String, cores: UInt8, threads: UInt8,
                                      maxSpeed: UInt16, currentSpeed: UInt16, populated: Bool = true) {
        add(type: 4) { s in
            var bytes: [UInt8] = [s(socket), 0x03, 0xCD, s(manufacturer)] + le64(0xBFEB_FBFF_0008_06EA) + [s(version), 0x8A]
            bytes += le16(100) + le16(maxSpeed) + le16(currentSpeed) + [populated ? 0x41 : 0x00, 0x2C]
            bytes += le16(0xFFFF) + le16(0xFFFF) + le16(0xFFFF) + [s(nil), s(nil), s(nil), cores, cores, threads] + le16(0x00FC)
            bytes += le16(0x00CD) + le16(UInt16(cores)) + le16(UInt16(cores)) + le16(UInt16(threads))
            return bytes
        }
    }

    /// Type 16 (§7.17) Physical Memory Array, so type 17 can point at it.
    @discardableResult
    public mutating func addMemoryArray(slots: UInt16, maximumKB: UInt32) -> UInt16 {
        add(type: 16) { _ in [0x03, 0x03, 0x03] + le32(maximumKB) + le16(0xFFFE) + le16(slots) }
    }

    /// Type 17 (§7.18), 3.2 layout up to the configured voltage (length 28h). `sizeField`
    /// is the raw WORD at 0Ch (0 = empty slot, 7FFFh = use `extendedSizeMB`).
    public mutating func addMemoryDevice(array: UInt16, locator: String, bank: String, sizeField: UInt16, extendedSizeMB: UInt32 = 0,
                                         formFactor: UInt8, memoryType: UInt8, speed: UInt16, configuredSpeed: UInt16,
                                         manufacturer: String?, serial: String?, partNumber: String?) {
        let installed = sizeField != 0
        add(type: 17) { s in
            var bytes = le16(array) + le16(0xFFFE) + le16(installed ? 64 : 0xFFFF) + le16(installed ? 64 : 0xFFFF) + le16(sizeField)
            bytes += [formFactor, 0, s(locator), s(bank), installed ? memoryType : 0x02] + le16(installed ? 0x0080 : 0x0004)
            bytes += le16(installed ? speed : 0) + [s(installed ? manufacturer : nil), s(installed ? serial : nil), s(nil), s(installed ? partNumber : nil)]
            bytes += [installed ? 1 : 0] + le32(extendedSizeMB) + le16(installed ? configuredSpeed : 0)
            bytes += le16(installed ? 1200 : 0) + le16(installed ? 1200 : 0) + le16(installed ? 1200 : 0)
            return bytes
        }
    }

    /// Type 22 (§7.23), 2.2+ layout (length 1Ah).
    public mutating func addPortableBattery(location: String, manufacturer: String, date: String?, serial: String?, name: String,
                                            chemistry: UInt8, designCapacity: UInt16, multiplier: UInt8, voltage: UInt16,
                                            sbdsSerial: UInt16 = 0) {
        add(type: 22) { s in
            [s(location), s(manufacturer), s(date), s(serial), s(name), chemistry] + le16(designCapacity) + le16(voltage)
                + [s("03.01"), 0xFF] + le16(sbdsSerial) + le16(0) + [s(nil), multiplier] + le32(0)
        }
    }
}
