import CLinuxShims
import Foundation
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

extension DriveAccess {
    /// Opens a whole disk `O_RDONLY | O_DIRECT` for diagnostics (surface scan): never for
    /// writing, so no safety verdict is needed and a protected or mounted disk may be read.
    /// No `O_EXCL`: reading beside a mounted filesystem is harmless. Blocks briefly.
    ///
    /// The handle's write methods would fail with `EBADF`: callers must never write through it.
    public static func openForReading(_ path: String, scanner: DeviceScanner = DeviceScanner(probesSignatures: false)) throws(DeviceError) -> BlockDeviceHandle {
        guard case .wholeDisk(let name, let number) = try resolveWholeDisk(path, reader: scanner.reader) else {
            throw DeviceError(.notABlockDevice, path: path)
        }
        guard let info = scanner.reader.readDevice(named: name), info.deviceNumber == number else {
            throw DeviceError(.vanished, path: path)
        }
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(path, .readOnly, options: [.closeOnExec, FileDescriptor.OpenOptions(rawValue: clinux_O_DIRECT)])
        } catch let errno as Errno {
            switch errno {
            case .permissionDenied, .notPermitted: throw DeviceError(.needsRoot, path: path, underlying: errno)
            default:
                throw DeviceError(meansVanished(errno) || errno == .noSuchFileOrDirectory ? .vanished : .ioFailed(operation: "open"),
                                  path: path, underlying: errno)
            }
        } catch {
            throw DeviceError(.ioFailed(operation: "open"), path: path)
        }
        var size: UInt64 = 0
        var logical: Int32 = 0
        var physical: UInt32 = 0
        guard clinux_blkgetsize64(fd.rawValue, &size) == 0, clinux_blksszget(fd.rawValue, &logical) == 0,
              clinux_blkpbszget(fd.rawValue, &physical) == 0 else {
            let code = Errno(rawValue: errno)
            try? fd.close()
            throw DeviceError(.ioFailed(operation: "ioctl"), path: path, underlying: code)
        }
        return BlockDeviceHandle(path: path, info: info, identity: info.identity, sizeInBytes: size,
                                 logicalSectorSize: Int(logical), physicalSectorSize: Int(physical),
                                 fileDescriptor: fd, reader: scanner.reader, sysfsIdentity: info.identity)
    }
}
