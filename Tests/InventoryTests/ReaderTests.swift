import ArdoiseSupport
import ArdoiseTestSupport
import Certificates
import Foundation
@testable import Inventory
import Testing

/// A fake hwdb answering the ids the fixtures use (the real one is tested separately).
struct FixtureHardwareDatabase: HardwareDatabase {
    let table: [String: [String: String]] = [
        "pci:v00008086d00005917": ["ID_VENDOR_FROM_DATABASE": "Intel Corporation", "ID_MODEL_FROM_DATABASE": "UHD Graphics 620"],
        "pci:v00008086d000015D7": ["ID_VENDOR_FROM_DATABASE": "Intel Corporation", "ID_MODEL_FROM_DATABASE": "Ethernet Connection (4) I219-LM"],
        "acpi:AUO:": ["ID_VENDOR_FROM_DATABASE": "AU Optronics"],
    ]
    func properties(modalias: String) -> [String: String] { table[modalias] ?? [:] }
}

@Suite("Inventory from replayed trees (--sysroot)")
struct ReaderTests {
    @Test("Laptop: SMBIOS 3.x, energy_* battery, eDP panel, NVMe SSD, PCI names")
    func laptop() throws {
        let tree = try Fixtures.laptop()
        defer { tree.remove() }
        let inventory = InventoryReader(sysroot: tree.path, hardwareDatabase: FixtureHardwareDatabase()).read()

        #expect(inventory.sources.firmware == .smbios)
        #expect(inventory.sources.smbiosVersion == "3.2")
        #expect(inventory.warnings.isEmpty)
        #expect(inventory.system.manufacturer == "LENOVO")
        #expect(inventory.system.product == "20L5CTO1WW")
        #expect(inventory.system.version == "ThinkPad T480")
        #expect(inventory.system.uuid == "1f3c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b")
        #expect(inventory.chassis.type == .laptop)
        #expect(inventory.chassis.smbiosType == 0x0A)
        #expect(inventory.chassis.assetTag == "No Asset Information")
        #expect(inventory.baseboard?.assetTag == nil)  // "Not Available" is a placeholder
        #expect(inventory.bios?.version == "N24ET56W (1.31 )".trimmingCharacters(in: .whitespaces))

        let cpu = try #require(inventory.cpus.first)
        #expect(inventory.cpus.count == 1)
        #expect(cpu.model == "Intel(R) Core(TM) i5-8350U CPU @ 1.70GHz")
        #expect(cpu.cores == 4 && cpu.threads == 8)
        #expect(cpu.socket == "U3E1" && cpu.maxSpeedMHz == 3600 && cpu.source == "smbios+cpuinfo")

        #expect(inventory.memory.installedBytes == 8 << 30)
        #expect(inventory.memory.usableBytes == 7_987_304 * 1024)
        #expect(inventory.memory.slotCount == 2 && inventory.memory.emptySlots == 1)
        let module = try #require(inventory.memory.modules.first)
        #expect(module.type == "ddr4" && module.formFactor == "sodimm" && module.speedMTs == 2400)
        #expect(module.manufacturer == "Samsung" && module.partNumber == "M471A1K43CB1-CRC" && module.serial == "361A2B3C")
        #expect(inventory.memory.modules.last?.installed == false)

        #expect(inventory.batteries.count == 1)  // the mouse's battery is not the PC's
        let battery = try #require(inventory.batteries.first)
        #expect(battery.name == "BAT0" && battery.measure == "energy")
        #expect(battery.healthPercent == 78)     // 44.62 / 57.02 Wh
        #expect(battery.cycleCount == 312 && battery.technology == "li_poly" && battery.status == "discharging")
        #expect(battery.smbiosDesignCapacityMWh == 57020 && battery.source == "power_supply+smbios")

        #expect(inventory.screens.count == 1)    // HDMI-A-1 is disconnected (empty edid)
        let screen = try #require(inventory.screens.first)
        #expect(screen.builtIn && screen.manufacturerID == "AUO" && screen.manufacturerName == "AU Optronics")
        #expect(screen.model == "B140HAN04.2" && screen.productCode == "0x123d")
        #expect(screen.widthCm == 31 && screen.heightCm == 17 && screen.diagonalInches == 14.0)
        #expect(screen.nativeWidth == 1920 && screen.nativeHeight == 1080 && screen.checksumValid)

        #expect(inventory.gpus == [PCIDeviceInfo(address: "0000:00:02.0", vendorID: "8086", deviceID: "5917",
                                                 vendor: "Intel Corporation", model: "UHD Graphics 620", driver: "i915")])
        #expect(inventory.networkInterfaces.map(\.name) == ["enp0s31f6", "wlp61s0"])
        #expect(inventory.networkInterfaces.map(\.kind) == ["ethernet", "wifi"])
        #expect(inventory.networkInterfaces.first?.macAddress == "8c:16:45:12:34:56")
        #expect(inventory.networkInterfaces.first?.model == "Ethernet Connection (4) I219-LM")
        #expect(inventory.networkInterfaces.last?.vendorID == "8086" && inventory.networkInterfaces.last?.model == nil)
        #expect(inventory.networkInterfaces.last?.driver == "iwlwifi")

        let drive = try #require(inventory.drives.first)
        #expect(drive.name == "nvme0n1" && drive.transport == "nvme" && drive.media == "ssd")
        #expect(drive.sizeBytes == 256_060_514_304 && drive.serial == "S41GNX0M123456" && drive.health == nil)

        #expect(InventoryText.summary(inventory, language: .french)
                == "Portable Lenovo ThinkPad T480 · i5-8350U · 8 Go · SSD 256 Go · écran 14\" · batterie 78 %")
        #expect(InventoryText.summary(inventory, language: .english)
                == "Laptop Lenovo ThinkPad T480 · i5-8350U · 8 GB · SSD 256 GB · screen 14\" · battery 78%")

        // With the Diagnostics verdict filled in, the drive carries it in words.
        var checked = inventory
        checked.drives[0].health = DriveHealth(verdict: "reuse", reasons: [], checkedAt: Date())
        #expect(InventoryText.summary(checked, language: .french).contains("· SSD 256 Go (réemploi) ·"))
        checked.drives[0].health = DriveHealth(verdict: "discard", reasons: [], checkedAt: Date())
        #expect(InventoryText.summary(checked, language: .english).contains("· SSD 256 GB (discard) ·"))
    }

    @Test("Desktop: SMBIOS 2.x entry point, DDR3 with empty slots, SATA HDD, external monitor")
    func desktop() throws {
        let tree = try Fixtures.desktop()
        defer { tree.remove() }
        let inventory = InventoryReader(sysroot: tree.path, hardwareDatabase: NoHardwareDatabase()).read()
        #expect(inventory.sources.firmware == .smbios && inventory.sources.smbiosVersion == "2.8")
        #expect(inventory.sources.hardwareDatabase == false)
        #expect(inventory.chassis.type == .desktop && inventory.chassis.smbiosTypeName == "Low Profile Desktop")
        #expect(inventory.chassis.assetTag == "ATELIER-0042")
        #expect(inventory.system.uuid == "a1b2c3d4-e5f6-4788-99aa-bbccddeeff00")
        #expect(inventory.memory.installedBytes == 8 << 30)
        #expect(inventory.memory.slotCount == 4 && inventory.memory.emptySlots == 2)
        #expect(inventory.memory.modules.filter(\.installed).allSatisfy { $0.type == "ddr3" && $0.formFactor == "dimm" })
        #expect(inventory.cpus.first?.cores == 4 && inventory.cpus.first?.threads == 4)
        #expect(inventory.batteries.isEmpty)
        let monitor = try #require(inventory.screens.first)
        #expect(!monitor.builtIn && monitor.model == "DELL U2415" && monitor.serial == "7MT0184AABCL")
        #expect(monitor.diagonalInches == 24.1 && monitor.nativeWidth == 1920 && monitor.nativeHeight == 1200)
        #expect(monitor.manufacturerName == nil)  // no hwdb: ids only
        #expect(inventory.gpus.first?.vendor == nil && inventory.gpus.first?.deviceID == "0412")
        #expect(inventory.drives.first?.media == "hdd" && inventory.drives.first?.transport == "sata")
        // An external monitor is not part of the PC: not in the summary.
        #expect(InventoryText.summary(inventory, language: .french) == "PC fixe HP EliteDesk 800 G1 SFF · i5-4570 · 8 Go · HDD 500 Go")
    }

    @Test("Virtual machine without SMBIOS tables: /sys/class/dmi/id is the fallback")
    func virtualMachine() throws {
        let tree = try Fixtures.virtualMachine()
        defer { tree.remove() }
        let inventory = InventoryReader(sysroot: tree.path, hardwareDatabase: NoHardwareDatabase()).read()
        #expect(inventory.sources.firmware == .dmiID)
        #expect(inventory.sources.smbiosVersion == nil)
        #expect(inventory.system.manufacturer == "QEMU")
        #expect(inventory.system.product == "Standard PC (Q35 + ICH9, 2009)")
        #expect(inventory.system.serial == nil)
        #expect(inventory.system.uuid == "6a1f2e3d-4c5b-4a69-8877-665544332211")
        #expect(inventory.chassis.type == .other && inventory.chassis.smbiosType == 1)
        #expect(inventory.bios?.vendor == "SeaBIOS")
        #expect(inventory.baseboard == nil)
        #expect(inventory.memory.installedBytes == nil && inventory.memory.modules.isEmpty)
        #expect(inventory.cpus.first?.source == "cpuinfo" && inventory.cpus.first?.threads == 2 && inventory.cpus.first?.cores == 1)
        #expect(inventory.drives.map(\.transport) == ["virtio"])
        let nics = Dictionary(uniqueKeysWithValues: inventory.networkInterfaces.map { ($0.name, $0) })
        #expect(nics["enp0s3"]?.bus == "virtio" && nics["enp0s3"]?.vendorID == "1af4" && nics["enp0s3"]?.deviceID == "1041")
        #expect(nics["enp0s3"]?.driver == "virtio_net" && nics["enp0s3"]?.kind == "ethernet")
        #expect(nics["enx00e04c680001"]?.bus == "usb" && nics["enx00e04c680001"]?.vendorID == "0bda")
        #expect(nics["enx00e04c680001"]?.deviceID == "8153" && nics["enx00e04c680001"]?.macAddress == "00:e0:4c:68:00:01")
        // MemTotal (1.92 GiB) rounds up to the 2 GB the VM was given.
        #expect(InventoryText.summary(inventory, language: .english) == "PC QEMU Standard PC (Q35 + ICH9, 2009) · QEMU Virtual version 2.5+ · 2 GB · HDD 21 GB")
    }

    @Test("A battery reporting charge_* (µAh) gets its health from them")
    func chargeBattery() throws {
        let tree = try Fixtures.chargeBattery()
        defer { tree.remove() }
        let inventory = InventoryReader(sysroot: tree.path, hardwareDatabase: NoHardwareDatabase(), includesDrives: false).read()
        let battery = try #require(inventory.batteries.first)
        #expect(battery.measure == "charge")
        #expect(battery.fullCapacity == 5_120_000 && battery.designCapacity == 6_400_000)
        #expect(battery.healthPercent == 80)
        #expect(battery.cycleCount == nil)      // 0 means "not counted"
        #expect(battery.technology == "li_ion" && battery.status == "full" && battery.chargePercent == 97)
        #expect(inventory.chassis.type == .laptop)
        #expect(InventoryText.summary(inventory, language: .french) == "Portable Dell Latitude E7450 · batterie 80 %")
        let table = InventoryText.table(inventory, language: .french)
        #expect(table.contains("santé 80 % (5,1/6,4 Ah)"))
    }

    @Test("Broken EDIDs are reported, never a crash; a wrong checksum still decodes")
    func brokenEDID() throws {
        let (tree, _) = try Fixtures.brokenEDID()
        defer { tree.remove() }
        let inventory = InventoryReader(sysroot: tree.path, hardwareDatabase: NoHardwareDatabase(), includesDrives: false).read()
        let byConnector = Dictionary(uniqueKeysWithValues: inventory.screens.map { ($0.connector, $0) })
        #expect(byConnector.count == 3)
        let panel = try #require(byConnector["card0-eDP-1"])
        #expect(!panel.checksumValid && panel.error == nil && panel.manufacturerID == "AUO" && panel.diagonalInches == 14.0)
        #expect(byConnector["card0-HDMI-A-1"]?.error == "edid_too_short")
        #expect(byConnector["card0-DP-1"]?.error == "edid_bad_header")
        #expect(Set(inventory.warnings.map(\.code)) == ["edid_checksum", "edid_too_short", "edid_bad_header"])
        #expect(InventoryText.table(inventory, language: .english).contains("EDID checksum wrong"))
        // The panel still gives the summary its size.
        #expect(InventoryText.summary(inventory, language: .french) == "Portable · écran 14\"")
    }

    @Test("A damaged SMBIOS entry point falls back to /sys/class/dmi/id with a warning")
    func damagedSMBIOS() throws {
        let tree = try FixtureTree("bad-smbios")
        defer { tree.remove() }
        var files = Fixtures.laptopSMBIOS().sysfsFiles(sixtyFourBit: true)
        files.entryPoint[7] = 9   // version changed, checksum not fixed
        try tree.write("/sys/firmware/dmi/tables/smbios_entry_point", files.entryPoint)
        try tree.write("/sys/firmware/dmi/tables/DMI", files.table)
        try tree.write("/sys/class/dmi/id/chassis_type", "3")
        let inventory = InventoryReader(sysroot: tree.path, hardwareDatabase: NoHardwareDatabase(), includesDrives: false).read()
        #expect(inventory.warnings.map(\.code) == ["smbios_entry_point_checksum"])
        #expect(inventory.sources.firmware == .dmiID && inventory.chassis.type == .desktop)
        // Truncated table, any length: an error, never a trap.
        for length in stride(from: 0, to: files.table.count, by: 7) {
            _ = try? SMBIOSTable.parse(entryPoint: Fixtures.laptopSMBIOS().sysfsFiles(sixtyFourBit: false).entryPoint,
                                       table: Array(files.table.prefix(length)))
        }
        #expect(throws: SMBIOSTable.ParseError.truncatedTable) {
            try SMBIOSTable.parse(entryPoint: Fixtures.laptopSMBIOS().sysfsFiles(sixtyFourBit: false).entryPoint,
                                  table: Array(files.table.prefix(40)))
        }
    }

    @Test("Nothing at all under the sysroot: an empty inventory with a warning")
    func emptyTree() throws {
        let tree = try FixtureTree("empty")
        defer { tree.remove() }
        let inventory = InventoryReader(sysroot: tree.path, hardwareDatabase: NoHardwareDatabase()).read()
        #expect(inventory.sources.firmware == .none && inventory.chassis.type == .unknown)
        #expect(inventory.warnings.map(\.code) == ["firmware_unavailable"])
        #expect(InventoryText.summary(inventory, language: .french) == "PC")
    }

    @Test("Chassis type codes map to the refurbisher's categories (DSP0134 table 17)")
    func chassisCodes() {
        let expected: [Int: ChassisType] = [0x03: .desktop, 0x06: .desktop, 0x07: .desktop, 0x23: .desktop, 0x09: .laptop,
                                            0x0A: .laptop, 0x1F: .laptop, 0x0D: .allInOne, 0x1E: .tablet, 0x20: .tablet,
                                            0x11: .server, 0x17: .server, 0x01: .other, 0x0C: .other, 0x02: .unknown, 0x7F: .unknown]
        for (code, type) in expected { #expect(SMBIOSDecoder.chassisType(code) == type, "code \(code)") }
    }

    @Test("Short CPU names as refurbishers write them")
    func cpuNames() {
        let cases = [
            "Intel(R) Core(TM) i5-8350U CPU @ 1.70GHz": "i5-8350U",
            "12th Gen Intel(R) Core(TM) i7-1255U": "i7-1255U",
            "Intel(R) Core(TM) Ultra 7 155H": "Core Ultra 7 155H",
            "Intel(R) Pentium(R) CPU G4560 @ 3.50GHz": "Pentium G4560",
            "AMD Ryzen 5 PRO 2500U w/ Radeon Vega Mobile Gfx": "Ryzen 5 PRO 2500U",
            "Intel(R) Xeon(R) CPU E5-2620 v4 @ 2.10GHz": "Xeon E5-2620 v4",
        ]
        for (model, short) in cases { #expect(InventoryText.shortCPUName(model) == short) }
    }

    @Test("The real udev hwdb names PCI ids and PNP ids when it is installed",
          .enabled(if: SystemHardwareDatabase.available() != nil, "no udev hwdb on this machine"))
    func realHardwareDatabase() throws {
        let database = try #require(SystemHardwareDatabase.available())
        let names = database.names(bus: "pci", vendorID: "8086", deviceID: "5917")
        #expect(names.vendor == "Intel Corporation")
        #expect(names.model == "UHD Graphics 620")
        #expect(database.pnpVendor("AUO") == "AU Optronics")
        #expect(database.names(bus: "pci", vendorID: "ffff", deviceID: "ffff").model == nil)
        // The udevadm form gives the same answers.
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/udevadm") {
            let udevadm = SystemHardwareDatabase(root: "/", executable: "/usr/bin/udevadm") { ["hwdb", "--test=\($0)"] }
            #expect(udevadm.names(bus: "pci", vendorID: "8086", deviceID: "5917").model == "UHD Graphics 620")
            #expect(udevadm.pnpVendor("AUO") == "AU Optronics")
        }
    }

    @Test("JSON carries stable codes, identical whatever the language")
    func jsonCodes() throws {
        let tree = try Fixtures.laptop()
        defer { tree.remove() }
        let inventory = InventoryReader(sysroot: tree.path, hardwareDatabase: NoHardwareDatabase()).read()
        let json = try #require(String(data: try InventoryJSON.encode(inventory), encoding: .utf8))
        #expect(json.contains(#""type":"laptop""#))
        #expect(json.contains(#""type":"ddr4""#) && json.contains(#""formFactor":"sodimm""#))
        #expect(json.contains(#""technology":"li_poly""#) && json.contains(#""healthPercent":78"#))
        let decoded = try InventoryJSON.decoder().decode(HostInventory.self, from: try InventoryJSON.encode(inventory))
        #expect(decoded == inventory)
    }
}

/// Random bytes where SMBIOS and EDID are expected: the parsers answer an error or a partial
/// result, never a trap (every offset they read is bounds-checked).
@Suite("Inventory parsers on random input")
struct RobustnessTests {
    /// SplitMix64, for deterministic random tables.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test("Random SMBIOS structures decode or fail cleanly")
    func randomSMBIOS() {
        var random = Generator(state: 12)
        let entryPoint = Fixtures.laptopSMBIOS().sysfsFiles(sixtyFourBit: true).entryPoint
        var decoded = 0
        for _ in 0..<2000 {
            var table: [UInt8] = []
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                let type = [0, 1, 2, 3, 4, 17, 22, 16, UInt8.random(in: 0...255, using: &random)].randomElement(using: &random)!
                let length = Int.random(in: 0...60, using: &random)
                table += [type, UInt8(length)] + (0..<max(0, length - 2)).map { _ in UInt8.random(in: 0...255, using: &random) }
                table += (0..<Int.random(in: 0...12, using: &random)).map { _ in UInt8.random(in: 0...3, using: &random) == 0 ? 0 : 0x41 }
                table += [0, 0]
            }
            guard let parsed = try? SMBIOSTable.parse(entryPoint: entryPoint, table: table) else { continue }
            decoded += 1
            _ = SMBIOSDecoder.system(parsed); _ = SMBIOSDecoder.chassis(parsed); _ = SMBIOSDecoder.bios(parsed)
            _ = SMBIOSDecoder.baseboard(parsed); _ = SMBIOSDecoder.processors(parsed)
            _ = SMBIOSDecoder.memoryModules(parsed); _ = SMBIOSDecoder.batteries(parsed)
        }
        #expect(decoded > 100)
    }

    @Test("Random EDIDs with a valid header decode or report, never trap")
    func randomEDID() {
        var random = Generator(state: 34)
        for _ in 0..<2000 {
            let length = [127, 128, 256, Int.random(in: 0...300, using: &random)].randomElement(using: &random)!
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            if bytes.count >= 8 { bytes.replaceSubrange(0..<8, with: EDID.header) }
            let edid = EDID(bytes: bytes)
            #expect(edid.error == nil || length < 128)
            _ = edid.diagonalInches
        }
    }
}
