import ArdoiseTestSupport
import Foundation

/// A replayed tree (`sys/`, `proc/`) written into a private temporary directory, removed by
/// `remove()`. The binary files (SMBIOS, EDID) come from the builders, so each test can feed
/// the very same bytes to dmidecode / edid-decode.
final class FixtureTree {
    let root: URL

    init(_ name: String) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-inventory-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    var path: String { root.path }

    func remove() { try? FileManager.default.removeItem(at: root) }

    func write(_ path: String, _ text: String) throws {
        try write(path, Array((text + "\n").utf8))
    }

    func write(_ path: String, _ bytes: [UInt8]) throws {
        let url = root.appendingPathComponent(String(path.dropFirst()))
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    func directory(_ path: String) throws {
        try FileManager.default.createDirectory(at: root.appendingPathComponent(String(path.dropFirst())), withIntermediateDirectories: true)
    }

    /// A relative symlink at `path` pointing to `target` (as sysfs does).
    func link(_ path: String, to target: String) throws {
        let url = root.appendingPathComponent(String(path.dropFirst()))
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: url.path, withDestinationPath: target)
    }

    // MARK: Pieces

    func smbios(_ builder: SMBIOSBuilder, sixtyFourBit: Bool) throws {
        let files = builder.sysfsFiles(sixtyFourBit: sixtyFourBit)
        try write("/sys/firmware/dmi/tables/smbios_entry_point", files.entryPoint)
        try write("/sys/firmware/dmi/tables/DMI", files.table)
    }

    /// `/proc/cpuinfo` for one package: `threads` processors over `cores` core ids.
    func cpuinfo(model: String, vendor: String = "GenuineIntel", cores: Int, threads: Int) throws {
        var text = ""
        for processor in 0..<threads {
            text += """
            processor\t: \(processor)
            vendor_id\t: \(vendor)
            cpu family\t: 6
            model name\t: \(model)
            physical id\t: 0
            siblings\t: \(threads)
            core id\t\t: \(processor % cores)
            cpu cores\t: \(cores)
            flags\t\t: fpu vme de pse tsc msr pae mce\n

            """
        }
        try write("/proc/cpuinfo", text)
    }

    func meminfo(totalKB: UInt64) throws {
        try write("/proc/meminfo", "MemTotal:       \(totalKB) kB\nMemFree:         1234567 kB\nMemAvailable:    2345678 kB")
    }

    func powerSupply(_ name: String, _ attributes: [String: String]) throws {
        for (key, value) in attributes { try write("/sys/class/power_supply/\(name)/\(key)", value) }
    }

    func edid(_ connector: String, _ bytes: [UInt8]) throws {
        try write("/sys/class/drm/\(connector)/edid", bytes)
        try write("/sys/class/drm/\(connector)/status", bytes.isEmpty ? "disconnected" : "connected")
    }

    func pciDevice(_ address: String, pciClass: String, vendor: String, device: String, driver: String) throws {
        let base = "/sys/bus/pci/devices/\(address)"
        try write("\(base)/class", pciClass)
        try write("\(base)/vendor", vendor)
        try write("\(base)/device", device)
        try write("\(base)/modalias", "pci:v0000\(vendor.dropFirst(2).uppercased())d0000\(device.dropFirst(2).uppercased())sv00000000sd00000000bc\(pciClass.dropFirst(2).prefix(2))sc00i00")
        try directory("/sys/bus/pci/drivers/\(driver)")
        try link("\(base)/driver", to: "../../drivers/\(driver)")
    }

    func netInterface(_ name: String, pciAddress: String?, mac: String, wireless: Bool = false) throws {
        let base = "/sys/class/net/\(name)"
        try write("\(base)/address", mac)
        try write("\(base)/type", "1")
        if wireless { try directory("\(base)/wireless") }
        if let pciAddress { try link("\(base)/device", to: "../../../bus/pci/devices/\(pciAddress)") }
    }

    /// A whole disk as DeviceKit reads it (see DeviceKitTests/Fixtures/make-sysroots.sh).
    func disk(_ name: String, devicePath: String, dev: String, sectors: UInt64, rotational: Bool, model: String, serial: String,
              nvme: Bool) throws {
        let directory = "/sys/devices/\(devicePath)"
        try link("/sys/block/\(name)", to: "../devices/\(devicePath)")
        try link("\(directory)/device", to: nvme ? ".." : "../..")
        try write("\(directory)/dev", dev)
        try write("\(directory)/size", String(sectors))
        try write("\(directory)/ro", "0")
        try write("\(directory)/removable", "0")
        try write("\(directory)/queue/rotational", rotational ? "1" : "0")
        try write("\(directory)/queue/logical_block_size", "512")
        try write("\(directory)/queue/physical_block_size", "512")
        let deviceDirectory = nvme ? "\(directory)/.." : "\(directory)/../.."
        try write("\(deviceDirectory)/model", model)
        try write("\(deviceDirectory)/serial", serial)
        try self.directory("\(directory)/holders")
    }
}

/// The fixtures: each returns its tree and the builders' bytes for the oracles.
enum Fixtures {
    // MARK: Laptop: Lenovo ThinkPad T480, SMBIOS 3.2 (64-bit entry point)

    static func laptopSMBIOS() -> SMBIOSBuilder {
        var b = SMBIOSBuilder(majorVersion: 3, minorVersion: 2)
        b.addBIOS(vendor: "LENOVO", version: "N24ET56W (1.31 )", date: "02/19/2020", release: (1, 31))
        b.addSystem(manufacturer: "LENOVO", product: "20L5CTO1WW", version: "ThinkPad T480", serial: "PF1ABCDE",
                    uuid: "1f3c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b", sku: "LENOVO_MT_20L5_BU_Think_FM_ThinkPad T480", family: "ThinkPad T480")
        b.addBaseboard(manufacturer: "LENOVO", product: "20L5CTO1WW", version: "SDK0J40697 WIN", serial: "L1HF81A00AB", assetTag: "Not Available")
        b.addChassis(type: 0x0A, manufacturer: "LENOVO", version: "None", serial: "PF1ABCDE", assetTag: "No Asset Information")
        b.addProcessor(socket: "U3E1", manufacturer: "Intel(R) Corporation", version: "Intel(R) Core(TM) i5-8350U CPU @ 1.70GHz",
                       cores: 4, threads: 8, maxSpeed: 3600, currentSpeed: 1700)
        let array = b.addMemoryArray(slots: 2, maximumKB: 33_554_432)
        b.addMemoryDevice(array: array, locator: "ChannelA-DIMM0", bank: "BANK 0", sizeField: 8192, formFactor: 0x0D, memoryType: 0x1A,
                          speed: 2400, configuredSpeed: 2400, manufacturer: "Samsung", serial: "361A2B3C", partNumber: "M471A1K43CB1-CRC")
        b.addMemoryDevice(array: array, locator: "ChannelB-DIMM0", bank: "BANK 2", sizeField: 0, formFactor: 0x0D, memoryType: 0x1A,
                          speed: 0, configuredSpeed: 0, manufacturer: nil, serial: nil, partNumber: nil)
        b.addPortableBattery(location: "Front", manufacturer: "SMP", date: nil, serial: nil, name: "01AV431", chemistry: 0x08,
                             designCapacity: 5702, multiplier: 10, voltage: 11580, sbdsSerial: 0x09B1)
        return b
    }

    static let laptopPanel: EDIDBuilder = {
        var e = EDIDBuilder()
        e.manufacturerID = "AUO"
        e.productCode = 0x123D
        e.widthCm = 31; e.heightCm = 17; e.widthMm = 309; e.heightMm = 174
        e.texts = ["AUO", "B140HAN04.2"]
        return e
    }()

    static func laptop() throws -> FixtureTree {
        let tree = try FixtureTree("laptop")
        try tree.smbios(laptopSMBIOS(), sixtyFourBit: true)
        try tree.cpuinfo(model: "Intel(R) Core(TM) i5-8350U CPU @ 1.70GHz", cores: 4, threads: 8)
        try tree.meminfo(totalKB: 7_987_304)
        try tree.powerSupply("AC", ["type": "Mains", "online": "1"])
        try tree.powerSupply("BAT0", [
            "type": "Battery", "manufacturer": "SMP", "model_name": "01AV431", "technology": "Li-poly", "serial_number": "2481",
            "energy_full": "44620000", "energy_full_design": "57020000", "energy_now": "42000000", "cycle_count": "312",
            "capacity": "94", "status": "Discharging", "voltage_min_design": "11580000",
        ])
        // A wireless mouse: its battery is the mouse's, not the PC's.
        try tree.powerSupply("hid-00:1f:20:aa:bb:cc-battery", ["type": "Battery", "scope": "Device", "capacity": "40"])
        try tree.directory("/sys/class/drm/card0")
        try tree.edid("card0-eDP-1", laptopPanel.bytes())
        try tree.edid("card0-HDMI-A-1", [])
        try tree.pciDevice("0000:00:02.0", pciClass: "0x030000", vendor: "0x8086", device: "0x5917", driver: "i915")
        try tree.pciDevice("0000:00:1f.6", pciClass: "0x020000", vendor: "0x8086", device: "0x15d7", driver: "e1000e")
        try tree.pciDevice("0000:3d:00.0", pciClass: "0x028000", vendor: "0x8086", device: "0x24fd", driver: "iwlwifi")
        try tree.netInterface("enp0s31f6", pciAddress: "0000:00:1f.6", mac: "8C:16:45:12:34:56")
        try tree.netInterface("wlp61s0", pciAddress: "0000:3d:00.0", mac: "a0:c5:89:12:34:57", wireless: true)
        try tree.netInterface("lo", pciAddress: nil, mac: "00:00:00:00:00:00")
        try tree.disk("nvme0n1", devicePath: "pci0000:00/0000:00:1d.0/0000:3c:00.0/nvme/nvme0/nvme0n1", dev: "259:0",
                      sectors: 500_118_192, rotational: false, model: "SAMSUNG MZVLB256HAHQ-000L7", serial: "S41GNX0M123456", nvme: true)
        return tree
    }

    // MARK: Desktop: HP EliteDesk 800 G1 SFF, SMBIOS 2.8 (32-bit entry point)

    static func desktopSMBIOS() -> SMBIOSBuilder {
        var b = SMBIOSBuilder(majorVersion: 2, minorVersion: 8)
        b.addBIOS(vendor: "Hewlett-Packard", version: "L01 v02.75", date: "05/04/2018", release: (2, 75))
        b.addSystem(manufacturer: "Hewlett-Packard", product: "HP EliteDesk 800 G1 SFF", version: nil, serial: "CZC4301ABC",
                    uuid: "a1b2c3d4-e5f6-4788-99aa-bbccddeeff00", sku: "J7D08UP#ABA", family: "103C_53307F G=D")
        b.addBaseboard(manufacturer: "Hewlett-Packard", product: "18E7", version: nil, serial: "PGDXX0ABC1234", assetTag: nil)
        b.addChassis(type: 0x04, manufacturer: "Hewlett-Packard", version: nil, serial: "CZC4301ABC", assetTag: "ATELIER-0042")
        b.addProcessor(socket: "SOCKET 0", manufacturer: "Intel", version: "Intel(R) Core(TM) i5-4570 CPU @ 3.20GHz",
                       cores: 4, threads: 4, maxSpeed: 3600, currentSpeed: 3200)
        let array = b.addMemoryArray(slots: 4, maximumKB: 33_554_432)
        for (index, installed) in [true, false, true, false].enumerated() {
            b.addMemoryDevice(array: array, locator: "DIMM\(index + 1)", bank: "BANK \(index)", sizeField: installed ? 4096 : 0,
                              formFactor: 0x09, memoryType: 0x18, speed: 1600, configuredSpeed: 1600, manufacturer: "Hynix",
                              serial: "1A2B3C4\(index)", partNumber: "HMT451U6BFR8C-PB")
        }
        return b
    }

    static let desktopMonitor: EDIDBuilder = {
        var e = EDIDBuilder()
        e.manufacturerID = "DEL"
        e.productCode = 0xA0B5
        e.serialNumber = 0x3031_4C41
        e.week = 5; e.year = 2016
        e.widthCm = 52; e.heightCm = 32; e.widthMm = 518; e.heightMm = 324
        e.width = 1920; e.height = 1200
        e.name = "DELL U2415"
        e.serialString = "7MT0184AABCL"
        return e
    }()

    static func desktop() throws -> FixtureTree {
        let tree = try FixtureTree("desktop")
        try tree.smbios(desktopSMBIOS(), sixtyFourBit: false)
        try tree.cpuinfo(model: "Intel(R) Core(TM) i5-4570 CPU @ 3.20GHz", cores: 4, threads: 4)
        try tree.meminfo(totalKB: 8_048_836)
        try tree.edid("card0-DP-1", desktopMonitor.bytes())
        try tree.pciDevice("0000:00:02.0", pciClass: "0x030000", vendor: "0x8086", device: "0x0412", driver: "i915")
        try tree.pciDevice("0000:00:19.0", pciClass: "0x020000", vendor: "0x8086", device: "0x153a", driver: "e1000e")
        try tree.netInterface("eno1", pciAddress: "0000:00:19.0", mac: "ec:b1:d7:12:34:56")
        try tree.disk("sda", devicePath: "pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda", dev: "8:0",
                      sectors: 976_773_168, rotational: true, model: "ST500DM002-1BD142", serial: "Z3TABCDE", nvme: false)
        return tree
    }

    // MARK: Virtual machine: no SMBIOS tables, only /sys/class/dmi/id

    static func virtualMachine() throws -> FixtureTree {
        let tree = try FixtureTree("vm")
        let id = "/sys/class/dmi/id"
        for (key, value) in [
            "sys_vendor": "QEMU", "product_name": "Standard PC (Q35 + ICH9, 2009)", "product_version": "pc-q35-7.2",
            "product_serial": "", "product_uuid": "6A1F2E3D-4C5B-4A69-8877-665544332211", "chassis_type": "1",
            "chassis_vendor": "QEMU", "chassis_version": "pc-q35-7.2", "bios_vendor": "SeaBIOS",
            "bios_version": "1.16.2-debian-1.16.2-1", "bios_date": "04/01/2014", "bios_release": "0.0", "board_vendor": "",
        ] { try tree.write("\(id)/\(key)", value) }
        // A virtio NIC (bus virtio, ids of the PCI function carrying it) and a USB Ethernet adapter.
        try tree.pciDevice("0000:00:03.0", pciClass: "0x020000", vendor: "0x1af4", device: "0x1041", driver: "virtio-pci")
        let virtio = "/sys/bus/pci/devices/0000:00:03.0/virtio0"
        try tree.link("\(virtio)/subsystem", to: "../../../../bus/virtio")
        try tree.link("\(virtio)/driver", to: "../../../../bus/virtio/drivers/virtio_net")
        try tree.write("\(virtio)/vendor", "0x1af4")
        try tree.write("\(virtio)/device", "0x0001")
        try tree.write("/sys/class/net/enp0s3/address", "52:54:00:12:34:56")
        try tree.write("/sys/class/net/enp0s3/type", "1")
        try tree.link("/sys/class/net/enp0s3/device", to: "../../../bus/pci/devices/0000:00:03.0/virtio0")
        let usb = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0"
        try tree.write("\(usb)/modalias", "usb:v0BDAp8153d3000dc00dsc00dp00icFFisc06ip00in00")
        try tree.link("\(usb)/subsystem", to: "../../../../../../bus/usb")
        try tree.write("/sys/class/net/enx00e04c680001/address", "00:e0:4c:68:00:01")
        try tree.write("/sys/class/net/enx00e04c680001/type", "1")
        try tree.link("/sys/class/net/enx00e04c680001/device", to: "../../..\(usb.dropFirst(4))")
        try tree.cpuinfo(model: "QEMU Virtual CPU version 2.5+", cores: 1, threads: 2)
        try tree.meminfo(totalKB: 2_014_412)
        try tree.disk("vda", devicePath: "pci0000:00/0000:00:04.0/virtio1/block/vda", dev: "254:0",
                      sectors: 41_943_040, rotational: true, model: "", serial: "", nvme: true)
        return tree
    }

    // MARK: A battery with charge_* (µAh) instead of energy_*

    static func chargeBattery() throws -> FixtureTree {
        let tree = try FixtureTree("charge")
        try tree.write("/sys/class/dmi/id/chassis_type", "9")
        try tree.write("/sys/class/dmi/id/sys_vendor", "Dell Inc.")
        try tree.write("/sys/class/dmi/id/product_name", "Latitude E7450")
        try tree.powerSupply("BAT1", [
            "type": "Battery", "manufacturer": "SMP", "model_name": "DELL G95J598", "technology": "Li-ion",
            "charge_full": "5120000", "charge_full_design": "6400000", "charge_now": "5000000", "cycle_count": "0",
            "capacity": "97", "status": "Full",
        ])
        return tree
    }

    // MARK: Broken EDIDs: a wrong checksum, a short file, a wrong header

    static func brokenEDID() throws -> (tree: FixtureTree, badChecksum: [UInt8]) {
        let tree = try FixtureTree("broken-edid")
        try tree.write("/sys/class/dmi/id/chassis_type", "10")
        var bad = laptopPanel.bytes()
        bad[0x10] &+= 1                          // change the week without fixing byte 7Fh
        try tree.edid("card0-eDP-1", bad)
        try tree.edid("card0-HDMI-A-1", Array(desktopMonitor.bytes().prefix(64)))
        var header = desktopMonitor.bytes()
        header[1] = 0x00
        try tree.edid("card0-DP-1", header)
        return (tree, bad)
    }
}
