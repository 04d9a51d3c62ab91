import ArdoiseTestSupport
import Foundation
import Journal
import Testing

/// One owner per journal (issue 11, item 1): the daemon holds the data directory's owner
/// lock for its life; `ardoise wipe` and a second daemon beside it refuse and name its PID,
/// and never touch its jobs; a `kill -9` frees the lock and the next owner recovers.
/// Root only (loop devices); CI runs as root.
@Suite(.serialized, .enabled(if: LoopDevice.isAvailable, "needs root to attach loop devices"))
struct OwnerLockTests {
    /// A daemon in auto mode whose job on a fresh loop drive is held (test pause) at the first
    /// read of its verification: a live job, state "running" in the journal.
    func daemonWithAHeldJob() throws -> (DaemonHarness, LoopDevice) {
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, profile: "zero")
        do {
            try harness.arm("verify")
            try harness.start()
            let loop = try LoopDevice(sizeInBytes: 16 << 20, in: harness.drivesDirectory)
            do {
                try harness.waitForPause("verify", timeout: 60)
            } catch {
                loop.detach()
                throw error
            }
            return (harness, loop)
        } catch {
            harness.cleanUp()
            throw error
        }
    }

    func jobs(_ harness: DaemonHarness) throws -> [[String: Any]] {
        let output = try Shell.run(ArdoiseExecutable.path, ["journal", "jobs", "--json", "--data-dir", harness.dataDirectory])
        return (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]) ?? []
    }

    func events(_ harness: DaemonHarness) throws -> [String] {
        let journal = try JournalDatabase(dataDirectory: harness.dataDirectory)
        return try journal.events().map(\.kind)
    }

    @Test func aWipeBesideTheDaemonRefusesNamingItsPIDAndLeavesTheLiveJobRunning() throws {
        let (harness, loop) = try daemonWithAHeldJob()
        defer { harness.cleanUp() }
        defer { loop.detach() }
        let pid = try #require(harness.processIdentifier)
        let before = try jobs(harness)
        #expect(before.count == 1)
        #expect(before.first?["status"] as? String == "running")
        let eventsBefore = try events(harness)

        // An image the wipe would erase: it must stay as it is.
        let image = harness.directory.appendingPathComponent("image.img")
        let content = Data(repeating: 0x77, count: 1 << 20)
        try content.write(to: image)
        for lang in ["fr", "en"] {
            let result = try Shell.runCapturing(ArdoiseExecutable.path, [
                "wipe", image.path, "--image", "--yes", "--profile", "zero", "--lang", lang,
                "--config", harness.configPath, "--data-dir", harness.dataDirectory])
            #expect(result.status == 58, "\(result)")
            #expect(result.standardError.contains("PID \(pid)"), "\(result.standardError)")
            #expect(result.standardError.contains("ardoise start"), "\(result.standardError)")
            #expect(result.standardError.contains(lang == "fr" ? "démon" : "daemon"), "\(result.standardError)")
        }
        #expect(try Data(contentsOf: image) == content)

        // The daemon's job is untouched: still running, no event was appended.
        let after = try jobs(harness)
        #expect(after.count == 1)
        #expect(after.first?["id"] as? String == before.first?["id"] as? String)
        #expect(after.first?["status"] as? String == "running")
        #expect(try events(harness) == eventsBefore)
        #expect(harness.state(loop.path) != "interrupted")

        // And it goes on to the end once released.
        harness.release("verify")
        let slot = try harness.waitForState(loop.path, ["done", "done-with-exceptions", "failed", "interrupted"], timeout: 60)
        #expect(slot["state"] as? String == "done", "\(slot)\n\(harness.log())")
        #expect(try jobs(harness).first?["status"] as? String == "completed")
    }

    @Test func aSecondDaemonOnTheSameDataDirectoryRefusesNamingTheHolder() throws {
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, policy: "manual", profile: "zero")
        defer { harness.cleanUp() }
        try harness.start()
        let pid = try #require(harness.processIdentifier)
        #expect(JournalOwnerLock.holder(dataDirectory: harness.dataDirectory) == .init(pid: pid, role: .daemon))
        let second = try Shell.runCapturing("/usr/bin/timeout", [
            "30", ArdoiseExecutable.path, "daemon", "--config", harness.configPath, "--hotplug-source", "kernel"])
        #expect(second.status == 58, "\(second)")
        #expect(second.standardError.contains("PID \(pid)"), "\(second.standardError)")
        #expect(second.standardError.contains("Un seul démon"), "\(second.standardError)")
        // The first one still serves.
        #expect(harness.isRunning)
        #expect(try harness.status()["slots"] != nil)
    }

    @Test func afterKill9TheLockIsFreeAndTheNextOwnerRecoversTheJob() throws {
        let (harness, loop) = try daemonWithAHeldJob()
        defer { harness.cleanUp() }
        defer { loop.detach() }
        let first = try #require(harness.processIdentifier)
        #expect(JournalOwnerLock.holder(dataDirectory: harness.dataDirectory)?.pid == first)
        harness.kill9()
        // The kernel released the flock with the process; the file still names the dead PID.
        #expect(JournalOwnerLock.holder(dataDirectory: harness.dataDirectory) == nil)
        #expect(try jobs(harness).first?["status"] as? String == "running")

        try harness.writeConfig(policy: "manual", profile: "zero")
        try harness.start()
        let second = try #require(harness.processIdentifier)
        #expect(second != first)
        #expect(JournalOwnerLock.holder(dataDirectory: harness.dataDirectory) == .init(pid: second, role: .daemon))
        let jobs = try jobs(harness)
        #expect(jobs.count == 1)
        #expect(jobs.first?["status"] as? String == "interrupted")
    }
}
