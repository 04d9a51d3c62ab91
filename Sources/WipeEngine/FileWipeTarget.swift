import ArdoiseSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A regular file (a disk image) as a wipe target: plain `pread`/`pwrite`, no `O_DIRECT`,
/// `fsync` for the flush. Used by the tests and by `ardoise wipe --image`.
///
/// The size is fixed when the file is opened: the engine covers exactly those bytes and
/// never grows the file. Identity is the file's device and inode numbers.
public final class FileWipeTarget: WipeTarget {
    public let name: String
    public let sizeInBytes: UInt64
    public let logicalSectorSize: Int
    public let bufferAlignment: Int
    /// Safe from several threads, but buffered writes to one file serialize on its inode
    /// lock: measured on tmpfs, four writers ran at half the speed of one. So one I/O thread.
    public var supportsConcurrentIO: Bool { false }
    private let descriptor: Int32
    private let device: UInt64
    private let inode: UInt64

    /// Opens `path` for reading and writing (or reading only).
    ///
    /// - Throws: `WipeEngineError` `.io` with the `errno` if the file cannot be opened or sized.
    public init(path: String, logicalSectorSize: Int = 512, readOnly: Bool = false) throws(WipeEngineError) {
        let descriptor = open(path, (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            throw WipeEngineError(code: .io, message: LocalizedText(fr: "ouverture impossible de l'image", en: "cannot open the image"),
                                  file: path, underlyingErrno: code)
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let code = errno
            close(descriptor)
            throw WipeEngineError(code: .io, message: LocalizedText(fr: "taille de l'image illisible", en: "cannot read the image size"),
                                  file: path, underlyingErrno: code)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw WipeEngineError(code: .invalidTarget, message: LocalizedText(
                fr: "ce n'est pas un fichier ordinaire (utilisez un périphérique bloc sans --image)",
                en: "not a regular file (use a block device without --image)"), file: path)
        }
        self.descriptor = descriptor
        name = path
        sizeInBytes = UInt64(info.st_size)
        self.logicalSectorSize = logicalSectorSize
        bufferAlignment = 4096
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }

    deinit { close(descriptor) }

    public func write(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws(WipeTargetError) {
        try check(PositionedIO.transferFully(count: buffer.count) { done in
            pwrite(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
        }, at: offset)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(WipeTargetError) {
        try check(PositionedIO.transferFully(count: buffer.count) { done in
            pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
        }, at: offset)
    }

    /// A short file (truncated behind our back) is an error, never zeros or a silent success.
    private func check(_ outcome: PositionedIO.Outcome, at offset: UInt64) throws(WipeTargetError) {
        switch outcome {
        case .complete: return
        case .failed(let code, let done): throw Self.classify(code, offset: offset + UInt64(done))
        case .ended(let done): throw .io(errno: EIO, offset: offset + UInt64(done))
        }
    }

    public func flush() throws(WipeTargetError) {
        while fsync(descriptor) != 0 {
            if errno == EINTR { continue }
            throw Self.classify(errno, offset: 0)
        }
    }

    public func checkIdentity() throws(WipeTargetError) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw Self.classify(errno, offset: 0) }
        guard UInt64(info.st_dev) == device, UInt64(info.st_ino) == inode else {
            throw .identityChanged(reason: "device/inode changed")
        }
        guard UInt64(info.st_size) >= sizeInBytes else {
            throw .identityChanged(reason: "file shrank from \(sizeInBytes) to \(info.st_size) bytes")
        }
    }

    static func classify(_ code: Int32, offset: UInt64) -> WipeTargetError {
        switch code {
        case ENODEV, ENXIO, ENOMEDIUM: .vanished(errno: code)
        default: .io(errno: code, offset: offset)
        }
    }
}
