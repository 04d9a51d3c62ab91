import DeviceKit
import SystemPackage
import WipeEngine
#if canImport(Glibc)
import Glibc
#endif

/// A block device handle is what the engine writes to on a real bench.
///
/// The mapping keeps the engine's decisions simple: a vanished device and a changed
/// identity stop the job; any other errno is an I/O error the engine may retry smaller.
extension BlockDeviceHandle: WipeTarget {
    public var name: String { path }

    /// `O_DIRECT` needs buffers aligned to the logical block size; 4096 covers every device.
    public var bufferAlignment: Int { max(4096, logicalSectorSize) }

    /// Positioned reads and writes on one descriptor may run in parallel: the engine keeps
    /// several in flight, which is what fio's iodepth does and what a fast drive needs.
    public var supportsConcurrentIO: Bool { true }

    public func write(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws(WipeTargetError) {
        do { try writeFully(buffer, at: offset) } catch { throw Self.targetError(error, offset: offset) }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(WipeTargetError) {
        do { try readFully(into: buffer, at: offset) } catch { throw Self.targetError(error, offset: offset) }
    }

    public func flush() throws(WipeTargetError) {
        do { try flushToMedium() } catch { throw Self.targetError(error, offset: sizeInBytes) }
    }

    public func checkIdentity() throws(WipeTargetError) {
        do { try checkStillSameDrive() } catch { throw Self.targetError(error, offset: 0) }
    }

    static func targetError(_ error: DeviceError, offset: UInt64) -> WipeTargetError {
        switch error.code {
        case .vanished: .vanished(errno: error.underlying?.rawValue ?? ENODEV)
        case .identityChanged(let detail): .identityChanged(reason: detail)
        default: .io(errno: error.underlying?.rawValue ?? EIO, offset: offset)
        }
    }
}
