import ArdoiseSupport
import ErasureRecords
import Foundation
import GRDB

/// Kinds of events the journal writes; other modules may append their own kinds.
public enum JournalEventKind {
    /// A drive's health read before its job (payload: the health report and what the bench did).
    public static let driveHealth = "drive.health"
    public static let jobStarted = "job.started"
    public static let jobFinished = "job.finished"
    public static let jobInterrupted = "job.interrupted"
    /// A job cancelled by the technician before its erasure began (during its health check):
    /// nothing was written, no job row exists (payload: the drive and the stage).
    public static let jobCancelled = "job.cancelled"
    /// A job continues an interrupted one (re-plug of the same drive): which, and from which pass.
    public static let jobResumed = "job.resumed"
    public static let passFinished = "pass.finished"
    public static let verificationFinished = "verification.finished"
    public static let certificateIssued = "certificate.issued"
    public static let driveSeen = "drive.seen"
    public static let firmwareSecretStored = "firmware_secret.stored"
    public static let firmwareSecretCleared = "firmware_secret.cleared"
    public static let outboxSent = "outbox.sent"
    /// The store refused a record (4xx other than 401/429): it is kept, not retried.
    public static let outboxParked = "outbox.parked"
    /// A technician put parked records back in the queue (`ardoise push --retry-parked`).
    public static let outboxRequeued = "outbox.requeued"
    /// One pass-through command line (audit grammar) or its outcome, during a firmware erase.
    public static let firmwareCommand = "firmware.command"
    /// A job's firmware step ended (the record: method, outcome, verification, hidden areas).
    public static let firmwareFinished = "firmware.finished"
}

extension JournalDatabase {
    // MARK: Events

    /// Appends one event to the chain in its own transaction.
    @discardableResult
    public func appendEvent(kind: String, jobID: UUID? = nil, payload: some Encodable, at date: Date = Date()) throws -> EventRecord {
        try write { db in try Self.appendEvent(db, kind: kind, jobID: jobID, payload: payload, at: date) }
    }

    /// Appends inside the caller's transaction: reads the head, hashes, inserts, moves the head.
    @discardableResult
    static func appendEvent(_ db: Database, kind: String, jobID: UUID?, payload: some Encodable, at date: Date = Date()) throws -> EventRecord {
        let head = try Row.fetchOne(db, sql: "SELECT lastEventID, lastHash FROM journal_head WHERE id = 1")
        let previousID: Int64 = head?["lastEventID"] ?? 0
        let previousHash: String = head?["lastHash"] ?? EventChain.genesisHash
        let id = previousID + 1
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let payloadText = try encodeJSON(payload)
        let jobText = jobID?.uuidString.lowercased()
        let hash = EventChain.hash(id: id, timeMilliseconds: milliseconds, kind: kind, jobID: jobText,
                                   payload: payloadText, prevHash: previousHash)
        let event = EventRecord(id: id, timeMilliseconds: milliseconds, kind: kind, jobID: jobText,
                                payload: payloadText, prevHash: previousHash, hash: hash)
        try event.insert(db)
        try db.execute(sql: """
            INSERT INTO journal_head (id, lastEventID, lastHash) VALUES (1, ?, ?)
            ON CONFLICT(id) DO UPDATE SET lastEventID = excluded.lastEventID, lastHash = excluded.lastHash
            """, arguments: [id, hash])
        return event
    }

    static func encodeJSON(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Every event in chain order.
    public func events(jobID: UUID? = nil) throws -> [EventRecord] {
        try read { db in
            if let jobID {
                return try EventRecord.filter(Column("jobID") == jobID.uuidString.lowercased()).order(Column("id")).fetchAll(db)
            }
            return try EventRecord.order(Column("id")).fetchAll(db)
        }
    }

    /// Walks the whole chain and reports the first row that does not verify. Reads in one
    /// snapshot, so concurrent appends do not cause false alarms.
    public func verifyChain() throws -> ChainVerification {
        try read { db in
            var expectedPrevious = EventChain.genesisHash
            var expectedID: Int64 = 1
            var count = 0
            let cursor = try EventRecord.order(Column("id")).fetchCursor(db)
            while let event = try cursor.next() {
                if EventChain.hash(of: event) != event.hash {
                    return .broken(eventID: event.id, reason: .contentEdited)
                }
                if event.prevHash != expectedPrevious || event.id != expectedID {
                    return .broken(eventID: event.id, reason: .linkBroken)
                }
                expectedPrevious = event.hash
                expectedID = event.id + 1
                count += 1
            }
            let head = try Row.fetchOne(db, sql: "SELECT lastEventID, lastHash FROM journal_head WHERE id = 1")
            let headID: Int64 = head?["lastEventID"] ?? 0
            let headHash: String = head?["lastHash"] ?? EventChain.genesisHash
            if headID != expectedID - 1 || headHash != expectedPrevious {
                return .broken(eventID: max(headID, expectedID - 1), reason: .headMismatch)
            }
            return .intact(count: count)
        }
    }

    // MARK: Drives

    /// Returns the stored drive with the same identity (serial, model, size, WWN), updating its
    /// volatile fields, or inserts it; appends `drive.seen` either way.
    public func recordDrive(_ drive: DriveRecord) throws -> DriveRecord {
        try write { db in
            var stored = try DriveRecord
                .filter(Column("serial") == drive.serial && Column("model") == drive.model && Column("sizeInBytes") == drive.sizeInBytes)
                .fetchAll(db)
                .first { $0.wwn == drive.wwn }
            if var existing = stored {
                existing.diskseq = drive.diskseq
                existing.devnum = drive.devnum
                existing.transport = drive.transport ?? existing.transport
                existing.firmware = drive.firmware ?? existing.firmware
                existing.smartSummaryJSON = drive.smartSummaryJSON ?? existing.smartSummaryJSON
                try existing.update(db)
                stored = existing
            } else {
                var inserted = drive
                inserted.id = nil
                try inserted.insert(db)
                stored = inserted
            }
            let result = stored!
            try Self.appendEvent(db, kind: JournalEventKind.driveSeen, jobID: nil, payload: [
                "driveID": String(result.id ?? 0), "serial": result.serial, "model": result.model,
                "diskseq": result.diskseq.map(String.init) ?? "",
            ])
            return result
        }
    }

    public func drive(id: Int64) throws -> DriveRecord? {
        try read { db in try DriveRecord.fetchOne(db, key: id) }
    }

    // MARK: Jobs

    /// Inserts a job (status forced to running) and appends `job.started`.
    public func startJob(_ job: JobRecord) throws {
        try write { db in _ = try Self.insertStarted(job, db) }
    }

    /// The job row as running, and its `job.started` event.
    private static func insertStarted(_ job: JobRecord, _ db: Database) throws -> JobRecord {
        var job = job
        job.status = .running
        job.endedAt = nil
        try job.insert(db)
        try appendEvent(db, kind: JournalEventKind.jobStarted, jobID: job.id, payload: JobEventPayload(job), at: job.startedAt)
        return job
    }

    /// Inserts a job with its seed, and, when it continues an interrupted job, the link to it:
    /// `job.started` then `job.resumed`, in one transaction. The seed goes to `job_seeds` only.
    public func startJob(_ job: JobRecord, seed: [UInt8], resuming resumption: JobResumptionRecord? = nil) throws {
        try write { db in
            let job = try Self.insertStarted(job, db)
            try JobSeedRecord(jobID: job.id, seedHex: Hex.encode(seed)).insert(db)
            if var resumption {
                resumption.jobID = job.id
                try resumption.insert(db)
                try Self.appendEvent(db, kind: JournalEventKind.jobResumed, jobID: job.id, payload: [
                    "resumedFromJobID": resumption.resumedFromJobID.uuidString.lowercased(),
                    "firstPassIndex": String(resumption.firstPassIndex),
                ], at: job.startedAt)
            }
        }
    }

    /// The seed a job ran with, nil for jobs started without one (before v2-resume).
    public func jobSeed(jobID: UUID) throws -> [UInt8]? {
        try read { db in
            guard let record = try JobSeedRecord.fetchOne(db, key: jobID.uuidString.lowercased()) else { return nil }
            let hex = Array(record.seedHex.utf8)
            guard hex.count % 2 == 0, !hex.isEmpty else { return nil }
            var bytes: [UInt8] = []
            for index in stride(from: 0, to: hex.count, by: 2) {
                guard let byte = UInt8(String(decoding: hex[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
                bytes.append(byte)
            }
            return bytes
        }
    }

    /// The job this one continues, if it is a resumption.
    public func resumption(jobID: UUID) throws -> JobResumptionRecord? {
        try read { db in try JobResumptionRecord.fetchOne(db, key: jobID.uuidString.lowercased()) }
    }

    /// The jobs run on the drive with this identity (serial, model, size and WWN, as
    /// `recordDrive` matches them), oldest first.
    public func jobs(driveSerial serial: String, model: String, sizeInBytes: Int64, wwn: String?) throws -> [JobRecord] {
        try read { db in
            let drives = try DriveRecord
                .filter(Column("serial") == serial && Column("model") == model && Column("sizeInBytes") == sizeInBytes)
                .fetchAll(db)
                .filter { $0.wwn == wwn }
                .compactMap(\.id)
            guard !drives.isEmpty else { return [] }
            return try JobRecord.filter(drives.contains(Column("driveID"))).order(Column("startedAt")).fetchAll(db)
        }
    }

    /// Records the end of a job and appends `job.finished` (or `job.interrupted`).
    /// - Throws: `JournalError.notFound` if the job does not exist.
    public func finishJob(id: UUID, status: JobStatus, reason: String? = nil, at date: Date = Date()) throws {
        precondition(status != .running, "finishJob needs a final status")
        try write { db in
            guard var job = try JobRecord.fetchOne(db, key: id.uuidString.lowercased()) else {
                throw JournalError(code: .notFound, message: .init(fr: "Tâche inconnue : \(id)", en: "Unknown job: \(id)"), path: path)
            }
            job.status = status
            job.reason = reason
            job.endedAt = date
            try job.update(db)
            let kind = status == .interrupted ? JournalEventKind.jobInterrupted : JournalEventKind.jobFinished
            try Self.appendEvent(db, kind: kind, jobID: id, payload: JobEventPayload(job), at: date)
        }
    }

    /// Marks every job still "running" as interrupted, one event each. Called at open by the
    /// owner of the journal only: holding the owner lock proves no live process runs them.
    @discardableResult
    func markRunningJobsInterrupted(reason: String = "found running at start-up (crash or power loss)") throws -> [UUID] {
        try write { db in
            let running = try JobRecord.filter(Column("status") == JobStatus.running.rawValue).fetchAll(db)
            let now = Date()
            for var job in running {
                job.status = .interrupted
                job.reason = reason
                job.endedAt = now
                try job.update(db)
                try Self.appendEvent(db, kind: JournalEventKind.jobInterrupted, jobID: job.id, payload: JobEventPayload(job), at: now)
            }
            return running.map(\.id)
        }
    }

    public func job(id: UUID) throws -> JobRecord? {
        try read { db in try JobRecord.fetchOne(db, key: id.uuidString.lowercased()) }
    }

    /// Jobs, oldest first, optionally of one lot or one status.
    public func jobs(lot: String? = nil, status: JobStatus? = nil) throws -> [JobRecord] {
        try read { db in
            var request = JobRecord.order(Column("startedAt"))
            if let lot { request = request.filter(Column("lot") == lot) }
            if let status { request = request.filter(Column("status") == status.rawValue) }
            return try request.fetchAll(db)
        }
    }

    // MARK: Passes and verifications

    /// Records a completed pass of `jobID` (0-based `passIndex` = `pass.index - 1`) and, when
    /// its read-back ran, the verification, each with its event (`pass.finished`,
    /// `verification.finished`), in one transaction.
    public func recordPass(_ pass: PassRecord, jobID: UUID) throws {
        try write { db in
            var row = PassRow(pass, jobID: jobID)
            try row.insert(db)
            try Self.appendEvent(db, kind: JournalEventKind.passFinished, jobID: jobID, payload: row)
            if let verification = pass.verification, verification.result != .notRun {
                try Self.insertVerification(db, VerificationRow(verification, jobID: jobID, passIndex: pass.index - 1))
            }
        }
    }

    /// Records the read-back of a job's firmware erase (row at pass index -1, mode
    /// `firmware:<mode>`), with its `verification.finished` event.
    public func recordFirmwareVerification(_ verification: VerificationRecord, jobID: UUID) throws {
        try write { db in
            try Self.insertVerification(db, VerificationRow(verification, jobID: jobID, passIndex: -1,
                                                             mode: VerificationRow.firmwarePrefix + verification.mode))
        }
    }

    private static func insertVerification(_ db: Database, _ row: VerificationRow) throws {
        var row = row
        try row.insert(db)
        try appendEvent(db, kind: JournalEventKind.verificationFinished, jobID: row.jobID, payload: row)
    }

    /// The recorded passes of `jobID` in profile order, each with its verification (the
    /// last one recorded for it). The journal keeps what resumption and certificates need:
    /// a pass read back has `completed` true, `writes` true when it wrote bytes, and the
    /// engine-only facts it does not store (`invertedStream`, `isFinalBlank`, the
    /// verification's byte counts, sample placement and unreadable ranges) at their defaults.
    public func passes(jobID: UUID) throws -> [PassRecord] {
        try read { db in
            let key = jobID.uuidString.lowercased()
            let rows = try PassRow.filter(Column("jobID") == key).order(Column("passIndex")).fetchAll(db)
            let checks = try VerificationRow.filter(Column("jobID") == key).order(Column("id")).fetchAll(db)
            return rows.map { row in row.record(verification: checks.last { $0.passIndex == row.passIndex }) }
        }
    }

    /// The read-back of `jobID`'s firmware erase, if one was recorded.
    public func firmwareVerification(jobID: UUID) throws -> VerificationRecord? {
        try read { db in
            try VerificationRow.filter(Column("jobID") == jobID.uuidString.lowercased() && Column("passIndex") == -1)
                .order(Column("id")).fetchAll(db).last?.record
        }
    }

    // MARK: Certificates and outbox

    /// Stores the certificate, queues its signed JSON in the outbox and appends
    /// `certificate.issued`, all in one transaction.
    public func recordCertificate(_ certificate: CertificateRecord, signedJSON: String) throws {
        try write { db in
            try certificate.insert(db)
            try Self.enqueueOutbox(db, kind: .certificate, recordID: certificate.id, certificateID: certificate.id,
                                   payload: signedJSON, at: certificate.issuedAt)
            try Self.appendEvent(db, kind: JournalEventKind.certificateIssued, jobID: certificate.jobID, payload: certificate,
                                 at: certificate.issuedAt)
        }
    }

    public func certificates(jobID: UUID? = nil) throws -> [CertificateRecord] {
        try read { db in
            var request = CertificateRecord.order(Column("issuedAt"))
            if let jobID { request = request.filter(Column("jobID") == jobID.uuidString.lowercased()) }
            return try request.fetchAll(db)
        }
    }

    // MARK: Firmware secrets

    /// Stores a temporary ATA password before it is set on the drive (so a crash never leaves
    /// a locked drive with a forgotten password). The event does not contain the password.
    @discardableResult
    public func storeFirmwareSecret(_ secret: FirmwareSecretRecord) throws -> FirmwareSecretRecord {
        try write { db in
            var secret = secret
            try secret.insert(db)
            try Self.appendEvent(db, kind: JournalEventKind.firmwareSecretStored, jobID: secret.jobID,
                                 payload: ["deviceSerial": secret.deviceSerial])
            return secret
        }
    }

    /// Forgets the passwords of a job once its erase is confirmed (the drive is unlocked again).
    public func clearFirmwareSecrets(jobID: UUID, at date: Date = Date()) throws {
        try write { db in
            try db.execute(sql: """
                UPDATE firmware_secrets SET temporaryPassword = NULL, clearedAt = ?
                WHERE jobID = ? AND clearedAt IS NULL
                """, arguments: [date, jobID.uuidString.lowercased()])
            try Self.appendEvent(db, kind: JournalEventKind.firmwareSecretCleared, jobID: jobID, payload: [String: String](), at: date)
        }
    }

    /// Passwords not yet cleared (drives that may still be locked).
    public func pendingFirmwareSecrets() throws -> [FirmwareSecretRecord] {
        try read { db in try FirmwareSecretRecord.filter(Column("clearedAt") == nil).order(Column("id")).fetchAll(db) }
    }
}

/// What a job event says about the job (everything but nothing secret).
struct JobEventPayload: Encodable {
    var profile: String
    var driveID: Int64?
    var technician: String
    var donor: String?
    var lot: String?
    var status: String
    var reason: String?

    init(_ job: JobRecord) {
        profile = job.profile; driveID = job.driveID; technician = job.technician; donor = job.donor
        lot = job.lot; status = job.status.rawValue; reason = job.reason
    }
}
