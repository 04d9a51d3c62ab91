import ArdoiseSupport
import Foundation
import GRDB

/// The outbox: signed records (certificates, inventories) waiting for the traceability store,
/// and what happened to each delivery. The sender (StoreClient) reads and updates these rows
/// only; it never touches jobs.
extension JournalDatabase {
    // MARK: Migration (stable name; never edit once shipped)

    /// Name of the migration that turns the v1 outbox (certificates only, no delivery state)
    /// into a queue for any kind of signed record.
    public static let outboxDeliveryMigrationName = "outbox-v2-store-delivery"

    /// Rebuilds `outbox` (SQLite cannot drop the v1 NOT NULL on `certificateID`, which an
    /// inventory row has no value for): adds `kind`, `recordID` (unique per kind), the queue
    /// time and the delivery state (next attempt, last error, parked with the store's reason).
    /// Existing rows become `certificate` rows with their ids, payloads, attempts and sent times.
    /// Kept in its own function so the lead can order it among other helpers' migrations.
    static func registerOutboxDeliveryMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration(outboxDeliveryMigrationName) { db in
            try db.create(table: "outbox_v2") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("kind", .text).notNull().check { ["certificate", "inventory"].contains($0) }
                t.column("recordID", .text).notNull()
                t.column("certificateID", .text).references("certificates")
                t.column("payload", .text).notNull()
                t.column("queuedAt", .datetime)
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("sentAt", .datetime)
                t.column("storeStatus", .text)
                t.column("nextAttemptAt", .datetime)
                t.column("lastAttemptAt", .datetime)
                t.column("lastErrorCode", .text)
                t.column("lastError", .text)
                t.column("parkedAt", .datetime)
                t.column("parkedHTTPStatus", .integer)
                t.column("parkedCode", .text)
                t.column("parkedMessage", .text)
            }
            try db.execute(sql: """
                INSERT INTO outbox_v2 (id, kind, recordID, certificateID, payload, queuedAt, attempts, sentAt)
                SELECT o.id, 'certificate', o.certificateID, o.certificateID, o.payload, c.issuedAt, o.attempts, o.sentAt
                FROM outbox o LEFT JOIN certificates c ON c.id = o.certificateID
                ORDER BY o.id
                """)
            try db.drop(table: "outbox")
            try db.rename(table: "outbox_v2", to: "outbox")
            try db.create(index: "outbox_record", on: "outbox", columns: ["kind", "recordID"], unique: true)
            try db.create(index: "outbox_certificate", on: "outbox", columns: ["certificateID"])
            try db.create(index: "outbox_queue", on: "outbox", columns: ["sentAt", "parkedAt", "id"])
        }
    }

    // MARK: Queueing

    /// Queues a signed record in its own transaction (see the `Database` variant).
    @discardableResult
    public func enqueueOutbox(kind: OutboxRecord.Kind, recordID: UUID, certificateID: UUID? = nil, payload: String,
                              at date: Date = Date()) throws -> OutboxRecord {
        try write { db in
            try Self.enqueueOutbox(db, kind: kind, recordID: recordID, certificateID: certificateID, payload: payload, at: date)
        }
    }

    /// Queues a signed record inside the caller's transaction (so a record and its queue row
    /// are written together). Queueing the same record again with the same bytes returns the
    /// existing row; other bytes under the same kind and id throw `.conflict`.
    @discardableResult
    static func enqueueOutbox(_ db: Database, kind: OutboxRecord.Kind, recordID: UUID, certificateID: UUID?,
                              payload: String, at date: Date) throws -> OutboxRecord {
        if let existing = try OutboxRecord
            .filter(Column("kind") == kind.rawValue && Column("recordID") == recordID.uuidString.lowercased())
            .fetchOne(db) {
            guard existing.payload == payload else {
                throw JournalError(code: .conflict, message: LocalizedText(
                    fr: "Un autre contenu est déjà en file d'envoi pour \(kind.rawValue) \(recordID.uuidString.lowercased()).",
                    en: "Other content is already queued for \(kind.rawValue) \(recordID.uuidString.lowercased())."))
            }
            return existing
        }
        var row = OutboxRecord(kind: kind, recordID: recordID, certificateID: certificateID, payload: payload, queuedAt: date)
        try row.insert(db)
        return row
    }

    // MARK: Reading

    /// Rows waiting to be sent (neither sent nor parked), oldest first: the sending order.
    public func pendingOutbox(limit: Int = 100) throws -> [OutboxRecord] {
        try read { db in
            try OutboxRecord.filter(Column("sentAt") == nil && Column("parkedAt") == nil)
                .order(Column("id")).limit(limit).fetchAll(db)
        }
    }

    /// Rows the store refused, oldest first.
    public func parkedOutbox() throws -> [OutboxRecord] {
        try read { db in
            try OutboxRecord.filter(Column("sentAt") == nil && Column("parkedAt") != nil).order(Column("id")).fetchAll(db)
        }
    }

    /// Every row, oldest first (sent ones included).
    public func outbox() throws -> [OutboxRecord] {
        try read { db in try OutboxRecord.order(Column("id")).fetchAll(db) }
    }

    public func outboxRow(id: Int64) throws -> OutboxRecord? {
        try read { db in try OutboxRecord.fetchOne(db, key: id) }
    }

    /// Counts per state, and the oldest pending row's backoff and last error.
    public func outboxSummary() throws -> OutboxSummary {
        try read { db in
            let counts = try Row.fetchOne(db, sql: """
                SELECT
                  SUM(CASE WHEN sentAt IS NULL AND parkedAt IS NULL THEN 1 ELSE 0 END) AS pending,
                  SUM(CASE WHEN sentAt IS NULL AND parkedAt IS NOT NULL THEN 1 ELSE 0 END) AS parked,
                  SUM(CASE WHEN sentAt IS NOT NULL THEN 1 ELSE 0 END) AS sent
                FROM outbox
                """)
            var summary = OutboxSummary(pending: counts?["pending"] ?? 0, parked: counts?["parked"] ?? 0, sent: counts?["sent"] ?? 0)
            if let head = try OutboxRecord.filter(Column("sentAt") == nil && Column("parkedAt") == nil)
                .order(Column("id")).fetchOne(db) {
                summary.nextAttemptAt = head.nextAttemptAt
                summary.lastErrorCode = head.lastErrorCode
                summary.lastError = head.lastError
            }
            return summary
        }
    }

    // MARK: Delivery outcomes

    /// Counts a failed delivery attempt without a reason (kept for older callers).
    public func recordOutboxAttempt(id: Int64) throws {
        try write { db in try db.execute(sql: "UPDATE outbox SET attempts = attempts + 1 WHERE id = ?", arguments: [id]) }
    }

    /// A transient failure (network, 401, 429, 5xx): counts the attempt, keeps the reason and
    /// when to try again. The row stays pending.
    public func recordOutboxFailure(id: Int64, code: String, message: String, nextAttemptAt: Date?,
                                    at date: Date = Date()) throws {
        try write { db in
            let row = try Self.outboxRowForUpdate(db, id: id, path: path)
            guard row.state == .pending else { return }
            try db.execute(sql: """
                UPDATE outbox SET attempts = attempts + 1, lastAttemptAt = ?, lastErrorCode = ?, lastError = ?, nextAttemptAt = ?
                WHERE id = ?
                """, arguments: [date, code, message, nextAttemptAt, id])
        }
    }

    /// The store took the record (`stored`, or `already_stored` when it had the same bytes).
    /// A row already marked sent is left as it was (two senders may race; the store is idempotent).
    public func markOutboxSent(id: Int64, storeStatus: String = "stored", at date: Date = Date()) throws {
        try write { db in
            var row = try Self.outboxRowForUpdate(db, id: id, path: path)
            guard row.sentAt == nil else { return }
            row.attempts += 1
            row.sentAt = date
            row.lastAttemptAt = date
            row.storeStatus = storeStatus
            row.nextAttemptAt = nil
            row.parkedAt = nil
            try row.update(db)
            var payload = ["kind": row.kind.rawValue, "recordID": row.recordID.uuidString.lowercased(), "storeStatus": storeStatus]
            if let certificateID = row.certificateID { payload["certificateID"] = certificateID.uuidString.lowercased() }
            try Self.appendEvent(db, kind: JournalEventKind.outboxSent, jobID: nil, payload: payload, at: date)
        }
    }

    /// The store refused the record for a reason a retry cannot fix (a 4xx other than 401 and
    /// 429): the row is kept with the store's code and message and is not sent again until
    /// `requeueParkedOutbox`.
    public func parkOutbox(id: Int64, httpStatus: Int, code: String, message: String, at date: Date = Date()) throws {
        try write { db in
            var row = try Self.outboxRowForUpdate(db, id: id, path: path)
            guard row.state == .pending else { return }
            row.attempts += 1
            row.lastAttemptAt = date
            row.parkedAt = date
            row.parkedHTTPStatus = httpStatus
            row.parkedCode = code
            row.parkedMessage = message
            row.nextAttemptAt = nil
            try row.update(db)
            try Self.appendEvent(db, kind: JournalEventKind.outboxParked, jobID: nil, payload: [
                "kind": row.kind.rawValue, "recordID": row.recordID.uuidString.lowercased(),
                "httpStatus": String(httpStatus), "code": code, "message": message,
            ], at: date)
        }
    }

    /// Puts parked rows back in the queue (all of them, or those with these record ids), in
    /// their original order; the store's last refusal stays in `lastError`. Returns how many.
    @discardableResult
    public func requeueParkedOutbox(recordIDs: [UUID]? = nil, at date: Date = Date()) throws -> Int {
        try write { db in
            var request = OutboxRecord.filter(Column("sentAt") == nil && Column("parkedAt") != nil)
            if let recordIDs { request = request.filter(recordIDs.map { $0.uuidString.lowercased() }.contains(Column("recordID"))) }
            let rows = try request.order(Column("id")).fetchAll(db)
            for var row in rows {
                row.lastErrorCode = row.parkedCode
                row.lastError = row.parkedMessage
                row.parkedAt = nil
                row.parkedHTTPStatus = nil
                row.parkedCode = nil
                row.parkedMessage = nil
                row.nextAttemptAt = nil
                try row.update(db)
                try Self.appendEvent(db, kind: JournalEventKind.outboxRequeued, jobID: nil, payload: [
                    "kind": row.kind.rawValue, "recordID": row.recordID.uuidString.lowercased(),
                ], at: date)
            }
            return rows.count
        }
    }

    private static func outboxRowForUpdate(_ db: Database, id: Int64, path: String) throws -> OutboxRecord {
        guard let row = try OutboxRecord.fetchOne(db, key: id) else {
            throw JournalError(code: .notFound, message: .init(fr: "Envoi inconnu : \(id)", en: "Unknown outbox row: \(id)"), path: path)
        }
        return row
    }
}
