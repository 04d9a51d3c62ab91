import Bench
import Certificates
import DeviceKit
import Foundation
import Journal
import Sanitize
import Testing
import WipeEngine

/// `SanitizeFlow` (what `ardoise sanitize` runs on a real drive) without hardware: a simulated
/// drive answering the same command bytes, whose media is a regular file read back through
/// the `WipeTarget` protocol. The flow is the daemon's purge of one drive: the same firmware
/// step, journal rows and certificate. No root needed.
@Suite struct SanitizeFlowTests {
    struct Rig {
        let directory: String
        let media: String
        var config = BenchConfig()

        init() throws {
            directory = NSTemporaryDirectory() + "ardoise-sanitizeflow-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            media = directory + "/media.img"
            var data = [UInt8](repeating: 0, count: Int(FirmwarePurgeTests.sectors) * 512)
            var generator = FirmwarePurgeTests.SplitMix(seed: 7)
            for i in data.indices { data[i] = UInt8(truncatingIfNeeded: generator.next() >> 17) | 1 }
            FileManager.default.createFile(atPath: media, contents: Data(data))
            config.dataDirectory = directory + "/data"
            config.outputDirectory = directory + "/data/certificates"
            config.benchID = "bench-sanitize"
        }

        func cleanUp() { try? FileManager.default.removeItem(atPath: directory) }

        func bytes() throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: media))) }

        /// Runs the flow on the simulated drive: the firmware step is `DriveFirmwarePurger`
        /// journaled under the job, as on a claimed drive.
        func run(_ method: FirmwareEraseMethod, drive: FirmwarePurgeTests.DriveBox) async throws -> ErasureOutcome {
            let target = try FileWipeTarget(path: media)
            let factory: FirmwarePurgerFactory = { @Sendable jobID, journal in
                DriveFirmwarePurger(makeTransport: { (drive.transport, drive.type) },
                                    secretStore: JournalSecretStore(journal: journal, jobID: jobID),
                                    sleep: { _ in }, trace: DriveFirmwarePurger.journalTrace(journal, jobID: jobID))
            }
            let run = try SanitizeFlow.start(
                SanitizeRequest(path: media, method: method, deviceType: drive.type),
                medium: MediumDescription(imagePath: media, sizeInBytes: target.sizeInBytes, logicalSectorSize: 512),
                target: target, firmware: factory, config: config, technicianFallback: "tester", language: .english)
            return try await run.run()
        }
    }

    @Test func aCryptoScrambleIsJournaledVerifiedAndCertifiedLikeTheDaemonsPurge() async throws {
        let rig = try Rig()
        defer { rig.cleanUp() }
        let before = try rig.bytes()
        let drive = FirmwarePurgeTests.ssd()
        let file = SimulatedMediaFile(path: rig.media)
        drive.onMediaChange = { file.apply($0) }
        let outcome = try await rig.run(.ataSanitizeCrypto, drive: .init(drive, .sat))
        let firmware = try #require(outcome.report.firmware)
        #expect(firmware.outcome == .purged, "\(firmware.reason.english)")
        #expect(firmware.operations.map(\.method) == ["ata-sanitize-crypto"])
        #expect(SanitizeFlow.exitStatus(outcome) == 0)
        let after = try rig.bytes()
        #expect(after != before)

        // The certificate: a firmware purge, verified on samples.
        let certificate = try #require(outcome.certificate)
        #expect(certificate.status == .erased)
        #expect(certificate.signed.payload.sanitization.method == .firmware)
        #expect(certificate.signed.payload.sanitization.category == .purge)
        #expect(certificate.signed.payload.sanitization.profile == "sanitize-ata-sanitize-crypto")
        #expect(certificate.signed.payload.verification.method == .sampled)

        // The journal: the job, its command trace, its end, the samples' read-back.
        let journal = try JournalDatabase(dataDirectory: rig.config.dataDirectory)
        #expect(try journal.job(id: outcome.jobID)?.status == .completed)
        let kinds = try journal.events(jobID: outcome.jobID).map(\.kind)
        #expect(kinds.contains(JournalEventKind.firmwareCommand))
        #expect(kinds.contains(JournalEventKind.firmwareFinished))
        let samples = try #require(try journal.firmwareVerification(jobID: outcome.jobID))
        #expect(samples.result == .passed && samples.sampleCount >= 2002)
        #expect(try journal.passes(jobID: outcome.jobID).isEmpty)
        #expect(try journal.verifyChain().isIntact)
    }

    @Test func aFrozenDriveExitsWithTheFrozenStatusAndIsNeverCertifiedErased() async throws {
        let rig = try Rig()
        defer { rig.cleanUp() }
        let drive = FirmwarePurgeTests.ssd()
        drive.sanitizeFrozen = true
        drive.frozen = true
        let before = try rig.bytes()
        let outcome = try await rig.run(.ataSanitizeCrypto, drive: .init(drive, .sat))
        #expect(outcome.report.firmware?.failureCode == SanitizeError.Code.frozen.rawValue)
        #expect(SanitizeFlow.exitStatus(outcome) == 74)
        #expect(outcome.certificate?.status == .notErased)
        #expect(try rig.bytes() == before)
    }

    @Test func autoOnAHardDiskWithoutFirmwarePurgeSendsNoEraseAndSaysUseWipe() async throws {
        let rig = try Rig()
        defer { rig.cleanUp() }
        let drive = FirmwarePurgeTests.hdd(sanitizeOverwrite: false)
        let before = try rig.bytes()
        let outcome = try await rig.run(.auto, drive: .init(drive, .sat))
        #expect(outcome.report.firmware?.outcome == .failed)
        #expect(outcome.report.firmware?.failureCode == DriveFirmwarePurger.noFirmwarePurge)
        #expect(SanitizeFlow.exitStatus(outcome) == 80)
        #expect(outcome.report.passes.isEmpty)
        #expect(outcome.certificate?.status == .notErased)
        #expect(try rig.bytes() == before)
    }

    @Test func aDriveThatSaysDoneButErasesNothingFailsItsSamples() async throws {
        let rig = try Rig()
        defer { rig.cleanUp() }
        let drive = FirmwarePurgeTests.ssd()   // not attached: the "erase" leaves the media as it was
        let outcome = try await rig.run(.ataSanitizeCrypto, drive: .init(drive, .sat))
        #expect(outcome.report.firmware?.failureCode == SanitizeError.Code.verificationFailed.rawValue)
        #expect(SanitizeFlow.exitStatus(outcome) == 77)
        #expect(outcome.certificate?.status == .notErased)
    }

    @Test func besideARunningDaemonNothingIsOpenedOrSent() async throws {
        let rig = try Rig()
        defer { rig.cleanUp() }
        let daemon = try JournalOwnerLock.acquire(dataDirectory: rig.config.dataDirectory, role: .daemon)
        defer { withExtendedLifetime(daemon) {} }
        let drive = FirmwarePurgeTests.ssd()
        await #expect {
            _ = try await rig.run(.ataSanitizeCrypto, drive: .init(drive, .sat))
        } throws: { error in
            (error as? JournalError)?.code == .ownedByAnotherProcess
        }
    }

    @Test func theStandaloneProfileIsTheFirmwareStepAlone() {
        let profile = SanitizeFlow.profile(for: .nvmeSanitizeCrypto, restoreHiddenArea: true)
        #expect(profile.passes.isEmpty)
        #expect(profile.firmware == FirmwareStep(method: "nvme-sanitize-crypto", verification: .nistSample, restoreHiddenArea: true,
                                                 finalOverwrite: false, overwriteFallback: false))
        #expect(profile.nistCategory == .purge)
        // A firmware step writes: the job is certified, not a read-only check.
        #expect(!profile.isReadOnly)
    }
}
