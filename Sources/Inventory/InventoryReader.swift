import DeviceKit
import Foundation

/// Reads the inventory of the machine under `sysroot` (`/` in production; a replayed tree
/// holding `sys/` and `proc/` in tests, like `lsblk --sysroot`). Never throws: what cannot be
/// read is absent, and a damaged source (SMBIOS table, EDID) leaves a warning.
/// Blocking (file reads, hwdb lookups): call from a thread that may block.
public struct InventoryReader: Sendable {
    public let sysroot: String
    public let hardwareDatabase: any HardwareDatabase
    /// Whether to list drives through DeviceKit's scanner.
    public let includesDrives: Bool
    private let files: SysfsReader

    /// `hardwareDatabase` defaults to the udev hwdb of `sysroot` when there is one.
    public init(sysroot: String = "/", hardwareDatabase: (any HardwareDatabase)? = nil, includesDrives: Bool = true) {
        self.sysroot = sysroot
        self.hardwareDatabase = hardwareDatabase ?? SystemHardwareDatabase.available(root: sysroot) ?? NoHardwareDatabase()
        self.includesDrives = includesDrives
        files = SysfsReader(sysroot: sysroot)
    }

    public func read() -> HostInventory {
        var inventory = HostInventory()
        let table = readFirmware(into: &inventory)
        inventory.cpus = readCPUs(sockets: table.map(SMBIOSDecoder.processors) ?? [])
        inventory.memory = readMemory(modules: table.map(SMBIOSDecoder.memoryModules))
        inventory.batteries = readBatteries(smbios: table.map(SMBIOSDecoder.batteries) ?? [])
        inventory.screens = readScreens(warnings: &inventory.warnings)
        inventory.gpus = readGPUs()
        inventory.networkInterfaces = readNetworkInterfaces()
        if includesDrives { inventory.drives = readDrives() }
        inventory.sources.hardwareDatabase = !(hardwareDatabase is NoHardwareDatabase)
        return inventory
    }

    // MARK: Files

    func text(_ absolute: String) -> String? { files.string(atPath: files.path(absolute)) }

    func bytes(_ absolute: String) -> [UInt8]? {
        FileManager.default.contents(atPath: files.path(absolute)).map { [UInt8]($0) }
    }

    func entries(_ absolute: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: files.path(absolute))) ?? [])
            .filter { !$0.hasPrefix(".") }
            .sorted { $0.compare($1, options: .numeric) == .orderedAscending }
    }

    func exists(_ absolute: String) -> Bool { FileManager.default.fileExists(atPath: files.path(absolute)) }

    /// The last component a sysfs symlink points to (`driver` → `e1000e`).
    func linkName(_ absolute: String) -> String? {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: files.path(absolute))).map { ($0 as NSString).lastPathComponent }
    }

    // MARK: Firmware (SMBIOS, else /sys/class/dmi/id)

    /// Fills system, chassis, baseboard and BIOS; returns the SMBIOS table when it was read.
    func readFirmware(into inventory: inout HostInventory) -> SMBIOSTable? {
        let directory = "/sys/firmware/dmi/tables"
        if let entry = bytes("\(directory)/smbios_entry_point"), let dmi = bytes("\(directory)/DMI") {
            do {
                let table = try SMBIOSTable.parse(entryPoint: entry, table: dmi)
                inventory.system = SMBIOSDecoder.system(table) ?? SystemInfo()
                inventory.chassis = SMBIOSDecoder.chassis(table) ?? ChassisInfo(type: .unknown)
                inventory.baseboard = SMBIOSDecoder.baseboard(table)
                inventory.bios = SMBIOSDecoder.bios(table)
                inventory.sources = InventorySources(firmware: .smbios, smbiosVersion: table.version)
                return table
            } catch {
                inventory.warnings.append(InventoryWarning(code: error.code, subject: directory))
            }
        } else if exists("\(directory)/DMI") {
            // The tables are readable by root only (mode 0400).
            inventory.warnings.append(InventoryWarning(code: "smbios_unreadable", subject: directory))
        }
        let id = "/sys/class/dmi/id"
        guard exists(id) else {
            inventory.warnings.append(InventoryWarning(code: "firmware_unavailable", subject: directory))
            return nil
        }
        func value(_ name: String) -> String? { text("\(id)/\(name)").flatMap(SMBIOSDecoder.meaningful) }
        inventory.system = SystemInfo(manufacturer: value("sys_vendor"), product: value("product_name"),
                                      version: value("product_version"), serial: value("product_serial"),
                                      uuid: value("product_uuid")?.lowercased(), sku: value("product_sku"), family: value("product_family"))
        let code = text("\(id)/chassis_type").flatMap { Int($0) }
        inventory.chassis = ChassisInfo(type: code.map(SMBIOSDecoder.chassisType) ?? .unknown, smbiosType: code,
                                        smbiosTypeName: code.flatMap { SMBIOSDecoder.chassisTypeNames[$0] },
                                        manufacturer: value("chassis_vendor"), version: value("chassis_version"),
                                        serial: value("chassis_serial"), assetTag: value("chassis_asset_tag"))
        let board = BaseboardInfo(manufacturer: value("board_vendor"), product: value("board_name"), version: value("board_version"),
                                  serial: value("board_serial"), assetTag: value("board_asset_tag"))
        inventory.baseboard = board == BaseboardInfo() ? nil : board
        let bios = BIOSInfo(vendor: value("bios_vendor"), version: value("bios_version"), releaseDate: value("bios_date"),
                            release: value("bios_release"))
        inventory.bios = bios == BIOSInfo() ? nil : bios
        inventory.sources = InventorySources(firmware: .dmiID)
        return nil
    }

    // MARK: CPU (/proc/cpuinfo + SMBIOS type 4)

    func readCPUs(sockets: [SMBIOSDecoder.ProcessorSocket]) -> [CPUInfo] {
        let populated = sockets.filter(\.populated)
        let packages = Self.parseCPUInfo(text("/proc/cpuinfo") ?? "")
        guard !packages.isEmpty else {
            return populated.map {
                CPUInfo(socket: $0.socket, manufacturer: $0.manufacturer, model: $0.version, cores: $0.cores, threads: $0.threads,
                        maxSpeedMHz: $0.maxSpeedMHz, currentSpeedMHz: $0.currentSpeedMHz, source: "smbios")
            }
        }
        return packages.enumerated().map { index, package in
            let socket = index < populated.count ? populated[index] : nil
            return CPUInfo(socket: socket?.socket, manufacturer: socket?.manufacturer ?? package.vendor,
                           model: package.model ?? socket?.version, cores: package.cores, threads: package.threads,
                           maxSpeedMHz: socket?.maxSpeedMHz, currentSpeedMHz: socket?.currentSpeedMHz,
                           source: socket == nil ? "cpuinfo" : "smbios+cpuinfo")
        }
    }

    struct CPUPackage: Equatable {
        var vendor: String?
        var model: String?
        var cores: Int
        var threads: Int
    }

    /// One entry per `physical id`: threads = its `processor` blocks; cores = its distinct
    /// `core id`s (else `cpu cores`, else the thread count).
    static func parseCPUInfo(_ text: String) -> [CPUPackage] {
        var blocks: [[String: String]] = []
        var current: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty {
                if !current.isEmpty { blocks.append(current) }
                current = [:]
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            // A new "processor" line also starts a block (no blank line between them).
            if key == "processor", current["processor"] != nil {
                blocks.append(current)
                current = [:]
            }
            current[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        if !current.isEmpty { blocks.append(current) }
        let processors = blocks.filter { $0["processor"] != nil }
        var order: [String] = []
        var groups: [String: [[String: String]]] = [:]
        for block in processors {
            let id = block["physical id"] ?? "0"
            if groups[id] == nil { order.append(id) }
            groups[id, default: []].append(block)
        }
        return order.map { id in
            let group = groups[id] ?? []
            let first = group.first ?? [:]
            let coreIDs = Set(group.compactMap { $0["core id"] })
            let cores = !coreIDs.isEmpty ? coreIDs.count : (first["cpu cores"].flatMap { Int($0) } ?? group.count)
            let vendor: String? = switch first["vendor_id"] {
            case "GenuineIntel": "Intel"
            case "AuthenticAMD": "AMD"
            case let other: other
            }
            return CPUPackage(vendor: vendor, model: first["model name"] ?? first["Processor"], cores: cores, threads: group.count)
        }
    }

    // MARK: Memory (/proc/meminfo + SMBIOS type 17)

    func readMemory(modules: [MemoryModule]?) -> MemoryInfo {
        var memory = MemoryInfo()
        if let meminfo = text("/proc/meminfo") {
            for line in meminfo.split(separator: "\n") where line.hasPrefix("MemTotal:") {
                let fields = line.split(separator: " ")
                if fields.count >= 2, let kilobytes = UInt64(fields[1]) { memory.usableBytes = kilobytes * 1024 }
            }
        }
        if let modules, !modules.isEmpty {
            memory.modules = modules
            memory.slotCount = modules.count
            memory.emptySlots = modules.filter { !$0.installed }.count
            let sizes = modules.filter(\.installed).compactMap(\.sizeBytes)
            if !sizes.isEmpty { memory.installedBytes = sizes.reduce(0, +) }
        }
        return memory
    }

    // MARK: Batteries (/sys/class/power_supply + SMBIOS type 22)

    func readBatteries(smbios: [SMBIOSDecoder.PortableBattery]) -> [BatteryInfo] {
        let base = "/sys/class/power_supply"
        var batteries: [BatteryInfo] = []
        for name in entries(base) {
            let directory = "\(base)/\(name)"
            guard text("\(directory)/type") == "Battery" else { continue }
            // A mouse's or headset's battery has scope "Device": not part of the PC.
            if text("\(directory)/scope") == "Device" { continue }
            func number(_ attribute: String) -> UInt64? { text("\(directory)/\(attribute)").flatMap { UInt64($0) } }
            var battery = BatteryInfo(name: name, manufacturer: text("\(directory)/manufacturer").flatMap(SMBIOSDecoder.meaningful),
                                      model: text("\(directory)/model_name").flatMap(SMBIOSDecoder.meaningful),
                                      serial: text("\(directory)/serial_number").flatMap(SMBIOSDecoder.meaningful),
                                      technology: text("\(directory)/technology").map(BatteryTechnology.code), source: "power_supply")
            // energy_* (µWh) when the battery reports them, else charge_* (µAh).
            for measure in ["energy", "charge"] {
                guard let full = number("\(measure)_full"), let design = number("\(measure)_full_design") else { continue }
                battery.measure = measure
                battery.fullCapacity = full
                battery.designCapacity = design
                if design > 0, full > 0 { battery.healthPercent = Int((Double(full) / Double(design) * 100).rounded()) }
                break
            }
            // cycle_count 0 is what many firmwares report when they do not count.
            battery.cycleCount = number("cycle_count").flatMap { $0 == 0 ? nil : Int($0) }
            battery.chargePercent = number("capacity").map { Int($0) }
            battery.status = text("\(directory)/status").map { $0.lowercased().replacingOccurrences(of: " ", with: "_") }
            batteries.append(battery)
        }
        for (index, firmware) in smbios.enumerated() {
            if index < batteries.count {
                batteries[index].smbiosDesignCapacityMWh = firmware.designCapacityMWh
                batteries[index].manufacturer = batteries[index].manufacturer ?? firmware.manufacturer
                batteries[index].model = batteries[index].model ?? firmware.deviceName
                batteries[index].serial = batteries[index].serial ?? firmware.serial
                if batteries[index].technology == nil || batteries[index].technology == "unknown" {
                    batteries[index].technology = firmware.chemistry ?? batteries[index].technology
                }
                batteries[index].source = "power_supply+smbios"
            } else {
                batteries.append(BatteryInfo(name: "smbios-\(index)", manufacturer: firmware.manufacturer, model: firmware.deviceName,
                                             serial: firmware.serial, technology: firmware.chemistry,
                                             smbiosDesignCapacityMWh: firmware.designCapacityMWh, source: "smbios"))
            }
        }
        return batteries
    }

    // MARK: Screens (/sys/class/drm/*/edid)

    func readScreens(warnings: inout [InventoryWarning]) -> [ScreenInfo] {
        let base = "/sys/class/drm"
        var screens: [ScreenInfo] = []
        for connector in entries(base) where connector.hasPrefix("card") && connector.contains("-") {
            // A disconnected connector has an empty edid file.
            guard let edidBytes = bytes("\(base)/\(connector)/edid"), !edidBytes.isEmpty else { continue }
            let kind = connector.split(separator: "-").dropFirst().first.map(String.init) ?? ""
            let isInternal = ["eDP", "LVDS", "DSI"].contains(kind)
            let edid = EDID(bytes: edidBytes)
            if let error = edid.error {
                warnings.append(InventoryWarning(code: error, subject: connector))
                screens.append(ScreenInfo(connector: connector, builtIn: isInternal, checksumValid: false, error: error))
                continue
            }
            if !edid.checksumValid { warnings.append(InventoryWarning(code: "edid_checksum", subject: connector)) }
            screens.append(ScreenInfo(
                connector: connector, builtIn: isInternal, manufacturerID: edid.manufacturerID,
                manufacturerName: edid.manufacturerID.flatMap { hardwareDatabase.pnpVendor($0) },
                model: edid.name ?? edid.texts.last, productCode: edid.productCode.map { String(format: "0x%04x", $0) },
                serial: edid.serialString ?? edid.serialNumber.map(String.init), manufactureYear: edid.year,
                widthCm: edid.widthCm, heightCm: edid.heightCm, diagonalInches: edid.diagonalInches,
                nativeWidth: edid.nativeWidth, nativeHeight: edid.nativeHeight, edidVersion: edid.version,
                checksumValid: edid.checksumValid))
        }
        return screens
    }

    // MARK: GPUs (/sys/bus/pci/devices, class 03xxxx)

    func readGPUs() -> [PCIDeviceInfo] {
        let base = "/sys/bus/pci/devices"
        return entries(base).compactMap { address in
            guard let pciClass = text("\(base)/\(address)/class"), pciClass.lowercased().hasPrefix("0x03") else { return nil }
            let vendorID = text("\(base)/\(address)/vendor").map(Self.hexID)
            let deviceID = text("\(base)/\(address)/device").map(Self.hexID)
            var names: (vendor: String?, model: String?) = (nil, nil)
            if let vendorID, let deviceID { names = hardwareDatabase.names(bus: "pci", vendorID: vendorID, deviceID: deviceID) }
            return PCIDeviceInfo(address: address, vendorID: vendorID, deviceID: deviceID, vendor: names.vendor, model: names.model,
                                 driver: linkName("\(base)/\(address)/driver"))
        }
    }

    /// `0x8086` → `8086`.
    static func hexID(_ text: String) -> String {
        let lower = text.lowercased()
        return lower.hasPrefix("0x") ? String(lower.dropFirst(2)) : lower
    }

    // MARK: Network interfaces (/sys/class/net)

    func readNetworkInterfaces() -> [NetworkInterfaceInfo] {
        let base = "/sys/class/net"
        return entries(base).compactMap { name in
            let directory = "\(base)/\(name)"
            // Only interfaces backed by a device (not lo, bridges, tunnels, veth…).
            guard exists("\(directory)/device") else { return nil }
            let kind: String
            if exists("\(directory)/wireless") || exists("\(directory)/phy80211") {
                kind = "wifi"
            } else if text("\(directory)/type") == "1" {
                kind = "ethernet"
            } else {
                kind = "other"
            }
            var bus = "other"
            var vendorID: String?, deviceID: String?
            // The bus the device sits on (`device/subsystem` → /sys/bus/NAME).
            let subsystem = linkName("\(directory)/device/subsystem")
            if subsystem == "virtio" {
                // A virtio NIC: the names are those of the PCI function carrying it (its parent).
                bus = "virtio"
                if let vendor = text("\(directory)/device/../vendor"), let device = text("\(directory)/device/../device") {
                    vendorID = Self.hexID(vendor)
                    deviceID = Self.hexID(device)
                }
            } else if subsystem == nil || subsystem == "pci", let vendor = text("\(directory)/device/vendor"),
                      let device = text("\(directory)/device/device") {
                bus = "pci"
                vendorID = Self.hexID(vendor)
                deviceID = Self.hexID(device)
            } else if let modalias = text("\(directory)/device/modalias"), modalias.hasPrefix("usb:v"), modalias.count >= 15 {
                // usb:vVVVVpPPPP… (the interface's modalias carries the device ids).
                bus = "usb"
                let characters = Array(modalias)
                vendorID = String(characters[5..<9]).lowercased()
                deviceID = String(characters[10..<14]).lowercased()
            }
            var names: (vendor: String?, model: String?) = (nil, nil)
            if let vendorID, let deviceID { names = hardwareDatabase.names(bus: bus == "usb" ? "usb" : "pci", vendorID: vendorID, deviceID: deviceID) }
            return NetworkInterfaceInfo(name: name, kind: kind, macAddress: text("\(directory)/address")?.lowercased(), bus: bus,
                                        vendorID: vendorID, deviceID: deviceID, vendor: names.vendor, model: names.model,
                                        driver: linkName("\(directory)/device/driver"))
        }
    }

    // MARK: Drives (DeviceKit)

    func readDrives() -> [DriveInfo] {
        let scanner = DeviceScanner(sysroot: sysroot, probesSignatures: false)
        return scanner.scan().compactMap { device in
            guard !device.transport.isVirtual, device.transport != .optical, device.sizeInBytes > 0 else { return nil }
            return DriveInfo(name: device.name, model: device.model, serial: device.serial, wwn: device.wwn, sizeBytes: device.sizeInBytes,
                             transport: device.transport.rawValue, media: device.rotational ? "hdd" : "ssd",
                             removable: device.removable)
        }
    }
}

/// `/sys/class/power_supply/*/technology` values (the kernel's POWER_SUPPLY_TECHNOLOGY_* texts)
/// as stable codes.
enum BatteryTechnology {
    static func code(_ text: String) -> String {
        switch text.lowercased().replacingOccurrences(of: " ", with: "").replacingOccurrences(of: "_", with: "-") {
        case "li-ion", "lion", "lithium-ion", "lithiumion": "li_ion"
        case "li-poly", "lipoly", "lip", "lithiumpolymer", "lithium-polymer": "li_poly"
        case "nimh": "nimh"
        case "nicd": "nicd"
        case "life": "life"
        case "limn": "limn"
        case "pbac", "leadacid", "lead-acid": "lead_acid"
        case "unknown", "": "unknown"
        default: "other"
        }
    }
}
