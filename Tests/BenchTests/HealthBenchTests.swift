import ArdoiseTestSupport
import Foundation
import Journal
import Testing

/// The daemon reads each drive's health before erasing it, records it, and obeys
/// `[health] on-discard`. Loop devices have no SMART (verdict `unknown`); a stand-in smartctl
/// (`[health] smartctl`) that prints a failing drive's saved output gives a `discard`.
@Suite(.serialized, .enabled(if: LoopDevice.isAvailable, "needs root to attach loop devices"))
struct HealthBenchTests {
    static let finalStates: Set<String> = ["done", "done-with-exceptions", "failed", "interrupted", "removed"]

    /// A shell script that answers like smartctl on a failing drive (exit status 0xD8).
    static func failingSmartctl(in directory: URL) throws -> String {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("DiagnosticsTests/Fixtures/ata-hdd-failing.json").path
        let script = directory.appendingPathComponent("fake-smartctl").path
        try "#!/bin/sh\ncat '\(fixture)'\nexit 216\n".write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        return script
    }

    static func appendHealth(_ harness: DaemonHarness, _ lines: String) throws {
        let text = try String(contentsOfFile: harness.configPath, encoding: .utf8)
        try (text + "\n\n[health]\n" + lines + "\n").write(toFile: harness.configPath, atomically: true, encoding: .utf8)
    }

    static func healthEvents(_ harness: DaemonHarness) throws -> [[String: Any]] {
        let journal = try JournalDatabase(dataDirectory: harness.dataDirectory, recoverInterruptedJobs: false)
        return try journal.events().filter { $0.kind == JournalEventKind.driveHealth }.compactMap {
            try JSONSerialization.jsonObject(with: Data($0.payload.utf8)) as? [String: Any]
        }
    }


    @Test func aLoopDriveIsErasedAndItsUnknownHealthIsJournaledAndCertified() throws {
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, profile: "zero")
        defer { harness.cleanUp() }
        try harness.start()
        let loop = try LoopDevice(sizeInBytes: 16 << 20, in: harness.drivesDirectory, ownNode: true)
        defer { loop.detach() }
        let slot = try harness.waitForState(loop.path, Self.finalStates, timeout: 120)
        #expect(slot["state"] as? String == "done", "\(slot)\n\(harness.log())")
        #expect(slot["health"] as? String == "unknown")
        let certificate = try #require(slot["certificate"] as? String)
        let health = try #require(try CertificateFile.payload(atPath: certificate)["health"] as? [String: Any])
        #expect(health["verdict"] as? String == "unknown")
        #expect((health["reasons"] as? [[String: Any]])?.first?["severity"] as? String == "unknown")
        #expect(health["checkedAt"] is String)
        #expect((health["policyVersion"] as? String)?.contains("ardoise-default") == true)
        #expect(try Shell.runCapturing(ArdoiseExecutable.path, ["cert", "verify", certificate, "--data-dir", harness.dataDirectory]).status == 0)
        harness.stop()
        let listed = try Shell.run(ArdoiseExecutable.path, ["journal", "jobs", "--json", "--data-dir", harness.dataDirectory])
        let jobs = try #require(try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [[String: Any]])
        #expect(jobs.first?["health"] as? String == "unknown")
        let events = try Self.healthEvents(harness)
        #expect(events.count == 1)
        #expect(events.first?["action"] as? String == "erase")
        #expect((events.first?["report"] as? [String: Any])?["verdict"] as? String == "unknown")
    }

    @Test func aDiscardDriveIsSkippedNeverCertifiedAndMarkedForDestruction() throws {
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, profile: "zero")
        defer { harness.cleanUp() }
        try Self.appendHealth(harness, "on-discard = \"skip-and-mark\"\nsmartctl = \"\(try Self.failingSmartctl(in: harness.directory))\"")
        try harness.start()
        let loop = try LoopDevice(sizeInBytes: 16 << 20, in: harness.drivesDirectory, fill: 0x77, ownNode: true)
        defer { loop.detach() }
        let slot = try harness.waitForState(loop.path, Self.finalStates, timeout: 120)
        #expect(slot["state"] as? String == "failed", "\(slot)\n\(harness.log())")
        #expect(slot["health"] as? String == "discard")
        #expect((slot["reason"] as? String)?.contains("à détruire") == true, "\(slot)")
        #expect(slot["certificate"] == nil || slot["certificate"] is NSNull)
        // Not one byte written.
        #expect(FileManager.default.contents(atPath: loop.backingFile.path) == Data(repeating: 0x77, count: 16 << 20))
        let certificates = (try? FileManager.default.contentsOfDirectory(atPath: harness.certificateDirectory)) ?? []
        #expect(certificates.filter { $0.hasSuffix(".json") }.isEmpty)
        harness.stop()
        let events = try Self.healthEvents(harness)
        #expect(events.first?["action"] as? String == "skip")
        #expect((events.first?["report"] as? [String: Any])?["verdict"] as? String == "discard")
    }

    /// `ardoise cancel` while the job is still reading the drive's health (held at the `health`
    /// pause point, before anything is claimed): the job ends `interrupted` ("cancelled"), not
    /// one byte is written, no certificate, no job row, and the journal says so.
    @Test func aCancelDuringTheHealthCheckEndsTheJobBeforeAnythingIsWritten() throws {
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, profile: "zero")
        defer { harness.cleanUp() }
        try harness.arm("health")
        try harness.start()
        let loop = try LoopDevice(sizeInBytes: 16 << 20, in: harness.drivesDirectory, fill: 0x77, ownNode: true)
        defer { loop.detach() }
        try harness.waitForPause("health", timeout: 60)
        let cancel = try Shell.runCapturing(ArdoiseExecutable.path, ["cancel", loop.path, "--socket", harness.socketPath])
        #expect(cancel.status == 0, "\(cancel.standardError)")
        // The screen says it is being cancelled while the health reading is still held.
        try harness.waitFor(loop.path, timeout: 30, "cancelling") { ($0["reason"] as? String) == "annulation…" }
        harness.release("health")
        let slot = try harness.waitForState(loop.path, Self.finalStates, timeout: 60)
        #expect(slot["state"] as? String == "interrupted", "\(slot)\n\(harness.log())")
        #expect(slot["reason"] as? String == "annulé avant l'effacement, rien n'a été écrit", "\(slot)")
        #expect(slot["certificate"] == nil || slot["certificate"] is NSNull)
        #expect(FileManager.default.contents(atPath: loop.backingFile.path) == Data(repeating: 0x77, count: 16 << 20))
        let certificates = (try? FileManager.default.contentsOfDirectory(atPath: harness.certificateDirectory)) ?? []
        #expect(certificates.filter { $0.hasSuffix(".json") }.isEmpty)
        let logged = try harness.waitForLog("job cancelled before the erasure", timeout: 1)
        #expect(DaemonHarness.logField("stage", in: logged) == "health-check", "\(logged)")
        harness.stop()
        let journal = try JournalDatabase(dataDirectory: harness.dataDirectory, recoverInterruptedJobs: false)
        let cancelled = try journal.events().filter { $0.kind == JournalEventKind.jobCancelled }
        #expect(cancelled.count == 1)
        let event = try #require(cancelled.first)
        let payload = try #require(try JSONSerialization.jsonObject(with: Data(event.payload.utf8)) as? [String: Any])
        #expect(payload["device"] as? String == loop.path)
        #expect(payload["stage"] as? String == "health-check")
        #expect(payload["healthVerdict"] as? String == "unknown")
        #expect(try journal.events().filter { $0.kind == JournalEventKind.jobStarted }.isEmpty)
        let listed = try Shell.run(ArdoiseExecutable.path, ["journal", "jobs", "--json", "--data-dir", harness.dataDirectory])
        #expect((try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [[String: Any]])?.isEmpty == true)
    }

    @Test func aDiscardDriveIsErasedAndMarkedByDefault() throws {
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, profile: "zero")
        defer { harness.cleanUp() }
        try Self.appendHealth(harness, "smartctl = \"\(try Self.failingSmartctl(in: harness.directory))\"")
        try harness.start()
        let loop = try LoopDevice(sizeInBytes: 16 << 20, in: harness.drivesDirectory, fill: 0x77, ownNode: true)
        defer { loop.detach() }
        let slot = try harness.waitForState(loop.path, Self.finalStates, timeout: 120)
        #expect(slot["state"] as? String == "done", "\(slot)\n\(harness.log())")
        #expect(slot["health"] as? String == "discard")
        let certificate = try #require(slot["certificate"] as? String)
        let payload = try CertificateFile.payload(atPath: certificate)
        #expect((payload["result"] as? [String: Any])?["status"] as? String == "erased")
        let health = try #require(payload["health"] as? [String: Any])
        #expect(health["verdict"] as? String == "discard")
        #expect(health["powerOnHours"] as? Int == 41022)
        let reasons = try #require(health["reasons"] as? [[String: Any]])
        #expect(reasons.contains { $0["code"] as? String == "ata_reallocated_sectors" && $0["value"] as? Int == 2472 })
        #expect(try Shell.runCapturing(ArdoiseExecutable.path, ["cert", "verify", certificate, "--data-dir", harness.dataDirectory]).status == 0)
    }
}

@Suite struct HealthPolicyAtDaemonStartTests {
    @Test(.enabled(if: getuid() == 0, "the daemon needs root"))
    func anInvalidHealthPolicyStopsTheDaemonWithFileLineAndField() throws {
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, policy: "manual", profile: "zero")
        defer { harness.cleanUp() }
        let policy = harness.directory.appendingPathComponent("health.toml").path
        try "schema = 1\nname = \"x\"\nversion = \"1\"\n\n[smart]\noverall-failed = \"maybe\"\n".write(toFile: policy, atomically: true, encoding: .utf8)
        try HealthBenchTests.appendHealth(harness, "policy = \"\(policy)\"")
        let refused = try Shell.runCapturing(ArdoiseExecutable.path, ["daemon", "--config", harness.configPath])
        #expect(refused.status == 88)
        // The bench's language (fr) is the daemon's.
        #expect(refused.standardError.contains("\(policy):6: champ 'smart.overall-failed'"), "\(refused.standardError)")
    }
}
