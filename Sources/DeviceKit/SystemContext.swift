import Foundation

/// What the running system uses: mounts, swap, the kernel command line.
///
/// Read from `/proc` under the same `sysroot` as sysfs, so captured trees replay whole.
public struct SystemContext: Sendable {
    public struct Mount: Sendable, Hashable {
        public var deviceNumber: DeviceNumber?
        public var mountPoint: String
        public var source: String
        public var filesystemType: String
    }

    public var mounts: [Mount]
    /// Swap areas (`/proc/swaps` first column): device paths or files.
    public var swaps: [String]
    /// `key=value` words of `/proc/cmdline`.
    public var kernelParameters: [(key: String, value: String)]

    public init(mounts: [Mount], swaps: [String], kernelParameters: [(key: String, value: String)]) {
        self.mounts = mounts
        self.swaps = swaps
        self.kernelParameters = kernelParameters
    }

    /// Reads `proc/self/mountinfo`, `proc/swaps` and `proc/cmdline` under the sysroot.
    public static func read(from reader: SysfsReader) -> SystemContext {
        let mountinfo = reader.string(atPath: reader.path("/proc/self/mountinfo")) ?? ""
        let swaps = reader.string(atPath: reader.path("/proc/swaps")) ?? ""
        let cmdline = reader.string(atPath: reader.path("/proc/cmdline")) ?? ""
        return SystemContext(mounts: parseMountInfo(mountinfo), swaps: parseSwaps(swaps),
                             kernelParameters: parseCommandLine(cmdline))
    }

    /// proc(5) mountinfo: `id parent maj:min root mountpoint options [optional…] - fstype source superoptions`.
    static func parseMountInfo(_ text: String) -> [Mount] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard fields.count >= 7, let separator = fields.firstIndex(of: "-"), separator + 2 < fields.count else { return nil }
            return Mount(deviceNumber: DeviceNumber(sysfs: fields[2]), mountPoint: unescape(fields[4]),
                         source: unescape(fields[separator + 2]), filesystemType: fields[separator + 1])
        }
    }

    /// `/proc/swaps`: a header line, then `Filename Type Size Used Priority`.
    static func parseSwaps(_ text: String) -> [String] {
        text.split(separator: "\n").dropFirst().compactMap { line in
            line.split(separator: " ", omittingEmptySubsequences: true).first.map { unescape(String($0)) }
        }
    }

    static func parseCommandLine(_ text: String) -> [(key: String, value: String)] {
        text.split(whereSeparator: \.isWhitespace).compactMap { word -> (key: String, value: String)? in
            let parts = word.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { return nil }
            return (String(parts[0]), String(parts[1]))
        }
    }

    /// The kernel escapes space, tab, newline and backslash as `\ooo` octal in these files.
    static func unescape(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.count >= 3,
               let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The mount point under which `path` lives (longest prefix), for the data directory.
    public func mount(containing path: String) -> Mount? {
        let standardized = (path as NSString).standardizingPath
        return mounts
            .filter { standardized == $0.mountPoint || standardized.hasPrefix($0.mountPoint == "/" ? "/" : $0.mountPoint + "/") }
            .max { $0.mountPoint.count < $1.mountPoint.count }
    }
}

/// Mount points that mean "this is the system the bench runs from".
enum SystemMountPoints {
    static let boot: Set<String> = ["/boot", "/boot/efi", "/efi"]
    /// Where Debian live-boot, dracut, casper and archiso mount the medium they booted from.
    static let liveMedium: Set<String> = [
        "/run/live/medium", "/lib/live/mount/medium", "/run/initramfs/live", "/cdrom",
        "/run/archiso/bootmnt", "/run/live/persistence",
    ]
    /// Kernel parameters that name the boot or root device.
    static let kernelParameters: Set<String> = ["root", "boot", "live-media", "bootfrom", "resume", "rd.live.image"]
}
