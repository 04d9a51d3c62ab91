import ArdoiseSupport
import CLinuxShims
import Foundation
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The former name of `ClaimedDrive`.
public typealias BlockDeviceHandle = ClaimedDrive

/// A whole disk claimed by one job: exclusive (`O_EXCL`), direct I/O, bound to one medium.
///
/// The only way to write to a drive or send it a pass-through command. Only
/// `DriveAccess.claim` (`openForWriting`) makes one, after the safety classification said yes;
/// the descriptor stays open (and the `O_EXCL` claim held) for the job's whole life: the
/// overwrite passes and the firmware purge (`passthrough()`) use this same descriptor, and the
/// node is never reopened by path within the job. Every pass-through command re-checks the
/// identity first, and I/O re-checks it periodically.
///
/// One job owns it; its reads and writes may come from several of the job's I/O threads
/// (`pread`/`pwrite` at explicit offsets on one descriptor are thread-safe), `close()` only
/// after they are done.
public final class ClaimedDrive: @unchecked Sendable {
    public let path: String
    /// What the scan saw when the handle was opened.
    public let info: BlockDeviceInfo
    /// The identity the handle is pinned to; `checkStillSameDrive()` compares with it.
    public let identity: DriveIdentity
    /// From `BLKGETSIZE64`.
    public let sizeInBytes: UInt64
    /// From `BLKSSZGET`: the smallest write the device accepts.
    public let logicalSectorSize: Int
    /// From `BLKPBSZGET`.
    public let physicalSectorSize: Int
    public let fileDescriptor: FileDescriptor
    private let reader: SysfsReader
    /// The identity as sysfs showed it at open, for like-with-like comparisons.
    private let sysfsIdentity: DriveIdentity
    private var isClosed = false
    /// Loop devices: `loop/autoclear` as it was at open. `losetup -d` on a busy loop device only
    /// sets autoclear (the kernel defers the detach to the last close), so a flip to 1 is the
    /// loop-device form of "the drive is being unplugged".
    private let autoclearAtOpen: Bool?
    /// Monotonic time of the last periodic identity check, in nanoseconds.
    private let lastPeriodicCheck = Atomic<UInt64>(DispatchTime.now().uptimeNanoseconds)
    private let checkInterval = Atomic<UInt64>(500_000_000)
    /// How often I/O re-checks that the node still holds this medium (cheap sysfs reads), in ns.
    public var periodicCheckInterval: UInt64 {
        get { checkInterval.load(ordering: .relaxed) }
        set { checkInterval.store(newValue, ordering: .relaxed) }
    }

    init(path: String, info: BlockDeviceInfo, identity: DriveIdentity, sizeInBytes: UInt64,
         logicalSectorSize: Int, physicalSectorSize: Int, fileDescriptor: FileDescriptor, reader: SysfsReader, sysfsIdentity: DriveIdentity) {
        self.path = path
        self.sysfsIdentity = sysfsIdentity
        self.info = info
        self.identity = identity
        self.sizeInBytes = sizeInBytes
        self.logicalSectorSize = logicalSectorSize
        self.physicalSectorSize = physicalSectorSize
        self.fileDescriptor = fileDescriptor
        self.reader = reader
        autoclearAtOpen = info.transport == .loop ? reader.integer("loop/autoclear", of: info.name) == 1 : nil
    }

    deinit { close() }

    public func close() {
        guard !isClosed else { return }
        isClosed = true
        try? fileDescriptor.close()
    }

    /// Writes all of `buffer` at `offset` (retrying short writes and EINTR). Blocks.
    /// The buffer must be aligned for `O_DIRECT`.
    public func writeFully(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws(DeviceError) {
        try periodicCheck()
        try check(PositionedIO.transferFully(count: buffer.count) { done in
            pwrite(fileDescriptor.rawValue, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
        }, operation: "write")
    }

    /// Fills all of `buffer` from `offset`. Blocks.
    public func readFully(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(DeviceError) {
        try periodicCheck()
        try check(PositionedIO.transferFully(count: buffer.count) { done in
            pread(fileDescriptor.rawValue, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
        }, operation: "read")
    }

    /// A transfer that returned 0 bytes means the device is gone.
    private func check(_ outcome: PositionedIO.Outcome, operation: String) throws(DeviceError) {
        switch outcome {
        case .complete: return
        case .failed(let code, _): throw ioError(operation: operation, errno: code)
        case .ended: throw DeviceError(.vanished, path: path)
        }
    }

    /// `fdatasync` on a block device also sends the drive a cache flush (the kernel's
    /// `blkdev_fsync` issues `REQ_PREFLUSH`), so written data is on the medium afterwards.
    public func flushToMedium() throws(DeviceError) {
        while fdatasync(fileDescriptor.rawValue) != 0 {
            if errno == EINTR { continue }
            throw ioError(operation: "flush", errno: errno)
        }
    }

    /// The identity the node shows now, read again from sysfs.
    public func currentIdentity() throws(DeviceError) -> DriveIdentity {
        guard let now = reader.readDevice(named: info.name) else { throw DeviceError(.vanished, path: path) }
        return now.identity
    }

    /// Throws `.identityChanged` (or `.vanished`) unless the node still holds the medium the
    /// handle was opened on. Called before every pass, every firmware command and after
    /// every I/O error.
    public func checkStillSameDrive() throws(DeviceError) {
        if autoclearAtOpen == false, reader.integer("loop/autoclear", of: info.name) == 1 {
            throw DeviceError(.vanished, path: path)
        }
        // Compare sysfs with sysfs: `identity` may carry udev's better model and serial.
        if let difference = sysfsIdentity.difference(from: try currentIdentity()) {
            throw DeviceError(.identityChanged(detail: difference), path: path)
        }
    }

    /// Pass-through (SG_IO, NVMe admin) to this drive on the claim's own descriptor. Each
    /// command first re-checks that the node still holds the claimed medium and throws
    /// `DeviceError` `.identityChanged` / `.vanished` without sending anything otherwise.
    /// The transport keeps the claim alive; call it from the job's thread.
    public func passthrough() -> PassthroughTransport {
        ClaimedPassthrough(drive: self)
    }

    /// The NVMe namespace ID of the claimed node (NVME_IOCTL_ID), nil for a non-NVMe drive.
    public func nvmeNamespaceID() -> UInt32? {
        let id = clinux_nvme_namespace_id(fileDescriptor.rawValue)
        return id > 0 ? UInt32(id) : nil
    }

    /// Between I/Os, at most every `periodicCheckInterval`: a drive pulled or swapped while
    /// its writes still succeed (a cache, a deferred loop detach) stops the job within a second.
    private func periodicCheck() throws(DeviceError) {
        let now = DispatchTime.now().uptimeNanoseconds
        let last = lastPeriodicCheck.load(ordering: .relaxed)
        guard now &- last >= periodicCheckInterval else { return }
        // One of the concurrent I/O threads wins the check; the others go on.
        guard lastPeriodicCheck.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged else { return }
        try checkStillSameDrive()
    }

    private func ioError(operation: String, errno code: Int32) -> DeviceError {
        let errno = Errno(rawValue: code)
        if DriveAccess.meansVanished(errno) { return DeviceError(.vanished, path: path, underlying: errno) }
        return DeviceError(.ioFailed(operation: operation), path: path, underlying: errno)
    }
}

/// Pass-through through a claim: identity check, then the ioctl on the claim's descriptor.
final class ClaimedPassthrough: PassthroughTransport {
    let drive: ClaimedDrive
    private let device: LinuxPassthroughDevice

    init(drive: ClaimedDrive) {
        self.drive = drive
        device = LinuxPassthroughDevice(borrowing: drive.fileDescriptor.rawValue, path: drive.path)
    }

    func scsi(_ command: ScsiCommand) throws -> ScsiResult {
        try drive.checkStillSameDrive()
        return try device.scsi(command)
    }

    func nvmeAdmin(_ command: NvmeAdminCommand, dataOut: [UInt8]) throws -> NvmeResult {
        try drive.checkStillSameDrive()
        return try device.nvmeAdmin(command, dataOut: dataOut)
    }

    func nvmeNamespaceID() -> UInt32? { device.nvmeNamespaceID() }
}

/// The one way to open a drive for writing.
public enum DriveAccess {
    /// Resolves `path` to a whole disk and classifies it (never opens it): what `check` shows,
    /// what `wipe` confirms, what the claim re-checks.
    /// - Throws: `DeviceError` for a path that is not a whole disk, or a vanished drive.
    public static func classify(_ path: String, policy: SafetyPolicy, scanner: DeviceScanner = DeviceScanner()) throws(DeviceError) -> BlockDeviceInfo {
        guard case .wholeDisk(let name, let number) = try resolveWholeDisk(path, reader: scanner.reader),
              // Only this drive is read in full and probed; the others only as far as
              // classification needs (DeviceScanner.device(named:)).
              let info = scanner.device(named: name, policy: policy), info.deviceNumber == number else {
            throw DeviceError(.vanished, path: path)
        }
        return info
    }

    /// Claims the drive for one job: `openForWriting` under the name of what it returns.
    public static func claim(_ path: String, policy: SafetyPolicy, expected: DriveIdentity? = nil,
                             scanner: DeviceScanner = DeviceScanner()) throws(DeviceError) -> ClaimedDrive {
        try openForWriting(path, policy: policy, expected: expected, scanner: scanner)
    }

    /// What a path names, checked before anything is opened.
    public enum PathKind: Sendable, Equatable {
        case wholeDisk(name: String, deviceNumber: DeviceNumber)
    }

    /// Checks that `path` names a whole disk; every other kind of path is refused with its
    /// own error (a partition names its disk). Never opens the path.
    public static func resolveWholeDisk(_ path: String, reader: SysfsReader = SysfsReader()) throws(DeviceError) -> PathKind {
        var status = stat()
        if stat(path, &status) != 0 {
            let code = Errno(rawValue: errno)
            switch code {
            case .noSuchFileOrDirectory, .notDirectory: throw DeviceError(.notFound, path: path, underlying: code)
            case .permissionDenied: throw DeviceError(.needsRoot, path: path, underlying: code)
            default: throw DeviceError(.ioFailed(operation: "stat"), path: path, underlying: code)
            }
        }
        switch status.st_mode & S_IFMT {
        case S_IFBLK: break
        case S_IFDIR: throw DeviceError(.isDirectory, path: path)
        case S_IFREG: throw DeviceError(.isRegularFile, path: path)
        case S_IFCHR: throw DeviceError(.isCharacterDevice, path: path)
        default: throw DeviceError(.notABlockDevice, path: path)
        }
        let number = DeviceNumber(rawDevice: UInt64(status.st_rdev))
        let sysfsPath = URL(fileURLWithPath: reader.path("/sys/dev/block/\(number)")).resolvingSymlinksInPath()
        guard FileManager.default.fileExists(atPath: sysfsPath.path) else { throw DeviceError(.vanished, path: path) }
        if FileManager.default.fileExists(atPath: sysfsPath.appendingPathComponent("partition").path) {
            throw DeviceError(.isPartition(disk: "/dev/" + sysfsPath.deletingLastPathComponent().lastPathComponent), path: path)
        }
        return .wholeDisk(name: sysfsPath.lastPathComponent, deviceNumber: number)
    }

    /// Classifies the drive, then opens it `O_RDWR | O_EXCL | O_DIRECT`, reads its geometry by
    /// ioctl and returns a handle pinned to its identity. Blocks briefly.
    ///
    /// Throws when the path is not a whole disk, the drive is protected (every reason), the
    /// kernel refuses the exclusive claim (mounted, in use), the caller is not root, or the
    /// medium changed between the classification and the open.
    ///
    /// `expected` is the identity the technician was shown (at listing or confirmation): if
    /// the node now holds something else, nothing is opened.
    public static func openForWriting(_ path: String, policy: SafetyPolicy, expected: DriveIdentity? = nil,
                                      scanner: DeviceScanner = DeviceScanner()) throws(DeviceError) -> BlockDeviceHandle {
        guard case .wholeDisk(let name, let number) = try resolveWholeDisk(path, reader: scanner.reader) else {
            throw DeviceError(.notABlockDevice, path: path)
        }
        guard geteuid() == 0 else { throw DeviceError(.needsRoot, path: path) }
        // Only this drive is read in full and probed; the others only as far as classification
        // needs (DeviceScanner.device(named:)): start-up must not grow with the number of disks.
        guard let info = scanner.device(named: name, policy: policy), info.deviceNumber == number else {
            throw DeviceError(.vanished, path: path)
        }
        if let expected, let difference = expected.difference(from: info.identity) {
            // A medium that went away leaves an empty node (size 0) behind: say "vanished".
            throw DeviceError(info.sizeInBytes == 0 ? .vanished : .identityChanged(detail: difference), path: path)
        }
        if case .protected(let reasons) = info.verdict {
            throw DeviceError(.protected(reasons: reasons), path: path)
        }
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(path, .readWrite,
                                         options: [.closeOnExec, FileDescriptor.OpenOptions(rawValue: clinux_O_EXCL | clinux_O_DIRECT)])
        } catch let errno as Errno {
            switch errno {
            case .resourceBusy: throw DeviceError(.inUse, path: path, underlying: errno)
            case .permissionDenied, .notPermitted: throw DeviceError(.needsRoot, path: path, underlying: errno)
            case .readOnlyFileSystem: throw DeviceError(.protected(reasons: [.readOnly]), path: path, underlying: errno)
            default:
                throw DeviceError(meansVanished(errno) || errno == .noSuchFileOrDirectory ? .vanished : .ioFailed(operation: "open"),
                                  path: path, underlying: errno)
            }
        } catch {
            throw DeviceError(.ioFailed(operation: "open"), path: path)
        }
        do throws(DeviceError) {
            var status = stat()
            guard fstat(fd.rawValue, &status) == 0, DeviceNumber(rawDevice: UInt64(status.st_rdev)) == number else {
                throw DeviceError(.identityChanged(detail: "device number"), path: path)
            }
            var size: UInt64 = 0
            var logical: Int32 = 0
            var physical: UInt32 = 0
            guard clinux_blkgetsize64(fd.rawValue, &size) == 0 else { throw ioctlError("BLKGETSIZE64", path) }
            guard clinux_blksszget(fd.rawValue, &logical) == 0 else { throw ioctlError("BLKSSZGET", path) }
            guard clinux_blkpbszget(fd.rawValue, &physical) == 0 else { throw ioctlError("BLKPBSZGET", path) }
            // The classification read sysfs before the open: a medium swapped in between
            // shows up now as a new diskseq or size.
            guard let now = scanner.reader.readDevice(named: name)?.identity else { throw DeviceError(.vanished, path: path) }
            guard now.diskSequence == info.diskSequence, now.sizeInBytes == info.sizeInBytes, size == info.sizeInBytes else {
                throw DeviceError(.identityChanged(detail: "diskseq/size changed while opening"), path: path)
            }
            return BlockDeviceHandle(path: path, info: info, identity: info.identity, sizeInBytes: size,
                                     logicalSectorSize: Int(logical), physicalSectorSize: Int(physical),
                                     fileDescriptor: fd, reader: scanner.reader, sysfsIdentity: now)
        } catch {
            try? fd.close()
            throw error
        }
    }

    static func meansVanished(_ errno: Errno) -> Bool {
        [ENODEV, ENXIO, ENOMEDIUM].contains(errno.rawValue)
    }

    private static func ioctlError(_ name: String, _ path: String) -> DeviceError {
        DeviceError(.ioFailed(operation: name), path: path, underlying: Errno(rawValue: errno))
    }
}
