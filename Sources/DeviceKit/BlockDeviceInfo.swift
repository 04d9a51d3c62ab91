/// How a drive is attached, as lsblk's `TRAN` column names it.
public enum Transport: String, Sendable, Codable, CaseIterable {
    case sata, ata, sas, scsi, nvme, usb, mmc, virtio, loop, ram, zram, dm, md, nbd, optical, unknown

    /// Virtual devices: nothing physical to hand to a donor.
    public var isVirtual: Bool {
        switch self {
        case .loop, .ram, .zram, .dm, .md, .nbd: true
        default: false
        }
    }
}

/// A partition of a whole disk, as sysfs and libblkid describe it.
public struct PartitionInfo: Sendable, Hashable, Codable {
    public var name: String
    /// The partition number (sysfs `partition`, libblkid's partno).
    public var number: Int
    public var deviceNumber: DeviceNumber?
    /// First sector, in 512-byte units (sysfs `start`).
    public var startSector: UInt64
    public var sizeInBytes: UInt64
    /// Filesystem or other signature found by libblkid (`ext4`, `vfat`, `swap`…).
    public var signature: String?
    public var holders: [String]
}

/// One whole-disk block device: everything `ardoise list` shows and classification uses.
public struct BlockDeviceInfo: Sendable, Hashable {
    public var name: String
    public var path: String
    public var deviceNumber: DeviceNumber
    public var sizeInBytes: UInt64
    public var transport: Transport
    public var rotational: Bool
    public var vendor: String?
    public var model: String?
    public var serial: String?
    public var wwn: String?
    public var firmwareRevision: String?
    public var logicalSectorSize: Int
    public var physicalSectorSize: Int
    public var diskSequence: UInt64?
    public var removable: Bool
    public var readOnly: Bool
    public var holders: [String]
    public var partitions: [PartitionInfo]
    /// Partition table type found by libblkid (`gpt`, `dos`), nil when none or not probed.
    public var partitionTableType: String?
    /// Signatures on the whole disk (a filesystem made without a partition table).
    public var wholeDiskSignature: String?
    /// Where the disk or one of its partitions is mounted.
    public var mountPoints: [String]
    /// For loop devices, the file behind them.
    public var backingFile: String?
    public var verdict: SafetyVerdict

    /// The identity a job pins itself to.
    public var identity: DriveIdentity {
        DriveIdentity(model: model, serial: serial, wwn: wwn, sizeInBytes: sizeInBytes,
                      diskSequence: diskSequence, deviceNumber: deviceNumber)
    }

    /// Every signature libblkid found, the whole disk's first.
    public var signatures: [String] {
        ([wholeDiskSignature] + partitions.map(\.signature)).compactMap { $0 }
    }
}
