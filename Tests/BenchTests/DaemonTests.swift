import ArdoiseTestSupport
import Foundation
import Testing

/// The daemon as a bench runs it: a child process, loop "drives" attached while it runs,
/// the kernel uevent source (no udevd here). Root only; CI runs as root.
@Suite(.serialized, .enabled(if: LoopDevice.isAvailable, "needs root to attach loop devices"))
struct DaemonTests {
    static let finalStates: Set<String> = ["done", "done-with-exceptions", "failed", "interrupted", "removed"]

    func isAllZero(_ url: URL) throws -> Bool {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            if chunk.contains(where: { $0 != 0 }) { return false }
        }
        return true
    }

    func verifyCertificate(_ path: String, harness: DaemonHarness) throws -> Int32 {
        try Shell.runCapturing(ArdoiseExecutable.path, ["cert", "verify", path, "--data-dir", harness.dataDirectory]).status
    }

    @Test func aDriveAttachedInAutoModeIsErasedVerifiedAndCertifiedWithoutAnyCommand() throws {
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, profile: "zero")
        defer { harness.cleanUp() }
        try harness.start()
        let loop = try LoopDevice(sizeInBytes: 32 << 20, in: harness.drivesDirectory, ownNode: true)
        defer { loop.detach() }
        let slot = try harness.waitForState(loop.path, Self.finalStates, timeout: 120)
        #expect(slot["state"] as? String == "done", "\(slot)\n\(harness.log())")
        let certificate = try #require(slot["certificate"] as? String)
        #expect(try CertificateFile.status(atPath: certificate) == "erased")
        #expect(try verifyCertificate(certificate, harness: harness) == 0)
        #expect(FileManager.default.fileExists(atPath: certificate.replacingOccurrences(of: ".json", with: ".pdf")))
        #expect(try isAllZero(loop.backingFile))
    }

    @Test(arguments: [2, 4])
    func severalDrivesAttachedAtOnceAllComplete(count: Int) throws {
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, profile: "zero", maxConcurrentJobs: 4)
        defer { harness.cleanUp() }
        try harness.start()
        // Nodes of their own: the slots are looked up by path, and other suites attach and detach
        // loop devices on the shared nodes meanwhile.
        let loops = try (0..<count).map { _ in try LoopDevice(sizeInBytes: 24 << 20, in: harness.drivesDirectory, ownNode: true) }
        defer { loops.forEach { $0.detach() } }
        for loop in loops {
            let slot = try harness.waitForState(loop.path, Self.finalStates, timeout: 180)
            #expect(slot["state"] as? String == "done", "\(slot)")
            let certificate = try #require(slot["certificate"] as? String)
            #expect(try verifyCertificate(certificate, harness: harness) == 0)
            #expect(try isAllZero(loop.backingFile))
        }
    }

    @Test func aDifferentDriveOnTheSameNodeIsNeverWrittenByTheOldJob() throws {
        let (harness, loop) = try startErasingALongJob()
        defer { harness.cleanUp() }
        defer { loop.detach() }
        // Detach and put another medium (outside the bench's directory) on the same node.
        let outside = harness.directory.appendingPathComponent("outside")
        let other = try loop.swapMedium(sizeInBytes: 64 << 20, fill: 0xA5, otherDirectory: outside, timeout: 30)
        let slot = try harness.waitFor(loop.path, timeout: 30, "the new medium") {
            ($0["diskSequence"] as? Int).map { $0 != 0 } == true && ($0["state"] as? String) == "protected"
        }
        #expect((slot["reason"] as? String)?.contains("autre programme") == true, "\(slot)")
        // Once the old job has ended it can write nothing more: then the other medium is checked.
        let ended = try harness.waitForLogLine(timeout: 30, "the old job's end") { $0.contains("job ended") && $0.contains("device=\(loop.path) ") }
        #expect(DaemonHarness.logField("state", in: ended) == "interrupted", "\(ended)")
        #expect(FileManager.default.contents(atPath: other.path) == Data(repeating: 0xA5, count: 64 << 20))
        // The old job ended interrupted and was never certified as erased.
        let jobs = try jobs(harness)
        #expect(jobs.count == 1)
        #expect(jobs.first?["status"] as? String == "interrupted")
        #expect(jobs.first?["reason"] as? String == "drive removed")
        #expect((jobs.first?["certificateStatus"] as? String) != "erased")
    }

    @Test func killMinus9DuringAWipeLeavesAnInterruptedJobAndAnIntactJournal() throws {
        let (harness, loop) = try startErasingALongJob()
        defer { harness.cleanUp() }
        defer { loop.detach() }
        harness.kill9()
        // Restart in manual mode: the drive still attached waits for the technician.
        try harness.writeConfig(policy: "manual", profile: "dod-5220-22m")
        try harness.start()
        let slot = try harness.waitForState(loop.path, ["waiting"], timeout: 30)
        #expect(slot["state"] as? String == "waiting")
        let jobs = try jobs(harness)
        #expect(jobs.count == 1)
        #expect(jobs.first?["status"] as? String == "interrupted")
        #expect(jobs.first?["certificate"] is NSNull)
        let verify = try Shell.runCapturing(ArdoiseExecutable.path, ["journal", "verify", "--data-dir", harness.dataDirectory])
        #expect(verify.status == 0, "\(verify.standardOutput)\(verify.standardError)")
        let certificates = (try? FileManager.default.contentsOfDirectory(atPath: harness.certificateDirectory)) ?? []
        for file in certificates where file.hasSuffix(".json") {
            #expect(try CertificateFile.status(atPath: harness.certificateDirectory + "/" + file) != "erased")
        }
    }

    /// SIGTERM (systemctl stop) during a job: the job is cancelled, ends interrupted in the
    /// journal (never certified as erased), the daemon waits for it, removes its socket and
    /// exits 0. Synchronised on events only: the job held at a pause point, the log lines.
    @Test func sigtermDuringAJobInterruptsItRecordsItAndRemovesTheSocket() throws {
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, profile: "zero")
        defer { harness.cleanUp() }
        try harness.arm("verify")
        try harness.start()
        let loop = try LoopDevice(sizeInBytes: 16 << 20, in: harness.drivesDirectory)
        defer { loop.detach() }
        try harness.waitForPause("verify", timeout: 60)
        let before = harness.logLength
        harness.send(SIGTERM)
        try harness.waitForLog("stopping: waiting for the running jobs to end", after: before, timeout: 30)
        #expect(harness.isRunning, "the daemon waits for its job")
        harness.release("verify")
        let status = harness.waitUntilExit()
        #expect(status == 0, "\(harness.log())")
        #expect(!FileManager.default.fileExists(atPath: harness.socketPath))
        #expect(harness.log().contains("control socket removed"))
        let ended = try harness.waitForLogLine(timeout: 1, "the job's end") { $0.contains("job ended") }
        #expect(DaemonHarness.logField("state", in: ended) == "interrupted", "\(ended)")
        let jobs = try jobs(harness)
        #expect(jobs.count == 1)
        #expect(jobs.first?["status"] as? String == "interrupted")
        #expect((jobs.first?["certificateStatus"] as? String) != "erased")
        let verify = try Shell.runCapturing(ArdoiseExecutable.path, ["journal", "verify", "--data-dir", harness.dataDirectory])
        #expect(verify.status == 0, "\(verify.standardOutput)\(verify.standardError)")
    }

    @Test func aConfigurationWithAnUnknownProfileIsRefusedAtStartAndABadReloadKeepsTheOldOne() throws {
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, policy: "manual", profile: "zero")
        defer { harness.cleanUp() }
        let good = try String(contentsOfFile: harness.configPath, encoding: .utf8)
        let bad = good.replacingOccurrences(of: "default = \"zero\"", with: "default = \"shred-it-all\"")
        try bad.write(toFile: harness.configPath, atomically: true, encoding: .utf8)
        let refused = try Shell.runCapturing(ArdoiseExecutable.path, ["daemon", "--config", harness.configPath, "--lang", "en"])
        #expect(refused.status == 40)
        let line = bad.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("shred-it-all") }.map { $0 + 1 }
        #expect(refused.standardError.contains("\(harness.configPath):\(line ?? -1): field 'profiles.default'"), "\(refused.standardError)")

        try good.write(toFile: harness.configPath, atomically: true, encoding: .utf8)
        try harness.start()
        try bad.write(toFile: harness.configPath, atomically: true, encoding: .utf8)
        let before = harness.logLength
        harness.send(SIGHUP)
        let logged = try harness.waitForLog("configuration not reloaded, keeping the previous one", after: before, timeout: 10)
        #expect(logged.hasPrefix("<3>ardoise-daemon: "), "\(logged)")
        #expect(logged.contains("profiles.default"), "\(logged)")
        #expect(harness.isRunning)
        #expect((try harness.status()["policy"] as? String) == "manual")
    }

    @Test func aFloodOfPlugAndUnplugEventsErasesNothingAndTheBenchKeepsServing() throws {
        // A flaky USB cable: the drive comes and goes faster than the grace period.
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, policy: "auto", graceSeconds: 3, profile: "zero")
        defer { harness.cleanUp() }
        try harness.start()
        let backing = harness.drivesDirectory.appendingPathComponent("flaky.img")
        FileManager.default.createFile(atPath: backing.path, contents: Data(repeating: 0x77, count: 8 << 20))
        for _ in 0..<15 {
            let device = try Shell.run("/sbin/losetup", ["-f", "--show", backing.path]).trimmingCharacters(in: .whitespacesAndNewlines)
            // The flaky cable itself: attached for 50 ms, far less than the grace period. This
            // is the input under test, not a wait for something.
            Thread.sleep(forTimeInterval: 0.05)
            try Shell.run("/sbin/losetup", ["-d", device])
        }
        // A negative check: nothing may start within the grace period (3 s) after the last
        // plug, and no event says "nothing started". The bench's own change stream is followed
        // over that window (plus 1 s), so a job that starts is seen the moment it does.
        var started: [String] = []
        try harness.observe(for: 4) { snapshot in
            for slot in (snapshot["slots"] as? [[String: Any]]) ?? [] {
                let state = slot["state"] as? String ?? ""
                if ["queued", "erasing", "verifying", "done", "done-with-exceptions"].contains(state) {
                    started.append("\(slot["device"] ?? "?") \(state)")
                }
            }
        }
        #expect(started.isEmpty, "\(started)")
        #expect(FileManager.default.contents(atPath: backing.path) == Data(repeating: 0x77, count: 8 << 20))
        #expect(try jobs(harness).isEmpty)
        // Still serving: a drive plugged in for good is erased. It may land on a node the flood
        // used, whose slot says "removed" until the daemon sees the new medium: wait for it.
        let loop = try LoopDevice(sizeInBytes: 8 << 20, in: harness.drivesDirectory)
        defer { loop.detach() }
        let diskseq = Int(try String(contentsOfFile: "/sys/block/\(loop.name)/diskseq", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines))
        let slot = try harness.waitFor(loop.path, timeout: 60, "the new medium's job to end") {
            $0["diskSequence"] as? Int == diskseq && Self.finalStates.contains($0["state"] as? String ?? "")
        }
        #expect(slot["state"] as? String == "done")
        let verify = try Shell.runCapturing(ArdoiseExecutable.path, ["journal", "verify", "--data-dir", harness.dataDirectory])
        #expect(verify.status == 0)
    }

    @Test func aFullDataDirectoryFailsTheJobWithoutCertifyingAndTheBenchKeepsServing() throws {
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, policy: "auto", profile: "zero")
        defer { harness.cleanUp() }
        // The data directory on a small tmpfs of its own, filled up once the daemon runs.
        try FileManager.default.createDirectory(atPath: harness.dataDirectory, withIntermediateDirectories: true)
        try Shell.run("/bin/mount", ["-t", "tmpfs", "-o", "size=8m", "ardoise-test-data", harness.dataDirectory])
        defer { _ = try? Shell.run("/bin/umount", [harness.dataDirectory]) }
        try harness.start()
        let filler = harness.dataDirectory + "/filler"
        _ = try? Shell.run("/bin/dd", ["if=/dev/zero", "of=\(filler)", "bs=1M", "count=16", "status=none"])
        let first = try LoopDevice(sizeInBytes: 8 << 20, in: harness.drivesDirectory)
        defer { first.detach() }
        let failed = try harness.waitForState(first.path, Self.finalStates, timeout: 60)
        #expect(failed["state"] as? String == "failed", "\(failed)")
        #expect(failed["certificate"] == nil)
        // Room again: the next drive goes through, and the journal is consistent.
        try FileManager.default.removeItem(atPath: filler)
        let second = try LoopDevice(sizeInBytes: 8 << 20, in: harness.drivesDirectory)
        defer { second.detach() }
        let done = try harness.waitForState(second.path, Self.finalStates, timeout: 60)
        #expect(done["state"] as? String == "done", "\(done)")
        harness.stop()
        let verify = try Shell.runCapturing(ArdoiseExecutable.path, ["journal", "verify", "--data-dir", harness.dataDirectory])
        #expect(verify.status == 0, "\(verify.standardOutput)\(verify.standardError)")
        for job in try jobs(harness) where job["status"] as? String != "completed" {
            #expect((job["certificateStatus"] as? String) != "erased")
        }
    }

    /// A daemon in auto mode busy with a 3-pass verified erase of a 256 MiB loop drive: the
    /// state in which the swap and crash cases strike. The caller cleans both up.
    func startErasingALongJob() throws -> (DaemonHarness, LoopDevice) {
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, profile: "dod-5220-22m")
        do {
            try harness.start()
            // A node of its own: the swap test frees it between the two media.
            let loop = try LoopDevice(sizeInBytes: 256 << 20, in: harness.drivesDirectory, ownNode: true)
            do {
                try harness.waitFor(loop.path, timeout: 60, "erasing") {
                    ($0["state"] as? String) == "erasing" && (($0["fraction"] as? Double) ?? 0) > 0
                }
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
}
