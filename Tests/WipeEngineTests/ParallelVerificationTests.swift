import ArdoiseSupport
import Foundation
import Testing
@testable import WipeEngine

/// Full verification compares each chunk in the I/O thread that read it. These tests make the
/// reads finish out of order on purpose and check that the recorded bad offsets are still the
/// target's first ones, sorted and capped, whatever thread found them.
@Suite struct ParallelVerificationTests {
    static let sector = 4096
    /// Eight 1 MiB chunks and a 3-sector tail.
    static let size = UInt64(8 << 20) + 3 * 4096

    /// Bad bytes in several chunks, listed out of order; two of them share a sector (only the
    /// first byte of a bad sector is recorded) and one is in the tail.
    static let corrupt: [UInt64] = [
        (2 << 20) + 9, (1 << 20) + 100, 4096 * 3 + 17, size - 1, (1 << 20) + 4096 * 7, 5,
        (2 << 20) + 4096 * 2, 4096 * 3 + 18, (1 << 20) + 4096 * 2 + 4095, (5 << 20) + 77,
        (1 << 20) + 4096 * 4, (1 << 20) + 4096 * 5, (1 << 20) + 4096 * 6, 4096 * 9, (2 << 20) + 4096 * 11,
        (1 << 20) + 4096 * 8, (1 << 20) + 4096 * 9, (7 << 20) + 1, (2 << 20) + 4096 * 5, 4096 * 200,
    ]

    /// What a correct verifier reports: the first byte of each bad sector, sorted, the first `limit`.
    static func expectedBadOffsets(limit: Int) -> [UInt64] {
        var firstPerSector: [UInt64: UInt64] = [:]
        for offset in corrupt {
            let sector = offset / UInt64(Self.sector)
            firstPerSector[sector] = min(firstPerSector[sector] ?? .max, offset)
        }
        return Array(firstPerSector.values.sorted().prefix(limit))
    }

    static let patterns: [PassPattern] = [.constant(0x00), .pattern([0x92, 0x49, 0x24]), .prng(.xoshiro256StarStar)]

    /// Async so that collecting the events never blocks a thread of the concurrency pool
    /// (the job itself runs on its own threads).
    static func run(pattern: PassPattern, concurrent: Bool, limit: Int, ioDepth: Int = 4)
        async throws -> (WipeReport, SlowFirstChunkTarget, [WipeProgress])
    {
        let image = try TemporaryImage(size: size)
        let target = try SlowFirstChunkTarget(path: image.path, sector: sector, corrupt: corrupt, concurrent: concurrent)
        let profile = WipeProfile(
            name: "test", title: LocalizedText(fr: "essai", en: "test"), standard: "test", nistCategory: .clear, onError: .continue,
            passes: [PassSpecification(pattern: pattern, verification: .full)])
        var options = WipeOptions(bufferSize: 1 << 20, seed: testSeed, ioDepth: ioDepth, progressInterval: 0, maxRecordedBadOffsets: limit)
        // Two readers whatever other tests run beside this one (with many jobs, one each).
        options.sharesIOThreadsWithOtherJobs = false
        let job = try WipeJob(profile: profile, target: target, options: options)
        job.start()
        var progress: [WipeProgress] = []
        for await event in job.events { if case .progress(let value) = event { progress.append(value) } }
        return (await job.report, target, progress)
    }

    @Test(arguments: patterns, [false, true])
    func cappedBadOffsetsAreTheFirstOnesSorted(pattern: PassPattern, concurrent: Bool) async throws {
        let (report, target, _) = try await Self.run(pattern: pattern, concurrent: concurrent, limit: 8)
        guard case .failed(let reason) = report.status else { Issue.record("status \(report.status)"); return }
        #expect(reason.code == .verificationMismatch)
        let verification = try #require(report.passes.first?.verification)
        #expect(verification.result == .failed)
        #expect(verification.firstBadOffsets == Self.expectedBadOffsets(limit: 8))
        #expect(reason.offset == Self.expectedBadOffsets(limit: 1).first)
        if concurrent {
            // The first chunk's read was held until a later chunk had been read: the offsets
            // above were not simply found in order.
            #expect(target.firstChunkFinishedAfterOthers)
        } else {
            #expect(target.maxReadsInFlight == 1)
        }
        #expect(!report.succeeded)
    }

    @Test(arguments: patterns, [false, true])
    func everyBadSectorIsFoundBelowTheCap(pattern: PassPattern, concurrent: Bool) async throws {
        let (report, _, progress) = try await Self.run(pattern: pattern, concurrent: concurrent, limit: 64)
        let verification = try #require(report.passes.first?.verification)
        #expect(verification.result == .failed)
        #expect(verification.firstBadOffsets == Self.expectedBadOffsets(limit: 64))
        #expect(verification.firstBadOffsets.count == 19)
        // Nothing stopped the read early: every byte was compared.
        #expect(verification.bytesCompared == Self.size)
        // The meter saw the whole read-back, ending on the last byte.
        let verifying = progress.filter { $0.phase == .verifying }
        #expect(verifying.last?.bytesDone == Self.size)
        #expect(verifying.last?.bytesTotal == Self.size)
        #expect(zip(verifying, verifying.dropFirst()).allSatisfy { $0.bytesDone <= $1.bytesDone })
    }

    @Test(arguments: [1, 2, 8])
    func cleanTargetPassesWithAnyThreadCount(ioDepth: Int) throws {
        let image = try TemporaryImage(size: Self.size)
        let target = try FileWipeTarget(path: image.path, logicalSectorSize: Self.sector)
        let profile = WipeProfile(
            name: "test", title: LocalizedText(fr: "essai", en: "test"), standard: "test", nistCategory: .clear,
            passes: Self.patterns.map { PassSpecification(pattern: $0, verification: .full) })
        let report = try WipeJob(profile: profile, target: target, options: WipeOptions(bufferSize: 1 << 20, seed: testSeed, ioDepth: ioDepth)).runBlocking()
        #expect(report.status == .completed)
        #expect(report.passes.allSatisfy { $0.verification?.result == .passed && $0.verification?.bytesCompared == Self.size })
    }
}

/// A file target whose reads flip the bytes at `corrupt`. With concurrent I/O, the read of the
/// first chunk (offset 0) waits until another read has finished: another I/O thread always
/// takes chunk 1 meanwhile, so the reads complete out of order on every run (the wait is
/// bounded by 10 s only so that a broken engine fails instead of hanging).
final class SlowFirstChunkTarget: WipeTarget, @unchecked Sendable {
    let inner: FileWipeTarget
    let corrupt: [UInt64]
    let supportsConcurrentIO: Bool
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var readsFinished = 0
    private var readsInFlight = 0
    private var maxInFlight = 0
    private var firstAfterOthers = false

    init(path: String, sector: Int, corrupt: [UInt64], concurrent: Bool) throws {
        inner = try FileWipeTarget(path: path, logicalSectorSize: sector)
        self.corrupt = corrupt
        supportsConcurrentIO = concurrent
    }

    var name: String { inner.name }
    var sizeInBytes: UInt64 { inner.sizeInBytes }
    var logicalSectorSize: Int { inner.logicalSectorSize }
    var bufferAlignment: Int { inner.bufferAlignment }
    var maxReadsInFlight: Int { condition.withLock { maxInFlight } }
    var firstChunkFinishedAfterOthers: Bool { condition.withLock { firstAfterOthers } }

    func write(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws(WipeTargetError) {
        try inner.write(buffer, at: offset)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(WipeTargetError) {
        condition.withLock {
            readsInFlight += 1
            maxInFlight = max(maxInFlight, readsInFlight)
        }
        defer {
            condition.withLock {
                readsInFlight -= 1
                readsFinished += 1
                condition.broadcast()
            }
        }
        if offset == 0, supportsConcurrentIO {
            let deadline = Date(timeIntervalSinceNow: 10)
            condition.withLock {
                while readsFinished < 1, condition.wait(until: deadline) {}
                firstAfterOthers = readsFinished >= 1
            }
        }
        try inner.read(into: buffer, at: offset)
        for bad in corrupt where bad >= offset && bad < offset + UInt64(buffer.count) {
            buffer[Int(bad - offset)] ^= 0x5A
        }
    }

    func flush() throws(WipeTargetError) { try inner.flush() }
    func checkIdentity() throws(WipeTargetError) { try inner.checkIdentity() }
}
