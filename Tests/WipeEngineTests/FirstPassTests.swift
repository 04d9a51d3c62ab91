import Foundation
import Testing
@testable import WipeEngine

/// `WipeOptions.firstPass`: a resumed job runs the rest of the profile, with the same plan.
@Suite struct FirstPassTests {
    static let size: UInt64 = 4 << 20

    @Test func aJobStartingAtPassTwoRunsOnlyTheLaterPassesOfTheSamePlan() async throws {
        let profile = try builtInProfiles().requireProfile(named: "dod-5220-22m")
        let image = try TemporaryImage(size: Self.size)
        let wholeJob = try WipeJob(profile: profile, target: try FileWipeTarget(path: image.path, logicalSectorSize: 4096),
                                   options: WipeOptions(bufferSize: 1 << 20, seed: testSeed))
        wholeJob.start()
        let whole = await wholeJob.report
        let wholeBytes = try image.contents()

        let resumedImage = try TemporaryImage(size: Self.size)
        let events = EventLog()
        let job = try WipeJob(profile: profile, target: try FileWipeTarget(path: resumedImage.path, logicalSectorSize: 4096),
                              options: WipeOptions(bufferSize: 1 << 20, seed: testSeed, firstPass: 2))
        job.start()
        for await event in job.events { events.append(event) }
        let report = await job.report
        #expect(report.status == .completed)
        #expect(report.plannedPassCount == 3)
        #expect(report.passes.map(\.index) == [2, 3])
        // The same seed gives the same passes as in the whole job: pass 2 is the complement of
        // the random byte pass 1 would have written, pass 3 the same PRNG stream.
        #expect(report.passes.map(\.patternHex) == Array(whole.passes.dropFirst().map(\.patternHex)))
        #expect(report.passes.map(\.seedSHA256) == Array(whole.passes.dropFirst().map(\.seedSHA256)))
        #expect(report.passes.allSatisfy { $0.verification?.result == .passed })
        #expect(try resumedImage.contents() == wholeBytes)
        #expect(events.startedPasses == [2, 3])
        #expect(events.lastFraction.map { $0 > 0.99 } == true)
    }
}

/// Events seen by a test, in order.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [WipeEvent] = []
    func append(_ event: WipeEvent) { lock.withLock { events.append(event) } }

    var startedPasses: [Int] {
        lock.withLock { events.compactMap { if case .passStarted(let index, _, _) = $0 { index } else { nil } } }
    }

    var lastFraction: Double? {
        lock.withLock { events.compactMap { if case .progress(let progress) = $0 { progress.overallFraction } else { nil } }.last }
    }
}
