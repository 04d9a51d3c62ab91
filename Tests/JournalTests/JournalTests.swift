import ErasureRecords
import Foundation
import GRDB
import Testing
@testable import Journal

enum JournalFixture {
    static func directory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-journal-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A journal with one finished job: drive, job, passes, verification, secrets, events.
    static func populated(in directory: String) throws -> (JournalDatabase, UUID) {
        let journal = try JournalDatabase(dataDirectory: directory)
        let drive = try journal.recordDrive(DriveRecord(model: "ST500DM002", serial: "Z3T1ABCD", wwn: "0x5000c5007a1b2c3d",
                                                        sizeInBytes: 500_107_862_016, diskseq: 12, devnum: "8:16", transport: "sata"))
        let job = JobRecord(driveID: drive.id, profile: "dod-5220-22m", technician: "Zoé", donor: "Mairie", lot: "L1")
        try journal.startJob(job)
        try journal.storeFirmwareSecret(FirmwareSecretRecord(jobID: job.id, deviceSerial: "Z3T1ABCD", temporaryPassword: "tmp-42"))
        for index in 0..<3 {
            try journal.recordPass(PassRecord(index: index + 1, kind: index == 2 ? "prng" : "constant",
                                              patternHex: index == 2 ? nil : ["55", "aa"][index], prngAlgorithm: index == 2 ? "aes-ctr" : nil,
                                              seedSHA256: index == 2 ? String(repeating: "ab", count: 32) : nil,
                                              bytesWritten: 500_107_862_016, durationSeconds: 3600, bytesPerSecond: 138_918_850,
                                              verification: index == 2 ? VerificationRecord(mode: "sample:nist", result: .passed, sampleCount: 2002) : nil),
                                   jobID: job.id)
        }
        try journal.clearFirmwareSecrets(jobID: job.id)
        try journal.finishJob(id: job.id, status: .completed)
        return (journal, job.id)
    }
}

@Suite struct JournalChainTests {
    @Test func recordsAndChainAreConsistent() throws {
        let directory = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (journal, jobID) = try JournalFixture.populated(in: directory)
        #expect(try journal.job(id: jobID)?.status == .completed)
        #expect(try journal.passes(jobID: jobID).map(\.index) == [1, 2, 3])
        #expect(try journal.passes(jobID: jobID).map { $0.verification?.sampleCount } == [nil, nil, 2002])
        #expect(try journal.pendingFirmwareSecrets().isEmpty)
        let kinds = try journal.events(jobID: jobID).map(\.kind)
        #expect(kinds.first == JournalEventKind.jobStarted)
        #expect(kinds.last == JournalEventKind.jobFinished)
        #expect(kinds.filter { $0 == JournalEventKind.passFinished }.count == 3)
        let events = try journal.events()
        #expect(events.first?.prevHash == EventChain.genesisHash)
        #expect(zip(events, events.dropFirst()).allSatisfy { $0.hash == $1.prevHash })
        #expect(try journal.verifyChain() == .intact(count: events.count))
        // Nothing secret in the event log.
        #expect(!events.contains { $0.payload.contains("tmp-42") })
        // Owner-only files: the journal keeps temporary ATA passwords.
        for suffix in ["", "-wal", "-shm"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: journal.path + suffix)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600, "\(suffix)")
        }
        // WAL mode, as the design requires.
        #expect(try journal.dbWriter.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
    }

    @Test func editedRowIsDetected() throws {
        let directory = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (journal, _) = try JournalFixture.populated(in: directory)
        let target = try #require(try journal.events().first { $0.kind == JournalEventKind.passFinished })
        try journal.dbWriter.write { db in
            try db.execute(sql: "UPDATE events SET payload = replace(payload, '500107862016', '400107862016') WHERE id = ?", arguments: [target.id])
        }
        #expect(try journal.verifyChain() == .broken(eventID: target.id, reason: .contentEdited))
    }

    @Test func rowEditedWithRecomputedHashBreaksTheNextLink() throws {
        let directory = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (journal, _) = try JournalFixture.populated(in: directory)
        var target = try journal.events()[2]
        target.payload = "{}"
        target.hash = EventChain.hash(of: target)
        try journal.dbWriter.write { db in try target.update(db) }
        #expect(try journal.verifyChain() == .broken(eventID: target.id + 1, reason: .linkBroken))
    }

    @Test func deletedRowIsDetected() throws {
        let directory = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (journal, _) = try JournalFixture.populated(in: directory)
        let events = try journal.events()
        let middle = events[events.count / 2]
        _ = try journal.dbWriter.write { db in try EventRecord.deleteOne(db, key: middle.id) }
        #expect(try journal.verifyChain() == .broken(eventID: middle.id + 1, reason: .linkBroken))
    }

    @Test func deletedFirstAndLastRowsAreDetected() throws {
        let directory = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (journal, _) = try JournalFixture.populated(in: directory)
        let events = try journal.events()
        _ = try journal.dbWriter.write { db in try EventRecord.deleteOne(db, key: events.last!.id) }
        #expect(try journal.verifyChain() == .broken(eventID: events.last!.id, reason: .headMismatch))
        _ = try journal.dbWriter.write { db in try EventRecord.deleteOne(db, key: events.first!.id) }
        #expect(try journal.verifyChain() == .broken(eventID: events[1].id, reason: .linkBroken))
    }

    @Test func onlyTheOwnerMarksARunningJobInterruptedAtOpen() throws {
        let directory = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let job = JobRecord(driveID: nil, profile: "zero", technician: "t")
        do {
            let owner = try JournalOwnerLock.acquire(dataDirectory: directory, role: .wipe)
            let journal = try JournalDatabase(dataDirectory: directory, owner: owner)
            try journal.startJob(job)
            #expect(try journal.job(id: job.id)?.status == .running)
            // A reader opened beside the owner changes nothing.
            let reader = try JournalDatabase(dataDirectory: directory)
            #expect(try reader.job(id: job.id)?.status == .running)
            #expect(try reader.events(jobID: job.id).map(\.kind) == [JournalEventKind.jobStarted])
        }
        // The owner is gone (lock released): a reader still changes nothing…
        #expect(try JournalDatabase(dataDirectory: directory).job(id: job.id)?.status == .running)
        // …and the next owner recovers the job.
        let reopened = try JournalDatabase(dataDirectory: directory, owner: JournalOwnerLock.acquire(dataDirectory: directory, role: .daemon))
        let stored = try #require(try reopened.job(id: job.id))
        #expect(stored.status == .interrupted)
        #expect(stored.endedAt != nil)
        #expect(try reopened.events(jobID: job.id).map(\.kind) == [JournalEventKind.jobStarted, JournalEventKind.jobInterrupted])
        #expect(try reopened.verifyChain().isIntact)
    }

    @Test func theOwnerLockIsExclusiveNamesItsHolderAndIsFreedWithIt() throws {
        let directory = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(JournalOwnerLock.holder(dataDirectory: directory) == nil)
        do {
            let owner = try JournalOwnerLock.acquire(dataDirectory: directory, role: .daemon)
            #expect(owner.path == directory + "/journal.lock")
            #expect(JournalOwnerLock.holder(dataDirectory: directory) == .init(pid: getpid(), role: .daemon))
            // flock(2) conflicts between two open file descriptions, even in one process.
            for role in JournalOwnerLock.Role.allCases {
                let error = #expect(throws: JournalError.self) { try JournalOwnerLock.acquire(dataDirectory: directory, role: role) }
                #expect(error?.code == .ownedByAnotherProcess)
                #expect(error?.holderPID == getpid())
                #expect(error?.exitStatus == 58)
                #expect(error?.text(in: .french).contains("PID \(getpid())") == true)
                #expect(error?.text(in: .english).contains("PID \(getpid())") == true)
            }
            let fromWipe = #expect(throws: JournalError.self) { try JournalOwnerLock.acquire(dataDirectory: directory, role: .wipe) }
            #expect(fromWipe?.text(in: .english).contains("ardoise start DEV") == true)
            withExtendedLifetime(owner) {}
        }
        #expect(JournalOwnerLock.holder(dataDirectory: directory) == nil)
        let again = try JournalOwnerLock.acquire(dataDirectory: directory, role: .wipe)
        #expect(JournalOwnerLock.holder(dataDirectory: directory) == .init(pid: getpid(), role: .wipe))
        withExtendedLifetime(again) {}
    }

    @Test func firmwareSecretsStayUntilCleared() throws {
        let directory = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = try JournalDatabase(dataDirectory: directory)
        let job = JobRecord(driveID: nil, profile: "ata-secure-erase", technician: "t")
        try journal.startJob(job)
        try journal.storeFirmwareSecret(FirmwareSecretRecord(jobID: job.id, deviceSerial: "S1", temporaryPassword: "p"))
        let reopened = try JournalDatabase(dataDirectory: directory)
        #expect(try reopened.pendingFirmwareSecrets().map(\.temporaryPassword) == ["p"])
        try reopened.clearFirmwareSecrets(jobID: job.id)
        #expect(try reopened.pendingFirmwareSecrets().isEmpty)
    }

    @Test func unknownJobCannotBeFinished() throws {
        let directory = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = try JournalDatabase(dataDirectory: directory)
        let error = #expect(throws: JournalError.self) { try journal.finishJob(id: UUID(), status: .failed) }
        #expect(error?.code == .notFound)
    }

    /// The hashed encoding is fixed: a known row must keep its known hash across versions.
    @Test func eventHashIsStable() {
        let hash = EventChain.hash(id: 1, timeMilliseconds: 1_790_000_000_000, kind: "job.started", jobID: nil,
                                   payload: "{}", prevHash: EventChain.genesisHash)
        #expect(hash.count == 64)
        #expect(hash == EventChain.hash(id: 1, timeMilliseconds: 1_790_000_000_000, kind: "job.started", jobID: nil,
                                        payload: "{}", prevHash: EventChain.genesisHash))
        // nil and "" job ids differ; the length prefix separates fields.
        #expect(hash != EventChain.hash(id: 1, timeMilliseconds: 1_790_000_000_000, kind: "job.started", jobID: "",
                                        payload: "{}", prevHash: EventChain.genesisHash))
        #expect(EventChain.hash(id: 1, timeMilliseconds: 0, kind: "ab", jobID: nil, payload: "c", prevHash: EventChain.genesisHash)
                != EventChain.hash(id: 1, timeMilliseconds: 0, kind: "a", jobID: nil, payload: "bc", prevHash: EventChain.genesisHash))
    }
}

@Suite struct JournalOpeningTests {
    @Test func fileThatIsNotSQLiteIsRefusedAndKept() throws {
        let directory = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/" + JournalDatabase.fileName
        let content = Data(String(repeating: "not a database, just text\n", count: 200).utf8)
        try content.write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: JournalError.self) { try JournalDatabase(dataDirectory: directory) }
        #expect(error?.code == .notADatabase)
        #expect(FileManager.default.contents(atPath: path) == content)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
    }

    @Test func corruptDatabaseIsRefusedAndKept() throws {
        let directory = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do { _ = try JournalFixture.populated(in: directory) }
        let path = directory + "/" + JournalDatabase.fileName
        // Fold the WAL into the main file, then damage every page after the first (deterministic bytes).
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE") }
        try queue.close()
        var bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        #expect(bytes.count > 8192)
        var state: UInt32 = 0x1234_5678
        for index in 4096..<bytes.count {
            state = state &* 1_664_525 &+ 1_013_904_223
            bytes[index] = UInt8(truncatingIfNeeded: state >> 24)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: JournalError.self) { try JournalDatabase(dataDirectory: directory) }
        #expect(error?.code == .corrupt)
        #expect(FileManager.default.contents(atPath: path) == Data(bytes))
    }

    @Test func dataDirectoryThatIsAFileIsRefused() throws {
        let directory = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/plain-file"
        _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        let error = #expect(throws: JournalError.self) { try JournalDatabase(dataDirectory: file) }
        #expect(error?.code == .dataDirectoryNotADirectory)
    }

    @Test func unwritableDataDirectoryIsRefused() throws {
        // /proc refuses new files even for root, so this runs everywhere, CI included.
        let error = #expect(throws: JournalError.self) { try JournalDatabase(dataDirectory: "/proc/self/ardoise-journal") }
        #expect(error?.code == .dataDirectoryNotWritable)
        let error2 = #expect(throws: JournalError.self) { try JournalDatabase(dataDirectory: "/proc") }
        #expect(error2?.code == .dataDirectoryNotWritable)
        #expect(error2?.underlyingErrno != nil)
    }

    @Test(.enabled(if: getuid() != 0, "root bypasses directory permissions"))
    func readOnlyDirectoryIsRefusedForNonRoot() throws {
        let directory = try JournalFixture.directory()
        defer {
            chmod(directory, 0o700)
            try? FileManager.default.removeItem(atPath: directory)
        }
        chmod(directory, 0o500)
        let error = #expect(throws: JournalError.self) { try JournalDatabase(dataDirectory: directory) }
        #expect(error?.code == .dataDirectoryNotWritable)
    }

    @Test func newerSchemaIsRefused() throws {
        let directory = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do { _ = try JournalDatabase(dataDirectory: directory) }
        let queue = try DatabaseQueue(path: directory + "/" + JournalDatabase.fileName)
        try queue.write { try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-future')") }
        try queue.close()
        let error = #expect(throws: JournalError.self) { try JournalDatabase(dataDirectory: directory) }
        #expect(error?.code == .newerSchema)
    }
}
