import ErasureRecords
import Foundation

/// What the I/O threads of one phase share: the next chunk to take, the first stop, and
/// the totals. Sendable by hand: every field is guarded by `lock`.
final class PhaseLedger: @unchecked Sendable {
    private let lock = NSLock()
    private let chunkCount: Int
    private var nextChunk = 0
    private var stopRequest: JobStop?
    private var bytes: UInt64 = 0
    private var errors = 0
    private var failed: [ByteRange] = []

    init(chunkCount: Int) {
        self.chunkCount = chunkCount
    }

    /// The next chunk in order, or nil when all were taken or the phase stopped.
    func takeChunk() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard stopRequest == nil, nextChunk < chunkCount else { return nil }
        nextChunk += 1
        return nextChunk - 1
    }

    /// Records why the phase stops; the first reason wins.
    func stop(_ request: JobStop) {
        lock.lock()
        if stopRequest == nil { stopRequest = request }
        lock.unlock()
    }

    var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopRequest != nil
    }

    func add(bytes: UInt64, errors: Int = 0, failed: [ByteRange] = []) {
        lock.lock()
        self.bytes += bytes
        self.errors += errors
        self.failed += failed
        lock.unlock()
    }

    var result: (bytes: UInt64, errors: Int, failed: [ByteRange], stop: JobStop?) {
        lock.lock()
        defer { lock.unlock() }
        return (bytes, errors, failed, stopRequest)
    }
}

struct Findings {
    var compared: UInt64 = 0
    var badOffsets: [UInt64] = []
}
