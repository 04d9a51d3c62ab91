import ArdoiseSupport
import Bench
import Certificates
import Foundation
import Journal
import Testing
import WipeEngine

/// `WipeFlow` (the flow behind `ardoise wipe`) on image files: checks before anything is
/// asked, the technician's confirmation rule, the journal's single owner, the parallel run
/// and its records. Regular files through the `WipeTarget` protocol; no root needed.
@Suite struct WipeFlowTests {
    /// A temporary bench with image files full of "user data".
    struct Rig {
        let directory: String
        var config = BenchConfig()

        init() throws {
            directory = NSTemporaryDirectory() + "ardoise-wipeflow-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            config.dataDirectory = directory + "/data"
            config.outputDirectory = directory + "/data/certificates"
            config.benchID = "bench-flow"
            config.organisationName = "Atelier test"
            config.bufferSize = 1 << 20
        }

        func image(_ name: String, size: Int, fill: UInt8 = 0x3C) -> String {
            let path = directory + "/" + name
            FileManager.default.createFile(atPath: path, contents: Data(repeating: fill, count: size))
            return path
        }

        func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

        func cleanUp() { try? FileManager.default.removeItem(atPath: directory) }
    }

    @Test func twoImagesConfirmedAreErasedInParallelJournaledAndCertified() async throws {
        let bench = try Rig()
        defer { bench.cleanUp() }
        let first = bench.image("first.img", size: 3 << 20)
        let second = bench.image("second.img", size: (2 << 20) + 4096)
        let flow = try WipeFlow.prepare(WipeRequest(targets: [first, second], profileName: "nist-800-88-clear", images: true),
                                        config: bench.config)
        #expect(flow.needsConfirmation)
        #expect(flow.candidates.map(\.medium.path) == [first, second])
        // An image's "serial" is its file name: the technician types its last 4 characters.
        #expect(flow.candidates[0].confirmation.expectedAnswer(in: .english) == ".img")
        #expect(flow.confirm(0, answer: " .IMG ", language: .english))
        #expect(flow.confirm(1, answer: ".img", language: .french))

        let run = try flow.start(technicianFallback: "tester", language: .english)
        let events = EventCounter()
        let outcomes = try await run.run { index, event in
            if case .passFinished = event { events.add(index) }
        }
        #expect(outcomes.count == 2)
        #expect(outcomes.map(\.report.targetName) == [first, second])
        #expect(events.counts == [0: 1, 1: 1])
        for (path, outcome) in zip([first, second], outcomes) {
            #expect(try bench.bytes(path).allSatisfy { $0 == 0 }, "\(path)")
            #expect(outcome.jobStatus == .completed)
            #expect(outcome.certificate?.status == .erased)
            let certificate = try #require(outcome.certificate)
            #expect(FileManager.default.fileExists(atPath: certificate.jsonPath))
        }
        #expect(WipeRun.exitStatus(outcomes, profile: flow.profile) == 0)

        // The journal holds both jobs, each with its verified pass.
        let journal = try JournalDatabase(dataDirectory: bench.config.dataDirectory)
        for outcome in outcomes {
            #expect(try journal.job(id: outcome.jobID)?.status == .completed)
            #expect(try journal.passes(jobID: outcome.jobID).count == 1)
        }
    }

    @Test func aDriveNotConfirmedIsNeverOpenedNorWritten() throws {
        let bench = try Rig()
        defer { bench.cleanUp() }
        let first = bench.image("a.img", size: 1 << 20)
        let second = bench.image("b.img", size: 1 << 20)
        let flow = try WipeFlow.prepare(WipeRequest(targets: [first, second], profileName: "zero", images: true), config: bench.config)
        #expect(!flow.confirm(0, answer: "nope", language: .english))
        #expect(flow.confirm(0, answer: ".img", language: .english))
        #expect(!flow.confirm(5, answer: ".img", language: .english))
        // The second was never confirmed: the flow refuses to start, whatever the caller does.
        #expect {
            _ = try flow.start(technicianFallback: "tester", language: .english)
        } throws: { error in
            (error as? WipeFlowError)?.code == .notConfirmed && (error as? WipeFlowError)?.path == second
        }
        #expect(try bench.bytes(first).allSatisfy { $0 == 0x3C })
        #expect(try bench.bytes(second).allSatisfy { $0 == 0x3C })
        // No journal was opened, so no job was recorded.
        #expect(!FileManager.default.fileExists(atPath: bench.config.dataDirectory + "/" + JournalDatabase.fileName))
    }

    @Test func withAssumeYesNothingIsAskedAndAReadOnlyProfileOnlyChecks() async throws {
        let bench = try Rig()
        defer { bench.cleanUp() }
        let dirty = bench.image("dirty.img", size: 1 << 20)
        let blank = bench.image("blank.img", size: 1 << 20, fill: 0)
        let flow = try WipeFlow.prepare(WipeRequest(targets: [dirty, blank], profileName: "verify-zero", images: true, assumeYes: true),
                                        config: bench.config)
        #expect(!flow.needsConfirmation)
        let outcomes = try await flow.start(technicianFallback: "tester", language: .english).run()
        #expect(outcomes.map(\.report.succeeded) == [false, true])
        // A check issues no erasure certificate, and its failure is the command's failure.
        #expect(outcomes.allSatisfy { $0.certificate == nil })
        #expect(WipeRun.exitStatus(outcomes, profile: flow.profile) == 31)
        #expect(try bench.bytes(dirty).allSatisfy { $0 == 0x3C })
    }

    @Test func aFirmwareProfileOnAnImageIsRefusedBeforeAnythingIsOpened() throws {
        let bench = try Rig()
        defer { bench.cleanUp() }
        let path = bench.image("ssd.img", size: 1 << 20)
        #expect {
            _ = try WipeFlow.prepare(WipeRequest(targets: [path], profileName: "nist-800-88-purge", images: true, assumeYes: true),
                                 config: bench.config)
        } throws: { error in
            (error as? WipeFlowError)?.code == .firmwareProfileOnImage && (error as? WipeFlowError)?.exitStatus == 31
        }
        #expect(try bench.bytes(path).allSatisfy { $0 == 0x3C })
    }

    @Test func anUnknownProfileIsRefusedWithTheEngineError() throws {
        let bench = try Rig()
        defer { bench.cleanUp() }
        let path = bench.image("x.img", size: 1 << 20)
        #expect {
            _ = try WipeFlow.prepare(WipeRequest(targets: [path], profileName: "no-such-profile", images: true), config: bench.config)
        } throws: { error in
            (error as? WipeEngineError)?.code == .profileNotFound
        }
    }

    @Test func anotherOwnerOfTheDataDirectoryStopsTheFlowBeforeAnyTargetIsOpened() throws {
        let bench = try Rig()
        defer { bench.cleanUp() }
        let path = bench.image("y.img", size: 1 << 20)
        let other = try JournalOwnerLock.acquire(dataDirectory: bench.config.dataDirectory, role: .daemon)
        defer { withExtendedLifetime(other) {} }
        #expect {
            _ = try WipeFlow.prepare(WipeRequest(targets: [path], profileName: "zero", images: true, assumeYes: true), config: bench.config)
        } throws: { error in
            (error as? JournalError)?.code == .ownedByAnotherProcess
        }
        #expect(try bench.bytes(path).allSatisfy { $0 == 0x3C })
    }

    @Test func cancellingTheRunInterruptsEveryJobAndCertifiesNothingAsErased() async throws {
        let bench = try Rig()
        defer { bench.cleanUp() }
        let path = bench.image("z.img", size: 8 << 20)
        let flow = try WipeFlow.prepare(WipeRequest(targets: [path], profileName: "dod-5220-22m", images: true, assumeYes: true),
                                        config: bench.config)
        let run = try flow.start(technicianFallback: "tester", language: .english)
        run.cancel()
        let outcomes = try await run.run()
        #expect(outcomes.first?.jobStatus == .interrupted)
        #expect(outcomes.first?.certificate?.status == .notErased)
        #expect(WipeRun.exitStatus(outcomes, profile: flow.profile) == 31)
    }

    @Test func theConfirmationRuleWithoutASerialTakesYesOrOui() {
        let rule = ConfirmationRule(serial: "diskseq-12", hasSerial: false)
        #expect(rule.expectedAnswer(in: .french) == "oui")
        #expect(rule.accepts("yes", language: .french))
        #expect(rule.accepts("OUI", language: .english))
        #expect(!rule.accepts("q-12", language: .english))
        let serial = ConfirmationRule(serial: "WD-WCC4N1234567", hasSerial: true)
        #expect(serial.expectedAnswer(in: .english) == "4567")
        #expect(!serial.accepts("yes", language: .english))
        #expect(serial.accepts("4567\t", language: .english))
    }
}

/// Counts engine events per target index, from the jobs' threads.
final class EventCounter: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var storage: [Int: Int] = [:]
    func add(_ index: Int) { lock.lock(); storage[index, default: 0] += 1; lock.unlock() }
    var counts: [Int: Int] { lock.lock(); defer { lock.unlock() }; return storage }
}
