import Foundation

/// A kernel device number (`major:minor`).
public struct DeviceNumber: Sendable, Hashable, Codable, CustomStringConvertible {
    public var major: UInt32
    public var minor: UInt32

    public init(major: UInt32, minor: UInt32) {
        self.major = major
        self.minor = minor
    }

    /// Parses sysfs's `dev` attribute (`8:16`).
    public init?(sysfs text: String) {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":")
        guard parts.count == 2, let major = UInt32(parts[0]), let minor = UInt32(parts[1]) else { return nil }
        self.init(major: major, minor: minor)
    }

    /// From a `dev_t` as `stat` returns it (glibc's `gnu_dev_major`/`gnu_dev_minor` encoding).
    public init(rawDevice: UInt64) {
        let major = ((rawDevice >> 32) & 0xFFFF_F000) | ((rawDevice >> 8) & 0x0000_0FFF)
        let minor = ((rawDevice >> 12) & 0xFFFF_FF00) | (rawDevice & 0x0000_00FF)
        self.init(major: UInt32(truncatingIfNeeded: major), minor: UInt32(truncatingIfNeeded: minor))
    }

    public var description: String { "\(major):\(minor)" }
}

/// What binds a job to one physical medium.
///
/// `diskseq` (Linux ≥ 5.15, `/sys/block/X/diskseq`) is a counter the kernel bumps whenever a
/// new medium appears on a node — a re-attached loop device, a swapped USB stick — so two
/// identities with different `diskseq` are different media even if the rest looks alike.
public struct DriveIdentity: Sendable, Hashable, Codable, CustomStringConvertible {
    public var model: String?
    public var serial: String?
    public var wwn: String?
    public var sizeInBytes: UInt64
    public var diskSequence: UInt64?
    public var deviceNumber: DeviceNumber

    public init(model: String?, serial: String?, wwn: String?, sizeInBytes: UInt64, diskSequence: UInt64?, deviceNumber: DeviceNumber) {
        self.model = model
        self.serial = serial
        self.wwn = wwn
        self.sizeInBytes = sizeInBytes
        self.diskSequence = diskSequence
        self.deviceNumber = deviceNumber
    }

    /// Returns nil when `current` is the same medium, else what differs (for the message).
    ///
    /// Every known field must match. A field unknown on either side (no serial on a loop
    /// device) is not evidence of sameness, but `diskseq` and the size are always known on
    /// the kernels we support, so a swap is never missed.
    public func difference(from current: DriveIdentity) -> String? {
        var differences: [String] = []
        if deviceNumber != current.deviceNumber { differences.append("device \(deviceNumber) → \(current.deviceNumber)") }
        if diskSequence != current.diskSequence {
            differences.append("diskseq \(diskSequence.map(String.init) ?? "?") → \(current.diskSequence.map(String.init) ?? "?")")
        }
        if sizeInBytes != current.sizeInBytes { differences.append("size \(sizeInBytes) → \(current.sizeInBytes)") }
        if serial != current.serial { differences.append("serial \(serial ?? "-") → \(current.serial ?? "-")") }
        if wwn != current.wwn { differences.append("wwn \(wwn ?? "-") → \(current.wwn ?? "-")") }
        if model != current.model { differences.append("model \(model ?? "-") → \(current.model ?? "-")") }
        return differences.isEmpty ? nil : differences.joined(separator: ", ")
    }

    /// True when `current` is the same medium as the one this identity was taken from.
    public func stillSameDrive(_ current: DriveIdentity) -> Bool {
        difference(from: current) == nil
    }

    public var description: String {
        "\(model ?? "?") serial=\(serial ?? "-") wwn=\(wwn ?? "-") size=\(sizeInBytes) diskseq=\(diskSequence.map(String.init) ?? "-") dev=\(deviceNumber)"
    }
}
