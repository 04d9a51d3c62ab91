import ArdoiseSupport
import Foundation
import Testing
@testable import WipeEngine

@Suite struct FaultInjectionTests {
    static let size = UInt64(3 << 20)

    static func profile(onError: ErrorPolicy, passes: [PassSpecification]? = nil) -> WipeProfile {
        WipeProfile(
            name: "test", title: LocalizedText(fr: "essai", en: "test"), standard: "test", nistCategory: .clear, onError: onError,
            passes: passes ?? [
                PassSpecification(pattern: .constant(0x00), verification: .full),
                PassSpecification(pattern: .prng(.xoshiro256StarStar), verification: .full),
            ])
    }

    static func run(_ profile: WipeProfile, faults: FaultyTarget.Faults, concurrent: Bool = true, hook: (@Sendable (PassRecord) -> Void)? = nil)
        throws -> (WipeReport, FaultyTarget, TemporaryImage)
    {
        let image = try TemporaryImage(size: size)
        let target = try FaultyTarget(path: image.path, logicalSectorSize: 4096, faults: faults, concurrent: concurrent)
        let job = try WipeJob(profile: profile, target: target, options: WipeOptions(bufferSize: 1 << 20, seed: testSeed, passHook: hook))
        return (job.runBlocking(), target, image)
    }

    @Test func persistentWriteErrorIsRetriedRecordedAndTolerated() throws {
        let bad = ByteRange(start: 1_507_328, end: 1_507_328 + 4096)  // one 4 KiB sector inside chunk 1
        let (report, _, image) = try Self.run(Self.profile(onError: .continue), faults: .init(badWriteRanges: [bad]))
        #expect(report.status == .completedWithExceptions)
        #expect(!report.succeeded)
        for pass in report.passes {
            #expect(pass.badRanges == [bad])
            #expect(pass.bytesWritten == Self.size - 4096)
            #expect(pass.ioErrorCount >= 3)  // the chunk, its 64 KiB piece, the sector
            // Verification skips the sector that was never written, and passes elsewhere.
            #expect(pass.verification?.result == .passed)
        }
        // Every other sector holds the last pass's stream.
        let bytes = try image.contents()
        let plan = PassPlanner.plan(profile: Self.profile(onError: .continue), seed: testSeed)
        let expected = plan[1].expectedBytes(at: 0, count: Int(Self.size))
        #expect(Array(bytes[..<Int(bad.start)]) == Array(expected[..<Int(bad.start)]))
        #expect(Array(bytes[Int(bad.end)...]) == Array(expected[Int(bad.end)...]))
    }

    @Test func persistentWriteErrorAbortsWhenTheProfileSaysSo() throws {
        let bad = ByteRange(start: 8192, end: 12288)
        let (report, _, _) = try Self.run(Self.profile(onError: .abort), faults: .init(badWriteRanges: [bad]))
        guard case .failed(let reason) = report.status else { Issue.record("status \(report.status)"); return }
        #expect(reason.code == .ioErrorAbort)
        #expect(reason.offset == 8192)
        #expect(report.passes.count == 1)
        #expect(report.passes[0].badRanges == [bad])
        #expect(!report.succeeded)
    }

    @Test func transientWriteErrorIsRetriedAndSucceeds() throws {
        let (report, _, _) = try Self.run(Self.profile(onError: .abort), faults: .init(badWriteRanges: [ByteRange(start: 0, end: 4096)], writeFailuresLeft: 1))
        #expect(report.status == .completed)
        #expect(report.succeeded)
        #expect(report.passes[0].ioErrorCount == 1)
        #expect(report.passes[0].badRanges.isEmpty)
    }

    @Test(arguments: [UInt64(0), 1_234_567, size - 1])
    func readMismatchFailsVerification(offset: UInt64) throws {
        let (report, _, _) = try Self.run(Self.profile(onError: .continue), faults: .init(corruptReadAt: offset))
        guard case .failed(let reason) = report.status else { Issue.record("status \(report.status)"); return }
        #expect(reason.code == .verificationMismatch)
        #expect(report.passes.first?.verification?.result == .failed)
        #expect(report.passes.first?.verification?.firstBadOffsets == [offset])
        #expect(report.passes.count == 1)
        #expect(!report.succeeded)
    }

    @Test func readMismatchIsCaughtBySampling() throws {
        // NIST sampling always reads the first and last blocks.
        let profile = Self.profile(onError: .continue, passes: [PassSpecification(pattern: .constant(0xFF), verification: .nistSample)])
        let image = try TemporaryImage(size: 16 << 20)
        let target = try FaultyTarget(path: image.path, logicalSectorSize: 512, faults: .init(corruptReadAt: (16 << 20) - 3))
        let report = try WipeJob(profile: profile, target: target, options: WipeOptions(seed: testSeed)).runBlocking()
        guard case .failed = report.status else { Issue.record("status \(report.status)"); return }
        #expect(report.passes[0].verification?.firstBadOffsets == [(16 << 20) - 3])
    }

    @Test func unreadableSectorDuringVerificationIsAnException() throws {
        let bad = ByteRange(start: 1 << 20, end: (1 << 20) + 4096)
        let (report, _, _) = try Self.run(Self.profile(onError: .continue), faults: .init(badReadRanges: [bad]))
        #expect(report.status == .completedWithExceptions)
        #expect(report.passes.allSatisfy { $0.verification?.result == .incomplete && $0.verification?.unreadableRanges == [bad] })
        #expect(!report.succeeded)
    }

    /// With one I/O thread nothing is attempted after the drive is gone; with several, only
    /// I/Os already taken by the other threads can still reach it (as with any queue depth).
    @Test(arguments: [false, true])
    func driveVanishingMidPassInterruptsAndNeverWritesAgain(concurrent: Bool) throws {
        let (report, target, _) = try Self.run(Self.profile(onError: .continue), faults: .init(vanishAfterBytesWritten: 2 << 20), concurrent: concurrent)
        guard case .interrupted(let reason) = report.status else { Issue.record("status \(report.status)"); return }
        #expect(reason.code == .vanished)
        // With several writers in flight the 2 MiB mark may only be seen in pass 2.
        #expect(reason.pass == report.passes.count)
        #expect(report.passes.last?.completed == false)
        #expect(report.passes.last?.bytesWritten ?? 0 < Self.size)
        if !concurrent { #expect(reason.pass == 1) }
        #expect(target.snapshot.writesAfterFault <= (concurrent ? WipeOptions().ioDepth - 1 : 0))
        #expect(!report.succeeded)
    }

    @Test func identityChangeBetweenPassesInterruptsBeforeWriting() throws {
        // Check 1 is before pass 1, check 2 before its verification, check 3 before pass 2.
        let writesAtEndOfPassOne = Counter()
        let (report, target, _) = try Self.run(
            Self.profile(onError: .continue), faults: .init(identityChangesAfterChecks: 2),
            hook: { _ in writesAtEndOfPassOne.increment() })
        guard case .interrupted(let reason) = report.status else { Issue.record("status \(report.status)"); return }
        #expect(reason.code == .identityChanged)
        #expect(reason.pass == 2)
        #expect(report.passes.count == 2)
        #expect(report.passes[0].completed && !report.passes[1].completed)
        #expect(report.passes[1].bytesWritten == 0)
        #expect(target.snapshot.written == Self.size)  // pass 1 only
        #expect(target.snapshot.writesAfterFault == 0)
        #expect(!report.succeeded)
    }

    @Test func identityChangeBeforeVerificationLeavesItNotRun() throws {
        let (report, target, _) = try Self.run(Self.profile(onError: .continue), faults: .init(identityChangesAfterChecks: 1))
        guard case .interrupted(let reason) = report.status else { Issue.record("status \(report.status)"); return }
        #expect(reason.code == .identityChanged && reason.pass == 1)
        #expect(report.passes.count == 1)
        #expect(report.passes[0].verification?.result == .notRun)
        #expect(report.passes[0].bytesWritten == Self.size && !report.passes[0].completed)
        #expect(report.passes[0].durationSeconds > 0)
        #expect(target.snapshot.writesAfterFault == 0)
        #expect(!report.succeeded)
    }

    @Test func repeatedIOErrorsMeanTheDriveIsGone() throws {
        let (report, target, _) = try Self.run(Self.profile(onError: .continue), faults: .init(badWriteRanges: [ByteRange(start: 0, end: Self.size)]))
        guard case .interrupted(let reason) = report.status else { Issue.record("status \(report.status)"); return }
        #expect(reason.code == .repeatedIOErrors)
        #expect(target.snapshot.written == 0)
        #expect(!report.succeeded)
    }

    @Test func cancellationInterrupts() throws {
        let image = try TemporaryImage(size: Self.size)
        let target = try FileWipeTarget(path: image.path)
        let box = JobBox()
        let job = try WipeJob(profile: Self.profile(onError: .continue), target: target,
                              options: WipeOptions(bufferSize: 1 << 20, seed: testSeed, passHook: { _ in box.job?.cancel() }))
        box.job = job
        let report = job.runBlocking()
        guard case .interrupted(let reason) = report.status else { Issue.record("status \(report.status)"); return }
        #expect(reason.code == .cancelled)
        #expect(report.passes.count == 2 && report.passes[1].bytesWritten == 0)
        #expect(!report.succeeded)
    }
}

final class JobBox: @unchecked Sendable {
    // Set once before the job runs, then only read.
    var job: WipeJob?
}
