import ArdoiseSupport
import Foundation
import Testing
@testable import WipeEngine

/// How a job treats a profile's `[firmware]` step, with a scripted purger (the real one, over
/// simulated drives, is tested in BenchTests/FirmwarePurgeTests).
@Suite struct FirmwareStepTests {
    /// Answers with a fixed outcome; on `.purged` it zeroes the target as a drive would.
    struct ScriptedPurger: FirmwarePurging {
        let outcome: FirmwarePurgeRecord.Outcome
        func purge(target: any WipeTarget, step: FirmwareStep, seed: [UInt8],
                   progress: @escaping @Sendable (FirmwarePurgeProgress) -> Void) -> FirmwarePurgeRecord {
            progress(FirmwarePurgeProgress(fraction: 0.5, message: LocalizedText(fr: "moitié", en: "half")))
            var verification: VerificationRecord?
            if outcome == .purged {
                let plan = SampledBlocks.plan(for: step.verification, target: target, sampleLength: 4096, seed: seed)
                let zeros = [UInt8](repeating: 0, count: plan.sampleLength)
                try? SampledBlocks.write(plan, to: target) { _ in zeros }
                verification = VerificationRecord(mode: step.verification.description, result: .passed, sampleCount: plan.ranges.count)
            }
            return FirmwarePurgeRecord(outcome: outcome, reason: LocalizedText(fr: "script", en: "script"),
                                       operations: outcome == .overwriteFallback ? [] : [.init(command: "TEST ERASE", method: "ata-sanitize-block",
                                                                                             succeeded: outcome == .purged, durationSeconds: 0, commandCount: 3)],
                                       verification: verification)
        }
    }

    func profile(finalOverwrite: Bool) -> WipeProfile {
        WipeProfile(name: "purge-test", title: LocalizedText(fr: "t", en: "t"), standard: "test", nistCategory: .purge,
                    passes: [PassSpecification(pattern: .constant(0x5A), verification: .full)],
                    firmware: FirmwareStep(finalOverwrite: finalOverwrite))
    }

    func run(_ profile: WipeProfile, purger: (any FirmwarePurging)?) throws -> (WipeReport, [UInt8], [WipeEvent]) {
        let image = try TemporaryImage(size: 4 << 20)
        var options = WipeOptions(bufferSize: 1 << 20, seed: testSeed)
        options.firmwarePurger = purger
        let job = try WipeJob(profile: profile, target: try FileWipeTarget(path: image.path), options: options)
        let events = EventLog()
        let collector = Task { for await event in job.events { events.append(event) } }
        let report = job.runBlocking()
        _ = collector
        return (report, try image.contents(), events.all)
    }

    final class EventLog: @unchecked Sendable {
        private let lock = NSLock()
        private var events: [WipeEvent] = []
        func append(_ event: WipeEvent) { lock.lock(); events.append(event); lock.unlock() }
        var all: [WipeEvent] { lock.lock(); defer { lock.unlock() }; return events }
    }

    @Test func withoutAPurgerTheJobFailsAndWritesNothing() throws {
        let (report, bytes, _) = try run(profile(finalOverwrite: true), purger: nil)
        #expect(report.firmware?.outcome == .failed)
        #expect(!report.succeeded)
        guard case .failed(let reason) = report.status else { Issue.record("status \(report.status)"); return }
        #expect(reason.code == .firmwareEraseFailed)
        #expect(report.passes.isEmpty)
        #expect(bytes.allSatisfy { $0 == 0 })   // the sparse file was never written
    }

    @Test func aPurgeWithoutFinalOverwriteRunsNoPassAndSucceeds() throws {
        let (report, _, _) = try run(profile(finalOverwrite: false), purger: ScriptedPurger(outcome: .purged))
        #expect(report.firmware?.outcome == .purged)
        #expect(report.passes.isEmpty)
        #expect(report.plannedPassCount == 0)
        #expect(report.nistCategory == .purge)
        #expect(report.succeeded)
    }

    @Test func aPurgeWithFinalOverwriteRunsThePasses() throws {
        let (report, bytes, _) = try run(profile(finalOverwrite: true), purger: ScriptedPurger(outcome: .purged))
        #expect(report.passes.count == 1)
        #expect(report.succeeded)
        #expect(bytes.allSatisfy { $0 == 0x5A })
    }

    @Test func theOverwriteFallbackRunsThePassesAsClear() throws {
        let (report, bytes, _) = try run(profile(finalOverwrite: false), purger: ScriptedPurger(outcome: .overwriteFallback))
        #expect(report.firmware?.outcome == .overwriteFallback)
        #expect(report.nistCategory == .clear)
        #expect(report.passes.count == 1)
        #expect(report.succeeded)
        #expect(bytes.allSatisfy { $0 == 0x5A })
    }

    @Test func aFailedPurgeRunsNoPassAndNeverSucceeds() throws {
        let (report, bytes, _) = try run(profile(finalOverwrite: true), purger: ScriptedPurger(outcome: .failed))
        #expect(!report.succeeded)
        #expect(report.passes.isEmpty)
        #expect(!bytes.contains(0x5A))
    }

    @Test func seededSampleContentIsNeverUniformAndDependsOnSeedAndIndex() {
        let a = SampledBlocks.seedContent(seed: testSeed, index: 0, length: 4096)
        #expect(Set(a).count > 200)
        #expect(a == SampledBlocks.seedContent(seed: testSeed, index: 0, length: 4096))
        #expect(a != SampledBlocks.seedContent(seed: testSeed, index: 1, length: 4096))
        #expect(a != SampledBlocks.seedContent(seed: Array(testSeed.reversed()), index: 0, length: 4096))
    }
}
