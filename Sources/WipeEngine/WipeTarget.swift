/// A destination the engine overwrites and reads back: a block device handle or a regular file.
///
/// The engine drives one target from one dedicated thread; implementations need not be
/// thread-safe but must be `Sendable` so the job can hand them to that thread.
/// Every method blocks. Offsets and lengths given by the engine are multiples of
/// `logicalSectorSize`, and buffers are aligned to `bufferAlignment`, so a target may use
/// `O_DIRECT`.
public protocol WipeTarget: AnyObject, Sendable {
    /// A short name for messages and records (`/dev/sdb`, an image path).
    var name: String { get }
    /// Bytes the engine must cover; every one of them is written and checked.
    var sizeInBytes: UInt64 { get }
    /// The smallest unit of I/O (512 or 4096); the engine retries failed I/O down to this size.
    var logicalSectorSize: Int { get }
    /// Required alignment of buffer addresses (4096 works for every device).
    var bufferAlignment: Int { get }

    /// Writes the whole buffer at `offset`, or throws.
    func write(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws(WipeTargetError)
    /// Fills the whole buffer from `offset`, or throws.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(WipeTargetError)
    /// Makes every written byte durable: `fdatasync`, then the device's cache flush.
    func flush() throws(WipeTargetError)
    /// Throws `.identityChanged` unless the target is still the medium the job was bound to.
    func checkIdentity() throws(WipeTargetError)
    /// True if every method may be called from several threads at once (positional
    /// `pread`/`pwrite` on one descriptor may). The engine then keeps up to
    /// `WipeOptions.ioDepth` I/Os in flight, as fio's iodepth does. Defaults to false.
    var supportsConcurrentIO: Bool { get }
}

extension WipeTarget {
    public var supportsConcurrentIO: Bool { false }
}

/// Why a target refused an operation. The engine decides what follows from the case.
public enum WipeTargetError: Error, Sendable, Equatable {
    /// An I/O error (`errno`) at this offset: the engine retries with smaller I/O.
    case io(errno: Int32, offset: UInt64)
    /// The device is gone (ENODEV, ENXIO, ENOMEDIUM): the job stops as interrupted.
    case vanished(errno: Int32)
    /// A different medium now answers on this node: the job stops and never writes again.
    case identityChanged(reason: String)
}
