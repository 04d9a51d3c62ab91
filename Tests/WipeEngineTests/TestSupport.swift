import Foundation
import Synchronization
@testable import WipeEngine

/// A sparse regular file in a fresh temporary directory, removed on deinit.
final class TemporaryImage: @unchecked Sendable {
    let directory: String
    let path: String

    init(size: UInt64, name: String = "image.img") throws {
        directory = NSTemporaryDirectory() + "ardoise-engine-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: size)
        try handle.close()
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// Reads the whole file with Foundation, independently of the engine.
    func contents() throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func write(_ bytes: [UInt8], at offset: UInt64) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
    }
}

/// A fixed seed so every run makes the same choices.
let testSeed: [UInt8] = Array(0..<32)

/// The checkout's Profiles directory.
func builtInProfiles() throws -> ProfileLibrary {
    try ProfileLibrary.load(directories: [try ProfileLibrary.builtInDirectory()])
}

/// A target wrapping a file, with faults injected at chosen places. Every call is counted.
final class FaultyTarget: WipeTarget, @unchecked Sendable {
    // State is guarded by `lock`; the engine calls from its thread, the test from its own.
    struct Faults {
        /// Writes touching these ranges fail with EIO (forever, or `writeFailuresLeft` times).
        var badWriteRanges: [ByteRange] = []
        var writeFailuresLeft: Int = .max
        /// Reads touching these ranges fail with EIO.
        var badReadRanges: [ByteRange] = []
        /// After a read, the byte at this offset (if covered) is flipped.
        var corruptReadAt: UInt64?
        /// After this many bytes written, every call fails with `.vanished(ENODEV)`.
        var vanishAfterBytesWritten: UInt64?
        /// `checkIdentity` throws `.identityChanged` after this many successful calls.
        var identityChangesAfterChecks: Int?
    }

    let inner: FileWipeTarget
    private let lock = NSLock()
    private var faults: Faults
    private(set) var bytesWritten: UInt64 = 0
    private(set) var writeCalls = 0
    private(set) var writesAfterFault = 0
    private(set) var identityChecks = 0
    private var faulted = false

    /// Every call takes `lock`, so the target can let the engine run several I/O threads.
    let supportsConcurrentIO: Bool

    init(path: String, logicalSectorSize: Int = 4096, faults: Faults, concurrent: Bool = true) throws {
        inner = try FileWipeTarget(path: path, logicalSectorSize: logicalSectorSize)
        self.faults = faults
        supportsConcurrentIO = concurrent
    }

    var name: String { inner.name }
    var sizeInBytes: UInt64 { inner.sizeInBytes }
    var logicalSectorSize: Int { inner.logicalSectorSize }
    var bufferAlignment: Int { inner.bufferAlignment }

    var snapshot: (written: UInt64, writeCalls: Int, writesAfterFault: Int, identityChecks: Int) {
        lock.withLock { (bytesWritten, writeCalls, writesAfterFault, identityChecks) }
    }

    private static func overlaps(_ ranges: [ByteRange], _ offset: UInt64, _ count: Int) -> Bool {
        ranges.contains { $0.start < offset + UInt64(count) && offset < $0.end }
    }

    func write(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws(WipeTargetError) {
        let decision: WipeTargetError? = lock.withLock {
            writeCalls += 1
            if faulted { writesAfterFault += 1; return .vanished(errno: ENODEV) }
            if let limit = faults.vanishAfterBytesWritten, bytesWritten >= limit {
                faulted = true
                return .vanished(errno: ENODEV)
            }
            if Self.overlaps(faults.badWriteRanges, offset, buffer.count), faults.writeFailuresLeft > 0 {
                faults.writeFailuresLeft -= 1
                return .io(errno: EIO, offset: offset)
            }
            return nil
        }
        if let decision { throw decision }
        try inner.write(buffer, at: offset)
        lock.withLock { bytesWritten += UInt64(buffer.count) }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(WipeTargetError) {
        let (bad, corrupt): (WipeTargetError?, UInt64?) = lock.withLock {
            if faulted { return (.vanished(errno: ENODEV), nil) }
            if Self.overlaps(faults.badReadRanges, offset, buffer.count) { return (.io(errno: EIO, offset: offset), nil) }
            return (nil, faults.corruptReadAt)
        }
        if let bad { throw bad }
        try inner.read(into: buffer, at: offset)
        if let corrupt, corrupt >= offset, corrupt < offset + UInt64(buffer.count) {
            buffer[Int(corrupt - offset)] ^= 0x5A
        }
    }

    func flush() throws(WipeTargetError) {
        if lock.withLock({ faulted }) { throw .vanished(errno: ENODEV) }
        try inner.flush()
    }

    func checkIdentity() throws(WipeTargetError) {
        let changed: Bool = lock.withLock {
            identityChecks += 1
            if let limit = faults.identityChangesAfterChecks, identityChecks > limit {
                faulted = true
                return true
            }
            return false
        }
        if changed { throw .identityChanged(reason: "test: serial changed") }
        try inner.checkIdentity()
    }
}

/// Collects pass snapshots from the hook (the file read back after each pass).
final class PassSnapshots: @unchecked Sendable {
    // Guarded by `lock`: written on the job thread, read by the test after the job.
    private let lock = NSLock()
    private var storage: [(PassRecord, [UInt8])] = []
    func append(_ record: PassRecord, _ bytes: [UInt8]) { lock.withLock { storage.append((record, bytes)) } }
    var all: [(PassRecord, [UInt8])] { lock.withLock { storage } }
}
