import ArdoiseTestSupport
import Foundation
import Testing
@testable import Journal

/// `kill -9` at random moments while `ardoise journal _stress` writes: the journal must stay
/// readable, its chain intact, and the job that was running must be found interrupted.
@Suite struct KillSurvivalTests {
    /// The `ardoise` executable built next to the test bundle (.build/<triple>/debug).
    static func ardoiseExecutable() -> String? { ArdoiseExecutable.located }

    @Test(.timeLimit(.minutes(3)),
          .enabled(if: KillSurvivalTests.ardoiseExecutable() != nil, "needs the ardoise executable next to the tests (swift build)"))
    func journalSurvivesKill9() throws {
        let executable = try #require(Self.ardoiseExecutable())
        let directory = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var random = SplitMix64(seed: 0xA4D0_15E)
        let rounds = 6
        for round in 0..<rounds {
            let outPath = directory + "/stress-\(round).out"
            _ = FileManager.default.createFile(atPath: outPath, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["journal", "_stress", "--data-dir", directory + "/data"]
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Wait for the journal to be open (bounded), then let it write for a random while.
            let deadline = Date().addingTimeInterval(30)
            while !(String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self).contains("ready")),
                  process.isRunning, Date() < deadline {
                usleep(5_000)
            }
            #expect(process.isRunning, "round \(round): the stress process exited early")
            // The writer owns the journal while it runs (the previous round's killed one does not).
            #expect(JournalOwnerLock.holder(dataDirectory: directory + "/data") == .init(pid: process.processIdentifier, role: .maintenance))
            usleep(UInt32(20_000 + random.next() % 300_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal)
            #expect(process.terminationStatus == SIGKILL)
        }

        // kill -9 left the lock free (the kernel drops a dead process's flock): take it and recover.
        #expect(JournalOwnerLock.holder(dataDirectory: directory + "/data") == nil)
        let owner = try JournalOwnerLock.acquire(dataDirectory: directory + "/data", role: .maintenance)
        let journal = try JournalDatabase(dataDirectory: directory + "/data", owner: owner)
        let verification = try journal.verifyChain()
        #expect(verification.isIntact, "\(verification)")
        #expect(try journal.jobs(status: .running).isEmpty)
        let interrupted = try journal.jobs(status: .interrupted)
        // Each later start-up (and this open) found the killed round's job running.
        #expect(interrupted.count >= 1)
        #expect(interrupted.allSatisfy { $0.endedAt != nil && $0.reason != nil })
        let events = try journal.events()
        #expect(events.filter { $0.kind == JournalEventKind.jobInterrupted }.count == interrupted.count)
        #expect(try journal.jobs(status: .completed).count > 0)
    }
}
