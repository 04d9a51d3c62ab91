import ArdoiseSupport
import ArdoiseTestSupport
import Bench
import Foundation
import Journal
import Testing
import WipeEngine

/// Pulls at exact moments (the daemon's test pause points) and re-plugs: resume after the
/// last completed pass, a different medium that must start fresh, a pull during a
/// verification, a pull while the certificate is written. Root only; CI runs as root.
@Suite(.serialized, .enabled(if: LoopDevice.isAvailable, "needs root to attach loop devices"))
struct ResumeTests {
    static let finalStates: Set<String> = ["done", "done-with-exceptions", "failed", "interrupted", "removed"]
    static let size = 32 << 20

    func jobs(_ harness: DaemonHarness) throws -> [[String: Any]] {
        let output = try Shell.run(ArdoiseExecutable.path, ["journal", "jobs", "--json", "--data-dir", harness.dataDirectory])
        return (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]) ?? []
    }

    func journalVerifies(_ harness: DaemonHarness) throws -> Bool {
        let verify = try Shell.runCapturing(ArdoiseExecutable.path, ["journal", "verify", "--data-dir", harness.dataDirectory])
        return verify.status == 0
    }

    func certificateVerifies(_ path: String, _ harness: DaemonHarness) throws -> Bool {
        try Shell.runCapturing(ArdoiseExecutable.path, ["cert", "verify", path, "--data-dir", harness.dataDirectory]).status == 0
    }

    /// Pulls `drive` while the daemon is paused at `point`, lets the job notice, and waits
    /// until the job on that node has ended.
    func pull(_ drive: ReplugDrive, pausedAt point: String, _ harness: DaemonHarness) throws -> [String: Any] {
        try harness.waitForPause(point)
        try drive.pull()
        // A loop device's detach waits for the job to close it, so its reads still succeed:
        // the job learns of the pull from the node's identity re-check, made at least every
        // 0.5 s of I/O (BlockDeviceHandle.periodicCheckInterval). Paused longer than that,
        // the first I/O after the release checks, as a real pulled drive's first I/O fails.
        // This wait is that interval itself (the behaviour under test), not a synchronisation.
        Thread.sleep(forTimeInterval: 1)
        harness.release(point)
        return try harness.waitFor(drive.path, timeout: 60, "the pulled job to end") { slot in
            Self.finalStates.contains(slot["state"] as? String ?? "") && slot["jobID"] is String
        }
    }

    /// A daemon running dod-5220-22m with `onReplug`, a drive plugged in, and that drive pulled
    /// once its job has finished pass 1: the first act of most resume tests. The caller cleans
    /// up both (drive first).
    func erasedPass1ThenPulled(onReplug: String) throws -> (harness: DaemonHarness, drive: ReplugDrive, firstJob: String, pulled: [String: Any]) {
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, profile: "dod-5220-22m", onReplug: onReplug)
        do {
            try harness.arm("after-pass-1")
            try harness.start()
            let drive = try ReplugDrive(sizeInBytes: Self.size, in: harness.drivesDirectory)
            do {
                let pulled = try pull(drive, pausedAt: "after-pass-1", harness)
                let firstJob = try #require(pulled["jobID"] as? String)
                return (harness, drive, firstJob, pulled)
            } catch {
                drive.cleanUp()
                throw error
            }
        } catch {
            harness.cleanUp()
            throw error
        }
    }

    /// The data the profile's pass `index` (1-based) writes with the seed the journal kept
    /// for `jobID`, compared with the whole file.
    func fileHoldsPass(_ index: Int, of profileName: String, jobID: UUID, file: URL, harness: DaemonHarness) throws -> Bool {
        let journal = try JournalDatabase(dataDirectory: harness.dataDirectory)
        let seed = try #require(try journal.jobSeed(jobID: jobID))
        let profile = try BenchConfig().profileLibrary().requireProfile(named: profileName)
        let pass = PassPlanner.plan(profile: profile, seed: seed)[index - 1]
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        var offset: UInt64 = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            guard chunk.elementsEqual(pass.expectedBytes(at: offset, count: chunk.count)) else { return false }
            offset += UInt64(chunk.count)
        }
        return offset == UInt64(Self.size)
    }

    @Test func aReplugOfTheSameDriveResumesAfterTheLastCompletedPassAndTheCertificateCoversAllPasses() throws {
        let (harness, drive, firstJob, pulled) = try erasedPass1ThenPulled(onReplug: "resume")
        defer { harness.cleanUp() }
        defer { drive.cleanUp() }
        #expect(["interrupted", "removed"].contains(pulled["state"] as? String), "\(pulled)")

        // The same file on the same node: a new diskseq, the same identity.
        try drive.plug()
        let done = try harness.waitFor(drive.path, timeout: 120, "the resumed job to end") { slot in
            Self.finalStates.contains(slot["state"] as? String ?? "") && (slot["jobID"] as? String).map { $0 != firstJob } == true
        }
        #expect(done["state"] as? String == "done-with-exceptions", "\(done)\n\(harness.log())")
        #expect(done["resumedFromJob"] as? String == firstJob)
        #expect((done["reason"] as? String)?.contains("resumed erasure") == true, "\(done)")
        let secondJob = try #require(done["jobID"] as? String)
        #expect(harness.log().contains("resumes=\(firstJob)") && harness.log().contains("from-pass=2/3"), "\(harness.log())")

        // The certificate lists the three passes and says which job ran which.
        let certificate = try #require(done["certificate"] as? String)
        #expect(try certificateVerifies(certificate, harness))
        let payload = try CertificateFile.payload(atPath: certificate)
        let passes = ((payload["sanitization"] as? [String: Any])?["passes"] as? [[String: Any]]) ?? []
        #expect(passes.compactMap { $0["index"] as? Int } == [0, 1, 2])
        #expect(passes.allSatisfy { ($0["verification"] as? [String: Any])?["result"] as? String == "passed" })
        let result = try #require(payload["result"] as? [String: Any])
        #expect(result["status"] as? String == "erased_with_exceptions")
        let exceptions = (result["exceptions"] as? [[String: Any]]) ?? []
        #expect(exceptions.count == 1, "\(exceptions)")
        let detail = exceptions.first?["detail"] as? String ?? ""
        #expect(detail.contains("pass(es) 1 ran in job \(firstJob)") && detail.contains("pass(es) 2 to 3 ran in job \(secondJob)"), "\(detail)")

        harness.stop()
        #expect(try journalVerifies(harness))
        let journal = try JournalDatabase(dataDirectory: harness.dataDirectory)
        let first = try #require(UUID(uuidString: firstJob)), second = try #require(UUID(uuidString: secondJob))
        #expect(try journal.resumption(jobID: second)?.resumedFromJobID == first)
        #expect(try journal.resumption(jobID: second)?.firstPassIndex == 1)
        #expect(try journal.passes(jobID: first).map(\.index) == [1])
        #expect(try journal.passes(jobID: second).map(\.index) == [2, 3])
        // Same seed: the resumed pass 2 is the complement of the earlier job's random byte.
        #expect(try journal.jobSeed(jobID: first) == journal.jobSeed(jobID: second))
        let byte = try #require(try journal.passes(jobID: first).first?.patternHex.flatMap { UInt8($0, radix: 16) })
        #expect(try journal.passes(jobID: second).first?.patternHex == String(format: "%02x", ~byte))
        // Byte for byte, the drive holds the final PRNG pass of that seed.
        #expect(try fileHoldsPass(3, of: "dod-5220-22m", jobID: first, file: drive.file, harness: harness))
    }

    @Test func aDifferentDriveOnTheSameNodeNeverResumesTheEarlierJob() throws {
        let (harness, drive, firstJob, pulled) = try erasedPass1ThenPulled(onReplug: "resume")
        defer { harness.cleanUp() }
        defer { drive.cleanUp() }

        // Another file of the same size and name pattern, on the same node.
        let other = harness.drivesDirectory.appendingPathComponent("other-drive.img")
        FileManager.default.createFile(atPath: other.path, contents: Data(repeating: 0x3C, count: Self.size))
        defer { try? FileManager.default.removeItem(at: other) }
        try drive.plug(other)
        let done = try harness.waitFor(drive.path, timeout: 120, "the new drive's job to end") { slot in
            Self.finalStates.contains(slot["state"] as? String ?? "") && (slot["jobID"] as? String).map { $0 != firstJob } == true
        }
        #expect(done["state"] as? String == "done", "\(done)\n\(harness.log())")
        #expect(done["resumedFromJob"] == nil)
        #expect(done["resumable"] == nil)
        let certificate = try #require(done["certificate"] as? String)
        #expect(try CertificateFile.status(atPath: certificate) == "erased")
        harness.stop()
        #expect(try journalVerifies(harness))
        let journal = try JournalDatabase(dataDirectory: harness.dataDirectory)
        let secondText = try #require(done["jobID"] as? String)
        let second = try #require(UUID(uuidString: secondText))
        #expect(try journal.resumption(jobID: second) == nil)
        #expect(try journal.passes(jobID: second).map(\.index) == [1, 2, 3])
        #expect(try fileHoldsPass(3, of: "dod-5220-22m", jobID: second, file: other, harness: harness))
        // The earlier drive kept what its first pass wrote: nothing else touched it.
        let firstID = try #require(UUID(uuidString: firstJob))
        #expect(try fileHoldsPass(1, of: "dod-5220-22m", jobID: firstID, file: drive.file, harness: harness))
    }

    @Test func aPullDuringAVerificationInterruptsTheJobAndAResumeRunsThatPassAgain() throws {
        // `ask`: the re-plugged drive waits and offers the choice; the technician resumes.
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, profile: "dod-5220-22m", onReplug: "ask")
        defer { harness.cleanUp() }
        try harness.arm("verify", "2")
        try harness.start()
        let drive = try ReplugDrive(sizeInBytes: Self.size, in: harness.drivesDirectory)
        defer { drive.cleanUp() }
        let pulled = try pull(drive, pausedAt: "verify", harness)
        let firstJob = try #require(pulled["jobID"] as? String)
        let jobs = try jobs(harness)
        #expect(jobs.count == 1)
        #expect(jobs.first?["status"] as? String == "interrupted")
        #expect(jobs.first?["reason"] as? String == "drive removed")
        #expect((jobs.first?["certificateStatus"] as? String) != "erased")

        try drive.plug()
        let waiting = try harness.waitFor(drive.path, timeout: 30, "the resume offer") { slot in
            slot["state"] as? String == "waiting" && slot["resumable"] != nil
        }
        // Pass 2 was written but its verification never finished: it runs again.
        let offer = try #require(waiting["resumable"] as? [String: Any])
        #expect(offer["completedPasses"] as? Int == 1)
        #expect(offer["passCount"] as? Int == 3)
        #expect(offer["jobID"] as? String == firstJob)
        #expect((waiting["reason"] as? String)?.contains("--resume") == true, "\(waiting)")
        let table = try Shell.run(ArdoiseExecutable.path, ["status", "--socket", harness.socketPath, "--lang", "en"])
        #expect(table.contains("\(drive.path): can resume at pass 2/3 of job \(firstJob)"), "\(table)")
        #expect(table.contains("reprise à la passe 2/3 ?"), "\(table)")  // the slot's reason, in the bench's language
        // A negative check over the grace period (1 s) and 1 s more: ask mode does not start by
        // itself. The bench's change stream is followed over that window, so a start is seen
        // the moment it happens.
        var states: Set<String> = []
        try harness.observe(for: 2) { snapshot in
            let slot = (snapshot["slots"] as? [[String: Any]])?.first { $0["device"] as? String == drive.path }
            if let state = slot?["state"] as? String { states.insert(state) }
        }
        #expect(states == ["waiting"], "\(states)")
        #expect(harness.state(drive.path) == "waiting")

        let started = try Shell.runCapturing(ArdoiseExecutable.path, ["start", drive.path, "--resume", "--socket", harness.socketPath])
        #expect(started.status == 0, "\(started.standardError)")
        let done = try harness.waitFor(drive.path, timeout: 120, "the resumed job to end") { slot in
            Self.finalStates.contains(slot["state"] as? String ?? "") && (slot["jobID"] as? String).map { $0 != firstJob } == true
        }
        #expect(done["state"] as? String == "done-with-exceptions", "\(done)\n\(harness.log())")
        let certificate = try #require(done["certificate"] as? String)
        #expect(try certificateVerifies(certificate, harness))
        harness.stop()
        #expect(try journalVerifies(harness))
        let journal = try JournalDatabase(dataDirectory: harness.dataDirectory)
        let secondText = try #require(done["jobID"] as? String)
        let second = try #require(UUID(uuidString: secondText))
        #expect(try journal.passes(jobID: second).map(\.index) == [2, 3])
        #expect(try fileHoldsPass(3, of: "dod-5220-22m", jobID: second, file: drive.file, harness: harness))
        // `journal jobs` links the resumed job to the one it continues.
        let row = try self.jobs(harness).first { $0["id"] as? String == secondText }
        #expect((row?["resumedFrom"] as? String) == firstJob)
        #expect((row?["firstPass"] as? Int) == 2)
    }

    @Test func afterKillMinus9TheDriveStillAttachedResumesAtTheFirstPassTheJournalDidNotRecord() throws {
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, profile: "dod-5220-22m", onReplug: "resume")
        defer { harness.cleanUp() }
        // Paused after pass 2: pass 1 is journaled, pass 2's record is not written yet.
        try harness.arm("after-pass-2")
        try harness.start()
        let drive = try ReplugDrive(sizeInBytes: Self.size, in: harness.drivesDirectory)
        defer { drive.cleanUp() }
        try harness.waitForPause("after-pass-2")
        let crashed = try #require(try harness.slot(drive.path)?["jobID"] as? String)
        harness.kill9()
        try harness.start()
        let done = try harness.waitFor(drive.path, timeout: 120, "the resumed job to end") { slot in
            Self.finalStates.contains(slot["state"] as? String ?? "") && (slot["jobID"] as? String).map { $0 != crashed } == true
        }
        #expect(done["state"] as? String == "done-with-exceptions", "\(done)\n\(harness.log())")
        #expect(done["resumedFromJob"] as? String == crashed)
        let certificate = try #require(done["certificate"] as? String)
        #expect(try certificateVerifies(certificate, harness))
        harness.stop()
        #expect(try journalVerifies(harness))
        let crashedRow = try jobs(harness).first { $0["id"] as? String == crashed }
        #expect(crashedRow?["status"] as? String == "interrupted")
        #expect(crashedRow?["certificate"] is NSNull)  // killed: never certified
        let journal = try JournalDatabase(dataDirectory: harness.dataDirectory)
        let secondText = try #require(done["jobID"] as? String)
        let second = try #require(UUID(uuidString: secondText))
        #expect(try journal.passes(jobID: second).map(\.index) == [2, 3])
        #expect(try fileHoldsPass(3, of: "dod-5220-22m", jobID: second, file: drive.file, harness: harness))
    }

    @Test func inAskModeStartRestartRunsTheWholeProfileAgain() throws {
        let (harness, drive, firstJob, pulled) = try erasedPass1ThenPulled(onReplug: "ask")
        defer { harness.cleanUp() }
        defer { drive.cleanUp() }
        try drive.plug()
        try harness.waitFor(drive.path, timeout: 30, "the resume offer") { $0["state"] as? String == "waiting" && $0["resumable"] != nil }
        let started = try Shell.runCapturing(ArdoiseExecutable.path, ["start", drive.path, "--restart", "--socket", harness.socketPath])
        #expect(started.status == 0, "\(started.standardError)")
        let done = try harness.waitFor(drive.path, timeout: 120, "the new job to end") { slot in
            Self.finalStates.contains(slot["state"] as? String ?? "") && (slot["jobID"] as? String).map { $0 != firstJob } == true
        }
        #expect(done["state"] as? String == "done", "\(done)\n\(harness.log())")
        #expect(done["resumedFromJob"] == nil)
        let certificate = try #require(done["certificate"] as? String)
        #expect(try CertificateFile.status(atPath: certificate) == "erased")
        harness.stop()
        let journal = try JournalDatabase(dataDirectory: harness.dataDirectory)
        let secondText = try #require(done["jobID"] as? String)
        let second = try #require(UUID(uuidString: secondText))
        #expect(try journal.resumption(jobID: second) == nil)
        #expect(try journal.passes(jobID: second).map(\.index) == [1, 2, 3])
        // A fresh job draws a fresh seed.
        let firstID = try #require(UUID(uuidString: firstJob))
        #expect(try journal.jobSeed(jobID: second) != journal.jobSeed(jobID: firstID))
    }

    @Test func startWithResumeIsRefusedWhenThereIsNothingToResume() throws {
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, policy: "manual", profile: "zero", onReplug: "ask")
        defer { harness.cleanUp() }
        try harness.start()
        let drive = try ReplugDrive(sizeInBytes: 8 << 20, in: harness.drivesDirectory)
        defer { drive.cleanUp() }
        try harness.waitForState(drive.path, ["waiting"], timeout: 30)
        let refused = try Shell.runCapturing(ArdoiseExecutable.path, ["start", drive.path, "--resume", "--socket", harness.socketPath, "--lang", "en"])
        #expect(refused.status == 1)
        #expect(refused.standardError.contains("aucune tâche interrompue à reprendre"), "\(refused.standardError)")
        let both = try Shell.runCapturing(ArdoiseExecutable.path, ["start", drive.path, "--resume", "--restart", "--socket", harness.socketPath])
        #expect(both.status != 0)
        #expect(harness.state(drive.path) == "waiting")
    }

    /// Decided behaviour: once the last pass is written and verified, the erasure is complete;
    /// pulling the drive while the certificate is written changes nothing on the medium, so
    /// the certificate is still issued ("erased"). It is written to a temporary file and
    /// renamed, so no half-written certificate is ever left under its name.
    @Test func aPullWhileTheCertificateIsWrittenStillCertifiesTheCompletedErasure() throws {
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, profile: "zero")
        defer { harness.cleanUp() }
        try harness.arm("certificate")
        try harness.start()
        let drive = try ReplugDrive(sizeInBytes: 16 << 20, in: harness.drivesDirectory)
        defer { drive.cleanUp() }
        try harness.waitForPause("certificate")
        let jobID = try #require(try harness.slot(drive.path)?["jobID"] as? String)
        try drive.pull()
        harness.release("certificate")
        // Once pulled, the loop node is free and another suite's test may attach its own
        // device there at once, replacing the node's slot: the job is followed through the
        // daemon's log lines, which name it, not through the node.
        let ended = try harness.waitForLogLine(timeout: 60, "the job's end") { $0.contains("job ended") && $0.contains("job=\(jobID)") }
        #expect(DaemonHarness.logField("state", in: ended) == "done", "\(ended)")
        let certificate = try #require(DaemonHarness.logField("certificate", in: ended), "\(harness.log())")
        #expect(try CertificateFile.status(atPath: certificate) == "erased")
        #expect(try certificateVerifies(certificate, harness))
        #expect(try jobs(harness).first { $0["id"] as? String == jobID }?["certificate"] as? String == certificate)
        // The pull is then seen: the drive's slot (same generation) ends "removed" after its certificate.
        let slotNumber = try #require(DaemonHarness.logField("slot", in: ended))
        let removed = try harness.waitForLogLine(timeout: 60, "the slot's removal") {
            $0.contains("slot removed device=\(drive.path) slot=\(slotNumber)")
        }
        let log = harness.log()
        #expect((log.range(of: ended)?.upperBound).flatMap { end in log.range(of: removed).map { $0.lowerBound >= end } } == true, "\(log)")
        harness.stop()
        #expect(try journalVerifies(harness))
        let files = try FileManager.default.contentsOfDirectory(atPath: harness.certificateDirectory)
        #expect(files.sorted() == [(certificate as NSString).lastPathComponent,
                                   (certificate as NSString).lastPathComponent.replacingOccurrences(of: ".json", with: ".pdf")].sorted(),
                "\(files)")
        let jobs = try jobs(harness)
        #expect(jobs.first?["status"] as? String == "completed")
    }
}
