import Foundation

/// What the caller allows beyond the default rules.
public struct SafetyPolicy: Sendable, Hashable {
    /// Lets loop devices through (tests and the demo). Other virtual devices stay protected.
    public var allowVirtual: Bool
    /// Ardoise's data directory (journal, keys): the drive holding it is never erased.
    public var dataDirectory: String?
    /// With `allowVirtual`, only loop devices whose backing file lies in this directory are
    /// allowed: a daemon in auto mode must not take loop devices other programs attached.
    public var loopBackingDirectory: String?

    public init(allowVirtual: Bool = false, dataDirectory: String? = nil, loopBackingDirectory: String? = nil) {
        self.allowVirtual = allowVirtual
        self.dataDirectory = dataDirectory
        self.loopBackingDirectory = loopBackingDirectory
    }
}

/// The one place that decides whether a drive may be erased. Every write path asks it.
public struct DriveSafety: Sendable {
    public let devices: [BlockDeviceInfo]
    public let context: SystemContext
    /// Resolves `UUID=`/`LABEL=`/`PARTUUID=` tags of the kernel command line to a device path.
    let resolveTag: @Sendable (String, String) -> String?

    /// `slaves/` of dm and md devices, so mounts on LVM or RAID reach their disks.
    let slaves: [String: [String]]

    public init(devices: [BlockDeviceInfo], context: SystemContext, slaves: [String: [String]] = [:],
                resolveTag: @escaping @Sendable (String, String) -> String? = { _, _ in nil }) {
        self.devices = devices
        self.context = context
        self.slaves = slaves
        self.resolveTag = resolveTag
    }

    /// The verdict for one disk of `devices`, with every reason that applies.
    public func classify(_ device: BlockDeviceInfo, policy: SafetyPolicy) -> SafetyVerdict {
        var reasons: [ProtectionReason] = []
        var otherMounts: [String] = []
        for mount in context.mounts where disks(underlying: mount).contains(device.name) {
            if mount.mountPoint == "/" {
                reasons.append(.rootFilesystem)
            } else if SystemMountPoints.boot.contains(mount.mountPoint) {
                reasons.append(.bootFilesystem(mountPoint: mount.mountPoint))
            } else if SystemMountPoints.liveMedium.contains(mount.mountPoint) {
                reasons.append(.liveMedium(mountPoint: mount.mountPoint))
            } else {
                otherMounts.append(mount.mountPoint)
            }
        }
        if !otherMounts.isEmpty { reasons.append(.mounted(mountPoints: otherMounts)) }
        for swap in context.swaps where disks(underlyingPath: swap).contains(device.name) {
            reasons.append(.swap(device: swap))
        }
        for (key, value) in context.kernelParameters where SystemMountPoints.kernelParameters.contains(key) {
            if let path = resolveKernelDevice(value), disks(underlyingPath: path).contains(device.name) {
                reasons.append(.kernelCommandLine(parameter: "\(key)=\(value)"))
            }
        }
        let holders = device.holders + device.partitions.flatMap(\.holders)
        if !holders.isEmpty { reasons.append(.heldBy(holders: holders)) }
        if device.readOnly { reasons.append(.readOnly) }
        if device.sizeInBytes == 0 { reasons.append(.sizeZero) }
        if let dataDirectory = policy.dataDirectory, let mount = context.mount(containing: dataDirectory),
           disks(underlying: mount).contains(device.name) {
            reasons.append(.dataDirectory(path: dataDirectory))
        }
        if device.transport == .optical { reasons.append(.optical) }
        if device.transport.isVirtual, !(policy.allowVirtual && device.transport == .loop) {
            reasons.append(.virtual(kind: device.transport.rawValue))
        } else if device.transport == .loop, let directory = policy.loopBackingDirectory {
            let prefix = (directory as NSString).standardizingPath + "/"
            if !(device.backingFile.map { ($0 as NSString).standardizingPath.hasPrefix(prefix) } ?? false) {
                reasons.append(.foreignLoop(backingFile: device.backingFile ?? "-"))
            }
        }
        return reasons.isEmpty ? .wipeable : .protected(reasons)
    }

    /// The whole disks a mount rests on, through partitions, device-mapper and md.
    func disks(underlying mount: SystemContext.Mount) -> Set<String> {
        if let number = mount.deviceNumber, let name = name(of: number) {
            return disks(underlyingName: name)
        }
        return disks(underlyingPath: mount.source)
    }

    func disks(underlyingPath path: String) -> Set<String> {
        guard path.hasPrefix("/dev/") else { return [] }
        var resolved = path
        if !path.hasPrefix("/dev/loop"), let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
            // /dev/mapper/vg-root → ../dm-0, /dev/disk/by-uuid/… → ../../sda1
            resolved = URL(fileURLWithPath: target, relativeTo: URL(fileURLWithPath: path).deletingLastPathComponent()).standardized.path
        }
        return disks(underlyingName: (resolved as NSString).lastPathComponent)
    }

    /// A disk is under itself; a partition is under its disk; dm/md devices are under the
    /// disks of their `slaves/`.
    func disks(underlyingName name: String, depth: Int = 0) -> Set<String> {
        guard depth < 8 else { return [] }
        if let disk = devices.first(where: { $0.name == name }) {
            var result: Set<String> = [disk.name]
            for slave in slaves[disk.name] ?? [] {
                result.formUnion(disks(underlyingName: slave, depth: depth + 1))
            }
            return result
        }
        if let disk = devices.first(where: { $0.partitions.contains { $0.name == name } }) {
            return [disk.name]
        }
        return []
    }

    func name(of number: DeviceNumber) -> String? {
        for device in devices {
            if device.deviceNumber == number { return device.name }
            if let partition = device.partitions.first(where: { $0.deviceNumber == number }) { return partition.name }
        }
        return nil
    }

    func resolveKernelDevice(_ value: String) -> String? {
        if value.hasPrefix("/dev/") { return value }
        for tag in ["UUID", "PARTUUID", "LABEL", "PARTLABEL"] where value.hasPrefix(tag + "=") {
            return resolveTag(tag, String(value.dropFirst(tag.count + 1)))
        }
        return nil
    }
}
