import ArdoiseSupport
import Foundation
import Testing
@testable import WipeEngine

/// The sizes and concurrency of the engine's I/O, which the benchmark tuned: fixed-pattern
/// writes in pieces of at most 1 MiB (whole pattern periods), generated writes and
/// verification reads of `bufferSize`, at most two verification reads in flight.
@Suite struct IOShapeTests {
    static let size = UInt64(9 << 20) + 5 * 4096

    static func run(_ pattern: PassPattern, bufferSize: Int = 4 << 20, ioDepth: Int = 4) throws -> (WipeReport, RecordingTarget, TemporaryImage) {
        let image = try TemporaryImage(size: size)
        let target = try RecordingTarget(path: image.path)
        let profile = WipeProfile(
            name: "shape", title: LocalizedText(fr: "x", en: "x"), standard: "test", nistCategory: .clear,
            passes: [PassSpecification(pattern: pattern, verification: .full)])
        let report = try WipeJob(profile: profile, target: target,
                                 options: WipeOptions(bufferSize: bufferSize, seed: testSeed, ioDepth: ioDepth)).runBlocking()
        return (report, target, image)
    }

    @Test func zeroPassWritesOneMebibytePieces() throws {
        let (report, target, image) = try Self.run(.constant(0x00))
        #expect(report.status == .completed)
        let writes = target.writes
        #expect(writes.allSatisfy { $0.length <= 1 << 20 })
        #expect(writes.filter { $0.length == 1 << 20 }.count == 9)
        #expect(writes.reduce(0) { $0 + UInt64($1.length) } == Self.size)
        // Reads keep the configured buffer size.
        #expect(target.reads.contains { $0.length == 4 << 20 })
        #expect(try image.contents().allSatisfy { $0 == 0 })
    }

    @Test func patternWritesStayPhaseAligned() throws {
        // Period 3 with 4096-byte sectors: pieces are whole multiples of 3 × 4096 bytes.
        let pattern: [UInt8] = [0x92, 0x49, 0x24]
        let (report, target, image) = try Self.run(.pattern(pattern))
        #expect(report.status == .completed)
        let writes = target.writes.sorted { $0.offset < $1.offset }
        #expect(writes.allSatisfy { $0.length <= 1 << 20 && $0.offset % UInt64(3 * 4096) == 0 })
        #expect(writes.dropLast().allSatisfy { $0.length % (3 * 4096) == 0 })
        let bytes = try image.contents()
        #expect(bytes.count == Int(Self.size))
        #expect(bytes.enumerated().allSatisfy { $1 == pattern[$0 % 3] })
    }

    @Test func streamWritesUseTheBufferSize() throws {
        let (report, target, _) = try Self.run(.prng(.xoshiro256StarStar))
        #expect(report.status == .completed)
        #expect(target.writes.filter { $0.length == 4 << 20 }.count == 2)
    }

    @Test(arguments: [1, 2, 4, 8])
    func verificationKeepsAtMostTwoReadsInFlight(ioDepth: Int) throws {
        let (report, target, _) = try Self.run(.constant(0xFF), ioDepth: ioDepth)
        #expect(report.status == .completed)
        #expect(target.maxReadsInFlight <= min(ioDepth, 2))
        #expect(target.reads.reduce(0) { $0 + UInt64($1.length) } == Self.size)
    }

    @Test func patternBuffersAreSharedWhileHeld() {
        // A pattern no other test uses, so concurrent tests cannot hold the same buffer.
        let pattern: [UInt8] = [0x13, 0x57, 0x9B, 0xDF, 0x11]
        var fills = 0
        func take(_ bytes: [UInt8], _ count: Int) -> AlignedBuffer {
            SharedPatternBuffers.buffer(pattern: bytes, count: count, alignment: 4096) { buffer in
                fills += 1
                PassDataSource.fillFixed(bytes, into: buffer.mutableBytes, at: 0)
            }
        }
        do {
            let first = take(pattern, 20480)
            let second = take(pattern, 20480)
            #expect(first === second)
            #expect(fills == 1)
            #expect(second.bytes(count: 20480).enumerated().allSatisfy { $1 == pattern[$0 % 5] })
            // Another size or pattern is another buffer.
            #expect(take(pattern, 40960) !== second)
            #expect(take(pattern.map { ~$0 }, 20480) !== first)
            #expect(fills == 3)
        }
        // Once nothing holds it, the next taker gets a fresh one (the table keeps no buffer alive).
        _ = take(pattern, 20480)
        #expect(fills == 4)
    }

    @Test func jobsWritingOnePatternAtOnceEachLeaveItWhole() async throws {
        let pattern: [UInt8] = [0x92, 0x49, 0x24]
        let profile = WipeProfile(
            name: "shared", title: LocalizedText(fr: "x", en: "x"), standard: "test", nistCategory: .clear,
            passes: [PassSpecification(pattern: .pattern(pattern), verification: .full),
                     PassSpecification(pattern: .constant(0x00), verification: .full)])
        var images: [TemporaryImage] = []
        var jobs: [WipeJob] = []
        for index in 0..<3 {
            let image = try TemporaryImage(size: Self.size + UInt64(index) * 4096)
            images.append(image)
            jobs.append(try WipeJob(profile: profile, target: try FileWipeTarget(path: image.path, logicalSectorSize: 4096),
                                    options: WipeOptions(bufferSize: 1 << 20, seed: testSeed)))
        }
        jobs.forEach { $0.start() }
        for job in jobs {
            let report = await job.report
            #expect(report.status == .completed)
            #expect(report.passes.allSatisfy { $0.verification?.result == .passed })
        }
        for image in images { #expect(try image.contents().allSatisfy { $0 == 0 }) }
    }

    @Test func largeBuffersAreHugePageAligned() {
        let large = AlignedBuffer.forLargeIO(count: 4 << 20, alignment: 4096)
        #expect(Int(bitPattern: large.pointer) % (2 << 20) == 0)
        #expect(large.count == 4 << 20)
        large.mutableBytes.initializeMemory(as: UInt8.self, repeating: 0xA5)
        #expect(large.bytes(count: large.count).allSatisfy { $0 == 0xA5 })
        // Not a whole number of huge pages: an ordinary aligned buffer of exactly that size.
        let small = AlignedBuffer.forLargeIO(count: 1 << 20, alignment: 4096)
        #expect(small.count == 1 << 20)
        #expect(Int(bitPattern: small.pointer) % 4096 == 0)
    }
}

/// A file target that records every I/O (offset, length) and the most reads in flight.
final class RecordingTarget: WipeTarget, @unchecked Sendable {
    struct IO: Sendable {
        let offset: UInt64
        let length: Int
    }

    let inner: FileWipeTarget
    // Guarded by `lock`.
    private let lock = NSLock()
    private var writeLog: [IO] = []
    private var readLog: [IO] = []
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
    var writes: [IO] { lock.withLock { writeLog } }
    var reads: [IO] { lock.withLock { readLog } }
    var maxReadsInFlight: Int { lock.withLock { maxInFlight } }

    func write(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws(WipeTargetError) {
        lock.withLock { writeLog.append(IO(offset: offset, length: buffer.count)) }
        try inner.write(buffer, at: offset)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(WipeTargetError) {
        lock.withLock {
            readLog.append(IO(offset: offset, length: buffer.count))
            inFlight += 1
            maxInFlight = max(maxInFlight, inFlight)
        }
        defer { lock.withLock { inFlight -= 1 } }
        // Long enough that a third reader, if there were one, would overlap.
        usleep(2000)
        try inner.read(into: buffer, at: offset)
    }

    func flush() throws(WipeTargetError) { try inner.flush() }
    func checkIdentity() throws(WipeTargetError) { try inner.checkIdentity() }
}
