import ArdoiseTestSupport
import Foundation
@testable import Inventory
import Testing

/// The fixtures' SMBIOS bytes decoded by dmidecode (`--from-dump`) and their EDIDs by
/// edid-decode: our decoder must say what the reference tools say about the same bytes.
@Suite("Inventory oracles: dmidecode and edid-decode")
struct OracleTests {
    static let dmidecode = "/usr/sbin/dmidecode"
    static let edidDecode = "/usr/bin/edid-decode"

    /// dmidecode's text as records: (type, [key: value]) per handle, in table order.
    static func dmidecodeRecords(_ builder: SMBIOSBuilder, sixtyFourBit: Bool) throws -> [(type: Int, fields: [String: String])] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-smbios-\(UUID().uuidString).bin")
        try Data(builder.dump(sixtyFourBit: sixtyFourBit)).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let output = try Shell.run(dmidecode, ["--from-dump", file.path])
        var records: [(type: Int, fields: [String: String])] = []
        for block in output.components(separatedBy: "\nHandle 0x").dropFirst() {
            let lines = block.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            guard let typeRange = lines[0].range(of: #"DMI type (\d+)"#, options: .regularExpression) else { continue }
            let type = Int(lines[0][typeRange].dropFirst("DMI type ".count)) ?? -1
            var fields: [String: String] = [:]
            for line in lines.dropFirst(2) where line.hasPrefix("\t") && !line.hasPrefix("\t\t") {
                guard let colon = line.range(of: ": ") else { continue }
                fields[line[..<colon.lowerBound].trimmingCharacters(in: .whitespaces)] = String(line[colon.upperBound...])
            }
            records.append((type, fields))
        }
        return records
    }

    static func parse(_ builder: SMBIOSBuilder, sixtyFourBit: Bool) throws -> SMBIOSTable {
        let files = builder.sysfsFiles(sixtyFourBit: sixtyFourBit)
        return try SMBIOSTable.parse(entryPoint: files.entryPoint, table: files.table)
    }

    /// dmidecode prints "8 GB", "512 MB", "32 GB".
    static func dmidecodeSize(_ bytes: UInt64?) -> String {
        guard let bytes else { return "Unknown" }
        if bytes < 1 << 20 { return "\(bytes >> 10) kB" }
        return bytes >= 1 << 30 && bytes % (1 << 30) == 0 ? "\(bytes >> 30) GB" : "\(bytes >> 20) MB"
    }

    /// A workstation table: 32 GB DDR4 RDIMM through the Extended Size field, a DDR5 module,
    /// DDR5, and a 512 KB module whose size is in KB units (bit 15; DSP0134 §7.18.5), in a rack-mount chassis.
    static func workstationSMBIOS() -> SMBIOSBuilder {
        var b = SMBIOSBuilder(majorVersion: 3, minorVersion: 4)
        b.addSystem(manufacturer: "Dell Inc.", product: "Precision 7920 Tower", version: nil, serial: "7XYZ123",
                    uuid: "4c4c4544-0037-5810-8059-b7c04f313233", sku: "0734", family: "Precision")
        b.addChassis(type: 0x17, manufacturer: "Dell Inc.", version: nil, serial: "7XYZ123", assetTag: nil)
        let array = b.addMemoryArray(slots: 3, maximumKB: 0x8000_0000)
        b.addMemoryDevice(array: array, locator: "A1", bank: "P0", sizeField: 0x7FFF, extendedSizeMB: 32768, formFactor: 0x09,
                          memoryType: 0x1A, speed: 2933, configuredSpeed: 2666, manufacturer: "Micron", serial: "2A3B4C5D",
                          partNumber: "36ASF4G72PZ-2G9E2")
        b.addMemoryDevice(array: array, locator: "A2", bank: "P0", sizeField: 16384, formFactor: 0x0D,
                          memoryType: 0x22, speed: 4800, configuredSpeed: 4800, manufacturer: "Kingston", serial: "0F1E2D3C",
                          partNumber: "KF548S38-16")
        b.addMemoryDevice(array: array, locator: "A3", bank: "P0", sizeField: 0x8000 | 512, formFactor: 0x05,
                          memoryType: 0x0F, speed: 133, configuredSpeed: 133, manufacturer: "Acme", serial: "00000001",
                          partNumber: "SDR-512K")
        return b
    }

    /// An SMBIOS 2.4 table (before 2.6 the UUID is stored in network byte order throughout).
    static func legacySMBIOS() -> SMBIOSBuilder {
        var b = SMBIOSBuilder(majorVersion: 2, minorVersion: 4)
        b.addBIOS(vendor: "Phoenix Technologies LTD", version: "6.00", date: "07/12/2006", release: (0xFF, 0xFF))
        b.addSystem(manufacturer: "FUJITSU SIEMENS", product: "ESPRIMO P5905", version: nil, serial: "YK4E012345",
                    uuid: "00112233-4455-6677-8899-aabbccddeeff", sku: nil, family: nil)
        b.addChassis(type: 0x07, manufacturer: "FUJITSU SIEMENS", version: nil, serial: "YK4E012345", assetTag: nil)
        return b
    }

    @Test("SMBIOS of every fixture table agrees with dmidecode --from-dump",
          .enabled(if: FileManager.default.isExecutableFile(atPath: dmidecode), "dmidecode is not installed"),
          arguments: [("laptop", true), ("desktop", false), ("workstation", true), ("legacy", false)])
    func smbiosMatchesDmidecode(name: String, sixtyFourBit: Bool) throws {
        let builder = switch name {
        case "laptop": Fixtures.laptopSMBIOS()
        case "desktop": Fixtures.desktopSMBIOS()
        case "legacy": Self.legacySMBIOS()
        default: Self.workstationSMBIOS()
        }
        let records = try Self.dmidecodeRecords(builder, sixtyFourBit: sixtyFourBit)
        let table = try Self.parse(builder, sixtyFourBit: sixtyFourBit)
        func first(_ type: Int) -> [String: String]? { records.first { $0.type == type }?.fields }
        func all(_ type: Int) -> [[String: String]] { records.filter { $0.type == type }.map(\.fields) }
        /// Our value (nil when we filter a placeholder) against dmidecode's text.
        func same(_ ours: String?, _ theirs: String?, placeholder: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) {
            if let ours { #expect(ours == theirs, sourceLocation: sourceLocation) } else {
                #expect(theirs == nil || theirs == "Not Specified" || placeholder, "dmidecode has \(theirs ?? "-")", sourceLocation: sourceLocation)
            }
        }

        #expect(records.count == builder.structureCount)
        if let dmi = first(0), let bios = SMBIOSDecoder.bios(table) {
            same(bios.vendor, dmi["Vendor"]); same(bios.version, dmi["Version"]); same(bios.releaseDate, dmi["Release Date"])
            same(bios.release, dmi["BIOS Revision"])
        }
        let dmiSystem = try #require(first(1))
        let system = try #require(SMBIOSDecoder.system(table))
        same(system.manufacturer, dmiSystem["Manufacturer"]); same(system.product, dmiSystem["Product Name"])
        same(system.version, dmiSystem["Version"]); same(system.serial, dmiSystem["Serial Number"])
        same(system.sku, dmiSystem["SKU Number"]); same(system.family, dmiSystem["Family"])
        // The UUID byte order (little-endian first three fields since 2.6) as dmidecode reads it.
        #expect(system.uuid == dmiSystem["UUID"]?.lowercased())
        if name == "legacy" { #expect(system.uuid == "00112233-4455-6677-8899-aabbccddeeff") }
        if name == "laptop" { #expect(system.uuid == "1f3c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b") }

        if let dmi = first(2), let board = SMBIOSDecoder.baseboard(table) {
            same(board.manufacturer, dmi["Manufacturer"]); same(board.product, dmi["Product Name"])
            same(board.serial, dmi["Serial Number"]); same(board.assetTag, dmi["Asset Tag"], placeholder: true)
        }
        let dmiChassis = try #require(first(3))
        let chassis = try #require(SMBIOSDecoder.chassis(table))
        #expect(chassis.smbiosTypeName == dmiChassis["Type"])
        same(chassis.serial, dmiChassis["Serial Number"]); same(chassis.assetTag, dmiChassis["Asset Tag"])

        let dmiProcessors = all(4)
        let processors = SMBIOSDecoder.processors(table)
        #expect(processors.count == dmiProcessors.count)
        for (ours, theirs) in zip(processors, dmiProcessors) {
            same(ours.socket, theirs["Socket Designation"]); same(ours.version, theirs["Version"])
            #expect(ours.cores.map(String.init) == theirs["Core Count"])
            #expect(ours.threads.map(String.init) == theirs["Thread Count"])
            #expect(ours.maxSpeedMHz.map { "\($0) MHz" } == theirs["Max Speed"])
            #expect(ours.populated == (theirs["Status"]?.hasPrefix("Populated") ?? false))
        }

        let dmiModules = all(17)
        let modules = SMBIOSDecoder.memoryModules(table)
        #expect(modules.count == dmiModules.count)
        for (ours, theirs) in zip(modules, dmiModules) {
            same(ours.locator, theirs["Locator"])
            same(ours.bankLocator, theirs["Bank Locator"])
            guard ours.installed else {
                #expect(theirs["Size"] == "No Module Installed")
                continue
            }
            #expect(Self.dmidecodeSize(ours.sizeBytes) == theirs["Size"])
            #expect(ours.type?.uppercased() == theirs["Type"]?.uppercased())
            #expect(ours.formFactor?.uppercased() == theirs["Form Factor"]?.uppercased())
            #expect(ours.speedMTs.map { "\($0) MT/s" } == theirs["Speed"])
            #expect(ours.configuredSpeedMTs.map { "\($0) MT/s" } == theirs["Configured Memory Speed"])
            same(ours.manufacturer, theirs["Manufacturer"]); same(ours.partNumber, theirs["Part Number"])
            same(ours.serial, theirs["Serial Number"])
        }

        let dmiBatteries = all(22)
        let batteries = SMBIOSDecoder.batteries(table)
        #expect(batteries.count == dmiBatteries.count)
        for (ours, theirs) in zip(batteries, dmiBatteries) {
            same(ours.location, theirs["Location"]); same(ours.manufacturer, theirs["Manufacturer"])
            same(ours.deviceName, theirs["Name"])
            #expect(ours.designCapacityMWh.map { "\($0) mWh" } == theirs["Design Capacity"])
            #expect(ours.designVoltageMV.map { "\($0) mV" } == theirs["Design Voltage"])
            #expect(ours.serial == theirs["SBDS Serial Number"] || ours.serial == theirs["Serial Number"])
            let chemistry = ["li_poly": "Lithium Polymer", "li_ion": "Lithium Ion"][ours.chemistry ?? ""]
            #expect(chemistry == theirs["Chemistry"])
        }
    }

    /// edid-decode's lines of interest.
    static func edidDecode(_ bytes: [UInt8]) throws -> (status: Int32, output: String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-edid-\(UUID().uuidString).bin")
        try Data(bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try Shell.runCapturing(edidDecode, ["--check", file.path])
        return (result.status, result.standardOutput + result.standardError)
    }

    static func line(_ output: String, after prefix: String) -> String? {
        output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces) }
    }

    @Test("EDID of the fixtures agrees with edid-decode",
          .enabled(if: FileManager.default.isExecutableFile(atPath: edidDecode), "edid-decode is not installed"),
          arguments: ["laptop", "desktop"])
    func edidMatchesEdidDecode(name: String) throws {
        let builder = name == "laptop" ? Fixtures.laptopPanel : Fixtures.desktopMonitor
        let bytes = builder.bytes()
        let edid = EDID(bytes: bytes)
        let (_, output) = try Self.edidDecode(bytes)
        #expect(edid.error == nil)
        #expect(edid.checksumValid)
        #expect(Self.line(output, after: "Manufacturer:") == edid.manufacturerID)
        // edid-decode prints the product code in decimal.
        #expect(Self.line(output, after: "Model:") == edid.productCode.map(String.init))
        #expect(Self.line(output, after: "Maximum image size:") == "\(edid.widthCm ?? 0) cm x \(edid.heightCm ?? 0) cm")
        let dtd = try #require(Self.line(output, after: "DTD 1:"))
        #expect(dtd.hasPrefix("\(edid.nativeWidth ?? 0)x\(edid.nativeHeight ?? 0) "))
        #expect(dtd.hasSuffix("(\(edid.imageWidthMm ?? 0) mm x \(edid.imageHeightMm ?? 0) mm)"))
        #expect(Self.line(output, after: "EDID Structure Version & Revision:") == edid.version)
        if let name = edid.name { #expect(Self.line(output, after: "Display Product Name:") == "'\(name)'") }
        if let serial = edid.serialString { #expect(Self.line(output, after: "Display Product Serial Number:") == "'\(serial)'") }
        if let serial = edid.serialNumber {
            let theirs = try #require(Self.line(output, after: "Serial Number:"))
            #expect(theirs.hasPrefix(String(serial)) || theirs.contains(String(format: "0x%08x", serial)))
        }
        for text in edid.texts { #expect(output.contains("Alphanumeric Data String: '\(text)'")) }
        if edid.week != nil {
            #expect(Self.line(output, after: "Made in:") == "week \(edid.week ?? 0) of \(edid.year ?? 0)")
        }
    }

    @Test("A wrong EDID checksum: edid-decode and we both see it; we still decode the fields",
          .enabled(if: FileManager.default.isExecutableFile(atPath: edidDecode), "edid-decode is not installed"))
    func brokenChecksumAgreesWithEdidDecode() throws {
        var bytes = Fixtures.laptopPanel.bytes()
        bytes[0x10] &+= 1
        let edid = EDID(bytes: bytes)
        let (status, output) = try Self.edidDecode(bytes)
        #expect(!edid.checksumValid)
        #expect(status != 0)
        #expect(output.contains("should be"))
        #expect(edid.manufacturerID == "AUO")
        #expect(edid.nativeWidth == 1920)
    }
}
