import Foundation

/// Lists whole-disk block devices with everything known about them and a safety verdict.
///
/// Sysfs (under `sysroot`) is the base; the udev database, when udevd runs, refines model,
/// serial and WWN; libblkid adds partition tables and signatures. Replayed trees (tests) use
/// neither udev nor libblkid, since their device nodes do not exist.
public struct DeviceScanner: Sendable {
    public let reader: SysfsReader
    public let probesSignatures: Bool
    public let usesUdev: Bool

    public init(sysroot: String = "/", probesSignatures: Bool? = nil, usesUdev: Bool? = nil) {
        reader = SysfsReader(sysroot: sysroot)
        self.probesSignatures = probesSignatures ?? (sysroot == "/")
        self.usesUdev = usesUdev ?? (sysroot == "/")
    }

    /// Every whole disk, classified under `policy`. Blocks briefly on sysfs reads and blkid
    /// probes (read-only opens); call from a thread that may block.
    ///
    /// `probing` limits the libblkid probes to those names (the daemon looks at one node per
    /// hot-plug event); every disk is still read from sysfs, since classification needs them all.
    public func scan(policy: SafetyPolicy = SafetyPolicy(), probing: Set<String>? = nil) -> [BlockDeviceInfo] {
        var devices = reader.blockDeviceNames().compactMap(reader.readDevice(named:))
        if usesUdev {
            let udev = UdevProperties.values(for: devices.map(\.name))
            for index in devices.indices {
                guard let values = udev[devices[index].name] else { continue }
                Self.refine(&devices[index], with: values)
            }
        }
        if probesSignatures {
            for index in devices.indices where devices[index].sizeInBytes > 0 && devices[index].transport != .optical
                && probing.map({ $0.contains(devices[index].name) }) ?? true {
                guard let result = try? SignatureProbe.probe(path: devices[index].path) else { continue }
                Self.merge(result, into: &devices[index])
            }
        }
        let safety = makeSafety(devices: devices)
        for index in devices.indices {
            devices[index].verdict = safety.classify(devices[index], policy: policy)
            devices[index].mountPoints = safety.context.mounts
                .filter { safety.disks(underlying: $0).contains(devices[index].name) }
                .map(\.mountPoint)
        }
        return devices
    }

    /// One whole disk, classified under `policy`: what `classify` and the claim need.
    ///
    /// Classification needs every disk, but only for their device numbers, partitions and
    /// dm/md slaves (to find which disk a mount, a swap or a kernel parameter rests on): the
    /// others are read that far only, and only this one is read in full, refined from udev and
    /// probed by libblkid. The verdict and mount points are the ones `scan` gives; reading
    /// every attribute of every disk twice per claimed drive made start-up and the first
    /// seconds of a 16-drive run grow with the number of disks on the machine.
    public func device(named name: String, policy: SafetyPolicy = SafetyPolicy()) -> BlockDeviceInfo? {
        var devices: [BlockDeviceInfo] = []
        var target: Int?
        for other in reader.blockDeviceNames() {
            if other == name {
                guard let device = reader.readDevice(named: other) else { return nil }
                target = devices.count
                devices.append(device)
            } else if let device = reader.readTopology(named: other) {
                devices.append(device)
            }
        }
        guard let index = target else { return nil }
        if usesUdev, let values = UdevProperties.values(for: [name])[name] {
            Self.refine(&devices[index], with: values)
        }
        if probesSignatures, devices[index].sizeInBytes > 0, devices[index].transport != .optical,
           let result = try? SignatureProbe.probe(path: devices[index].path) {
            Self.merge(result, into: &devices[index])
        }
        let safety = makeSafety(devices: devices)
        var device = devices[index]
        device.verdict = safety.classify(device, policy: policy)
        device.mountPoints = safety.context.mounts
            .filter { safety.disks(underlying: $0).contains(name) }
            .map(\.mountPoint)
        return device
    }

    /// The classifier over the current state of the system.
    public func makeSafety(devices: [BlockDeviceInfo]) -> DriveSafety {
        var slaves: [String: [String]] = [:]
        for device in devices where device.transport == .dm || device.transport == .md {
            slaves[device.name] = reader.entries("slaves", of: device.name)
        }
        let resolve: @Sendable (String, String) -> String?
        if reader.sysroot == "/" {
            resolve = { tag, value in SignatureProbe.resolveTag(tag, value) }
        } else {
            resolve = { _, _ in nil }
        }
        return DriveSafety(devices: devices, context: SystemContext.read(from: reader), slaves: slaves, resolveTag: resolve)
    }

    /// The whole disk a partition belongs to, if `name` is one (`sdb1` → `sdb`).
    public func disk(containingPartition name: String) -> String? {
        for disk in reader.blockDeviceNames() where reader.partitionNames(of: disk).contains(name) {
            return disk
        }
        return nil
    }

    /// The udev database's names win over sysfs's where it has them.
    static func refine(_ device: inout BlockDeviceInfo, with values: UdevProperties.Values) {
        device.model = values.model ?? device.model
        device.serial = values.serial ?? device.serial
        device.wwn = values.wwn ?? device.wwn
        device.firmwareRevision = values.revision ?? device.firmwareRevision
    }

    static func merge(_ result: SignatureProbeResult, into device: inout BlockDeviceInfo) {
        device.partitionTableType = result.partitionTableType
        device.wholeDiskSignature = result.wholeDiskSignature
        for (number, signature) in result.partitionSignatures {
            if let index = device.partitions.firstIndex(where: { $0.number == number }) {
                device.partitions[index].signature = signature
            }
        }
        // The kernel may not have scanned the table (no partition nodes yet): list what
        // libblkid found anyway, under the name the kernel would give.
        for (number, offset) in result.partitionOffsets where !device.partitions.contains(where: { $0.number == number }) {
            let separator = device.name.last?.isNumber == true ? "p" : ""
            device.partitions.append(PartitionInfo(
                name: "\(device.name)\(separator)\(number)", number: number, deviceNumber: nil,
                startSector: offset / 512, sizeInBytes: result.partitionSizes[number] ?? 0,
                signature: result.partitionSignatures[number], holders: []))
        }
        device.partitions.sort { $0.number < $1.number }
    }
}
