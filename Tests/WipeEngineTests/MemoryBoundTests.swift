import ArdoiseSupport
import Foundation
import Testing
@testable import WipeEngine

/// What one job costs in memory and in records, whatever the drive's size (issue 15): the
/// pass buffers are a computed bound of the options, a stream pass writes from no more
/// buffers than that bound counts, and progress events follow the clock, not the bytes.
@Suite struct MemoryBoundTests {
    /// Issue 15: peak RSS ≤ 64 MiB + 16 MiB per active drive, so one job's buffers stay
    /// under 16 MiB with the default buffer size (and every smaller allowed one).
    @Test(arguments: [1 << 20, 2 << 20, 4 << 20])
    func jobBuffersFitSixteenMebibytes(bufferSize: Int) {
        let options = WipeOptions(bufferSize: bufferSize, seed: testSeed)
        #expect(options.passBufferBound + options.jobScratchBound <= 16 << 20)
        #expect(options.streamWriterCount * bufferSize <= WipeOptions.streamBufferBudget)
    }

    @Test func defaultStreamPassIsTwoWritersOfFourMebibytes() {
        let options = WipeOptions(seed: testSeed)
        #expect(options.streamWriterCount == 2)
        #expect(options.streamWriterCount * options.bufferSize == 8 << 20)
    }

    /// Asking for more writers cannot pass the budget; the largest buffer still gets one writer.
    @Test func streamWritersAreCutToTheBudget() {
        let deep = WipeOptions(bufferSize: 4 << 20, seed: testSeed, ioDepth: 8, streamIODepth: 8)
        #expect(deep.streamWriterCount == 2)
        let large = WipeOptions(bufferSize: 8 << 20, seed: testSeed)
        #expect(large.streamWriterCount == 1)
        let small = WipeOptions(bufferSize: 1 << 20, seed: testSeed, ioDepth: 8, streamIODepth: 8)
        #expect(small.streamWriterCount == 8)
        let one = WipeOptions(bufferSize: 1 << 20, seed: testSeed, ioDepth: 1)
        #expect(one.streamWriterCount == 1)
    }

    /// With many jobs in the process each gets a share of `processIOThreadBudget`, never
    /// below 2 and never above its own `ioDepth`.
    @Test func ioThreadsAreSharedAmongRunningJobs() {
        let options = WipeOptions(seed: testSeed)
        #expect(options.ioThreads(sharedWith: 1) == 4)
        #expect(options.ioThreads(sharedWith: 2) == 4)
        #expect(options.ioThreads(sharedWith: 3) == 2)
        #expect(options.ioThreads(sharedWith: 16) == 2)
        let one = WipeOptions(seed: testSeed, ioDepth: 1)
        #expect(one.ioThreads(sharedWith: 16) == 1)
        let deep = WipeOptions(seed: testSeed, ioDepth: 8)
        #expect(deep.ioThreads(sharedWith: 1) == 8)
        #expect(deep.ioThreads(sharedWith: 0) == 8)
    }

    /// A pass's large buffers are mapped before its first I/O (every page resident,
    /// `mincore`), so that finding the pages never happens inside a job's first read.
    @Test(arguments: [4 << 20, 1 << 20, 3 * 4096])
    func largeIOBuffersArePagedInWhenMade(count: Int) {
        let buffer = AlignedBuffer.forLargeIO(count: count, alignment: 4096)
        var resident = [UInt8](repeating: 0, count: count / 4096)
        #expect(mincore(buffer.pointer, count, &resident) == 0)
        #expect(resident.allSatisfy { $0 & 1 == 1 })
    }

    /// A full verification reads with 2 threads up to 4 jobs, then with 1 per job (as fio's
    /// synchronous readers: 32 readers on 2 cores share them unevenly).
    @Test func verificationThreadsAreSharedAmongRunningJobs() {
        let options = WipeOptions(seed: testSeed)
        #expect(options.verifyThreads(sharedWith: 1) == 2)
        #expect(options.verifyThreads(sharedWith: 4) == 2)
        #expect(options.verifyThreads(sharedWith: 5) == 1)
        #expect(options.verifyThreads(sharedWith: 16) == 1)
        #expect(options.verifyThreads(sharedWith: 0) == 2)
        let one = WipeOptions(seed: testSeed, ioDepth: 1)
        #expect(one.verifyThreads(sharedWith: 1) == 1)
    }

    /// A PRNG pass really writes from at most `streamWriterCount` distinct buffers (one per
    /// writer), with at most that many writes in flight, and the data still verifies.
    @Test(arguments: [4 << 20, 1 << 20])
    func streamPassStaysInsideItsWritersBuffers(bufferSize: Int) throws {
        let size = UInt64(24 << 20) + 3 * 4096
        let image = try TemporaryImage(size: size)
        let target = try BufferRecordingTarget(path: image.path)
        let profile = WipeProfile(
            name: "ring", title: LocalizedText(fr: "x", en: "x"), standard: "test", nistCategory: .clear,
            passes: [PassSpecification(pattern: .prng(.xoshiro256StarStar), verification: .full)])
        let options = WipeOptions(bufferSize: bufferSize, seed: testSeed, ioDepth: 8, streamIODepth: 8)
        let report = try WipeJob(profile: profile, target: target, options: options).runBlocking()
        #expect(report.status == .completed)
        #expect(report.passes.first?.verification?.result == .passed)
        #expect(target.distinctWriteBuffers >= 1)
        #expect(target.distinctWriteBuffers <= options.streamWriterCount)
        #expect(target.maxWritesInFlight <= options.streamWriterCount)
        #expect(target.distinctWriteBuffers * bufferSize <= WipeOptions.streamBufferBudget)
    }

    /// No per-byte growth: on a 64 GiB target the progress events are bounded by the job's
    /// duration over `progressInterval`, and the report stays small (sample offsets capped).
    @Test func progressEventsFollowTheClockNotTheSize() async throws {
        // 64 GiB that costs nothing to write or read: only the engine's own work is timed.
        let target = NullTarget(size: 64 << 30)
        let profile = WipeProfile(
            name: "null", title: LocalizedText(fr: "x", en: "x"), standard: "test", nistCategory: .clear,
            passes: [PassSpecification(pattern: .constant(0), verification: .nistSample)])
        let interval = 0.05
        let job = try WipeJob(profile: profile, target: target, options: WipeOptions(seed: testSeed, progressInterval: interval))
        let clock = ContinuousClock()
        let start = clock.now
        let counter = EventCounter()
        job.start()
        for await event in job.events { counter.add(event) }
        let seconds = (clock.now - start).seconds
        let report = await job.report
        #expect(report.status == .completed)
        // At most one event per interval per phase, plus each phase's last one.
        let progress = counter.progress
        #expect(progress >= 1)
        #expect(Double(progress) <= seconds / interval + 4, "\(progress) progress events in \(seconds) s for 64 GiB")
        // The report's size does not follow the drive's: sample offsets are capped.
        let encoded = try JSONEncoder().encode(report)
        #expect(encoded.count < 600 << 10, "report of \(encoded.count) bytes")
    }
}

/// Counts progress events from the job's stream.
final class EventCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add(_ event: WipeEvent) {
        if case .progress = event { lock.withLock { count += 1 } }
    }
    var progress: Int { lock.withLock { count } }
}

/// A large target that stores nothing: writes are dropped, reads return zeros.
final class NullTarget: WipeTarget, @unchecked Sendable {
    let sizeInBytes: UInt64
    init(size: UInt64) { sizeInBytes = size }
    var name: String { "null" }
    var logicalSectorSize: Int { 4096 }
    var bufferAlignment: Int { 4096 }
    var supportsConcurrentIO: Bool { true }
    func write(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws(WipeTargetError) {}
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(WipeTargetError) {
        if let base = buffer.baseAddress { memset(base, 0, buffer.count) }
    }
    func flush() throws(WipeTargetError) {}
    func checkIdentity() throws(WipeTargetError) {}
}

/// A file target that records the distinct buffers written from and the most writes in flight.
final class BufferRecordingTarget: WipeTarget, @unchecked Sendable {
    let inner: FileWipeTarget
    // Guarded by `lock`.
    private let lock = NSLock()
    private var buffers: Set<UInt> = []
    private var inFlight = 0
    private var maxInFlight = 0

    init(path: String) throws {
        inner = try FileWipeTarget(path: path, logicalSectorSize: 4096)
    }

    var name: String { inner.name }
    var sizeInBytes: UInt64 { inner.sizeInBytes }
    var logicalSectorSize: Int { inner.logicalSectorSize }
    var bufferAlignment: Int { inner.bufferAlignment }
    var supportsConcurrentIO: Bool { true }
    var distinctWriteBuffers: Int { lock.withLock { buffers.count } }
    var maxWritesInFlight: Int { lock.withLock { maxInFlight } }

    func write(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws(WipeTargetError) {
        lock.withLock {
            buffers.insert(UInt(bitPattern: buffer.baseAddress))
            inFlight += 1
            maxInFlight = max(maxInFlight, inFlight)
        }
        defer { lock.withLock { inFlight -= 1 } }
        // Long enough that one more writer, if there were one, would overlap.
        usleep(1000)
        try inner.write(buffer, at: offset)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(WipeTargetError) {
        try inner.read(into: buffer, at: offset)
    }

    func flush() throws(WipeTargetError) { try inner.flush() }
    func checkIdentity() throws(WipeTargetError) { try inner.checkIdentity() }
}
