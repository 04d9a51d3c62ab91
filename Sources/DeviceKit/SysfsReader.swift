import Foundation

/// Reads block-device attributes from sysfs under a `sysroot`, as `lsblk --sysroot` does,
/// so tests replay captured trees and production reads `/`.
public struct SysfsReader: Sendable {
    /// The directory that stands for `/` (`"/"` in production).
    public let sysroot: String

    public init(sysroot: String = "/") {
        self.sysroot = sysroot
    }

    /// `sysroot` joined with an absolute path.
    public func path(_ absolute: String) -> String {
        sysroot == "/" ? absolute : (sysroot as NSString).appendingPathComponent(absolute)
    }

    /// Whole-disk names under `/sys/block`, sorted like lsblk (by name).
    public func blockDeviceNames() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path("/sys/block"))) ?? []
        return names.sorted(by: Self.naturalOrder)
    }

    /// An attribute's text with surrounding whitespace removed; nil when absent or empty.
    public func attribute(_ name: String, of device: String) -> String? {
        string(atPath: path("/sys/block/\(device)/\(name)"))
    }

    /// The raw bytes of a binary attribute (`device/vpd_pg80`).
    public func binaryAttribute(_ name: String, of device: String) -> [UInt8]? {
        guard let data = FileManager.default.contents(atPath: path("/sys/block/\(device)/\(name)")) else { return nil }
        return [UInt8](data)
    }

    public func string(atPath path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path),
              let text = String(data: data, encoding: .utf8) ?? String(data: data, encoding: .isoLatin1) else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines.union(.controlCharacters))
        return trimmed.isEmpty ? nil : trimmed
    }

    public func integer(_ name: String, of device: String) -> UInt64? {
        attribute(name, of: device).flatMap { UInt64($0) }
    }

    /// Entries of a sysfs directory attribute (`holders`, `slaves`), sorted.
    public func entries(_ name: String, of device: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path("/sys/block/\(device)/\(name)"))) ?? [])
            .filter { !$0.hasPrefix(".") }  // captured trees keep empty directories with a dotfile
            .sorted()
    }

    /// The `/sys/devices/...` path the `/sys/block/X` link points to (relative links resolved
    /// inside the sysroot). Transport detection reads it the way lsblk does.
    public func devicePath(of device: String) -> String {
        let link = path("/sys/block/\(device)")
        return URL(fileURLWithPath: link).resolvingSymlinksInPath().path
    }

    /// Partitions of `device`: the subdirectories holding a `partition` attribute. The kernel
    /// names a partition after its disk (`sda1`, `nvme0n1p2`, `loop0p1`), so only those
    /// children are looked at (the others are attributes: `size`, `queue`, `holders`…).
    public func partitionNames(of device: String) -> [String] {
        let base = path("/sys/block/\(device)")
        let children = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
        return children.filter { child in
            child.hasPrefix(device) && FileManager.default.fileExists(atPath: "\(base)/\(child)/partition")
        }.sorted(by: Self.naturalOrder)
    }

    /// `sda2` before `sda10`.
    static func naturalOrder(_ lhs: String, _ rhs: String) -> Bool {
        lhs.compare(rhs, options: [.numeric]) == .orderedAscending
    }
}

extension SysfsReader {
    /// Reads every sysfs fact about one whole disk; verdict and blkid fields are left empty.
    public func readDevice(named name: String) -> BlockDeviceInfo? {
        guard let deviceNumber = attribute("dev", of: name).flatMap(DeviceNumber.init(sysfs:)) else { return nil }
        let devicePath = devicePath(of: name)
        let transport = Self.transport(name: name, devicePath: devicePath)
        let sectors = integer("size", of: name) ?? 0  // always 512-byte units, whatever the device
        var info = BlockDeviceInfo(
            name: name, path: "/dev/\(name)", deviceNumber: deviceNumber,
            sizeInBytes: sectors * 512, transport: transport,
            rotational: integer("queue/rotational", of: name) == 1,
            // virtio and NVMe expose a PCI vendor id there ("0x1af4"), not a name.
            vendor: attribute("device/vendor", of: name).flatMap { $0.hasPrefix("0x") ? nil : $0 },
            model: attribute("device/model", of: name) ?? attribute("device/name", of: name),
            serial: serial(of: name, transport: transport, devicePath: devicePath),
            wwn: wwn(of: name),
            firmwareRevision: attribute("device/firmware_rev", of: name) ?? attribute("device/rev", of: name)
                ?? attribute("device/fwrev", of: name),
            logicalSectorSize: Int(integer("queue/logical_block_size", of: name) ?? 512),
            physicalSectorSize: Int(integer("queue/physical_block_size", of: name) ?? 512),
            diskSequence: integer("diskseq", of: name),
            removable: integer("removable", of: name) == 1,
            readOnly: integer("ro", of: name) == 1,
            holders: entries("holders", of: name),
            partitions: [], partitionTableType: nil, wholeDiskSignature: nil, mountPoints: [],
            backingFile: attribute("loop/backing_file", of: name),
            verdict: .wipeable)
        info.partitions = partitionNames(of: name).map { part in
            PartitionInfo(
                name: part,
                number: Int(integer("\(part)/partition", of: name) ?? 0),
                deviceNumber: attribute("\(part)/dev", of: name).flatMap(DeviceNumber.init(sysfs:)),
                startSector: integer("\(part)/start", of: name) ?? 0,
                sizeInBytes: (integer("\(part)/size", of: name) ?? 0) * 512,
                signature: nil,
                holders: entries("\(part)/holders", of: name))
        }
        return info
    }

    /// What classifying *another* disk needs of this one: its device number, its partitions'
    /// names and numbers, and a transport good enough to tell dm and md (by name). Identity,
    /// geometry and holders are left empty: `DeviceScanner.device(named:)` reads them in full
    /// only for the disk it classifies.
    public func readTopology(named name: String) -> BlockDeviceInfo? {
        guard let deviceNumber = attribute("dev", of: name).flatMap(DeviceNumber.init(sysfs:)) else { return nil }
        var info = BlockDeviceInfo(
            name: name, path: "/dev/\(name)", deviceNumber: deviceNumber, sizeInBytes: 0,
            transport: Self.transport(name: name, devicePath: ""), rotational: false,
            vendor: nil, model: nil, serial: nil, wwn: nil, firmwareRevision: nil,
            logicalSectorSize: 512, physicalSectorSize: 512, diskSequence: nil,
            removable: false, readOnly: false, holders: [],
            partitions: [], partitionTableType: nil, wholeDiskSignature: nil, mountPoints: [],
            backingFile: nil, verdict: .wipeable)
        info.partitions = partitionNames(of: name).map { part in
            PartitionInfo(
                name: part,
                number: Int(integer("\(part)/partition", of: name) ?? 0),
                deviceNumber: attribute("\(part)/dev", of: name).flatMap(DeviceNumber.init(sysfs:)),
                startSector: 0, sizeInBytes: 0, signature: nil, holders: [])
        }
        return info
    }

    /// The transport, decided from the device name and the `/sys/devices` path the way
    /// util-linux's lsblk `get_transport()` does.
    static func transport(name: String, devicePath: String) -> Transport {
        if name.hasPrefix("loop") { return .loop }
        if name.hasPrefix("zram") { return .zram }
        if name.hasPrefix("ram") { return .ram }
        if name.hasPrefix("dm-") { return .dm }
        if name.hasPrefix("md") { return .md }
        if name.hasPrefix("nbd") { return .nbd }
        if name.hasPrefix("sr") { return .optical }
        if name.hasPrefix("nvme") || devicePath.contains("/nvme/") { return .nvme }
        if name.hasPrefix("mmcblk") || devicePath.contains("/mmc_host/") { return .mmc }
        if devicePath.contains("/usb") { return .usb }
        if devicePath.contains("/sas_") || devicePath.contains("/end_device-") || devicePath.contains("/expander-") { return .sas }
        if devicePath.contains("/ata") { return .sata }
        if name.hasPrefix("vd") || devicePath.contains("/virtio") { return .virtio }
        if name.hasPrefix("sd") || name.hasPrefix("st") { return .scsi }
        return .unknown
    }

    /// The serial: NVMe and virtio expose it directly; SCSI and SATA disks (behind libata's
    /// SAT) through the Unit Serial Number VPD page (SPC-5 §7.7.18, page 80h: 4-byte header,
    /// then the ASCII serial); USB sticks also through the USB device's `serial` above them.
    func serial(of name: String, transport: Transport, devicePath: String) -> String? {
        if let serial = attribute("device/serial", of: name) ?? attribute("serial", of: name) { return serial }
        if let page = binaryAttribute("device/vpd_pg80", of: name), page.count > 4, page[1] == 0x80 {
            let length = Int(page[2]) << 8 | Int(page[3])
            let bytes = page[4..<min(page.count, 4 + length)].filter { $0 != 0 }
            let serial = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            if !serial.isEmpty { return serial }
        }
        if transport == .usb {
            var url = URL(fileURLWithPath: devicePath)
            while url.path.count > 1 {
                url.deleteLastPathComponent()
                if FileManager.default.fileExists(atPath: url.appendingPathComponent("idVendor").path) {
                    return string(atPath: url.appendingPathComponent("serial").path)
                }
            }
        }
        return nil
    }

    /// The world-wide name: `wwid` without its designator prefix when it is a NAA or EUI name
    /// (SPC-5 §7.7.6.6 designator types 3 and 2), as udev's `ID_WWN` reports it.
    func wwn(of name: String) -> String? {
        guard let wwid = attribute("wwid", of: name) ?? attribute("device/wwid", of: name) else { return nil }
        for prefix in ["naa.", "eui."] where wwid.hasPrefix(prefix) {
            return "0x" + wwid.dropFirst(prefix.count).lowercased()
        }
        return nil
    }
}
