import Foundation
import GRDB
import Testing
@testable import Journal

/// The outbox as a delivery queue: migration of v1 rows, kinds, order, parking, re-queueing.
@Suite struct OutboxTests {
    static func certificate(_ journal: JournalDatabase, id: UUID = UUID(), issuedAt: Date = Date()) throws -> UUID {
        let job = JobRecord(driveID: nil, profile: "zero", technician: "Zoé", donor: nil, lot: nil)
        try journal.startJob(job)
        try journal.finishJob(id: job.id, status: .completed)
        try journal.recordCertificate(CertificateRecord(id: id, jobID: job.id, jsonPath: "/tmp/\(id).json", pdfPath: nil,
                                                        signedJSONSHA256: String(repeating: "0", count: 64), status: "erased",
                                                        issuedAt: issuedAt),
                                      signedJSON: #"{"payload":"\#(id)"}"#)
        return id
    }

    /// A journal written before the migration keeps its outbox rows, now typed `certificate`.
    @Test func theMigrationKeepsVersionOneRows() throws {
        let directory = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/" + JournalDatabase.fileName
        let certificateID = UUID()
        let jobID = UUID()
        let issuedAt = Date(timeIntervalSince1970: 1_790_000_000)
        do {
            let queue = try DatabaseQueue(path: path)
            try JournalDatabase.migrator.migrate(queue, upTo: "v2-resume")
            try queue.write { db in
                try db.execute(sql: "INSERT INTO jobs (id, profile, technician, startedAt, status) VALUES (?, 'zero', 'Zoé', ?, 'completed')",
                               arguments: [jobID.uuidString.lowercased(), issuedAt])
                try db.execute(sql: """
                    INSERT INTO certificates (id, jobID, jsonPath, signedJSONSHA256, status, issuedAt)
                    VALUES (?, ?, '/tmp/c.json', 'ab', 'erased', ?)
                    """, arguments: [certificateID.uuidString.lowercased(), jobID.uuidString.lowercased(), issuedAt])
                try db.execute(sql: "INSERT INTO outbox (certificateID, payload, attempts, sentAt) VALUES (?, '{\"a\":1}', 3, NULL)",
                               arguments: [certificateID.uuidString.lowercased()])
            }
            try queue.close()
        }
        let journal = try JournalDatabase(dataDirectory: directory, recoverInterruptedJobs: false)
        let rows = try journal.outbox()
        #expect(rows.count == 1)
        #expect(rows.first?.kind == .certificate)
        #expect(rows.first?.recordID == certificateID)
        #expect(rows.first?.certificateID == certificateID)
        #expect(rows.first?.payload == #"{"a":1}"#)
        #expect(rows.first?.attempts == 3)
        #expect(rows.first?.queuedAt == issuedAt)
        #expect(rows.first?.state == .pending)
        let applied = try journal.dbWriter.read { db in try JournalDatabase.migrator.appliedMigrations(db) }
        #expect(applied.contains(JournalDatabase.outboxDeliveryMigrationName))
    }

    @Test func certificatesAndInventoriesQueueInOrder() throws {
        let directory = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = try JournalDatabase(dataDirectory: directory)
        let first = try Self.certificate(journal)
        let inventory = UUID()
        try journal.enqueueOutbox(kind: .inventory, recordID: inventory, payload: #"{"inventory":1}"#)
        let third = try Self.certificate(journal)
        let pending = try journal.pendingOutbox()
        #expect(pending.map(\.recordID) == [first, inventory, third])
        #expect(pending.map(\.kind) == [.certificate, .inventory, .certificate])
        #expect(pending[1].certificateID == nil)
        #expect(try journal.outboxSummary() == OutboxSummary(pending: 3))

        // The same record again is the same row; other bytes under its id are refused.
        let again = try journal.enqueueOutbox(kind: .inventory, recordID: inventory, payload: #"{"inventory":1}"#)
        #expect(again.id == pending[1].id)
        let error = #expect(throws: JournalError.self) {
            try journal.enqueueOutbox(kind: .inventory, recordID: inventory, payload: #"{"inventory":2}"#)
        }
        #expect(error?.code == .conflict)
        #expect(try journal.pendingOutbox().count == 3)
    }

    @Test func sentParkedAndRequeuedRowsAreJournaled() throws {
        let directory = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = try JournalDatabase(dataDirectory: directory)
        let a = try Self.certificate(journal)
        let b = try Self.certificate(journal)
        let c = try Self.certificate(journal)
        let rows = try journal.pendingOutbox()
        let retryAt = Date().addingTimeInterval(60)

        try journal.recordOutboxFailure(id: rows[0].id!, code: "store_unreachable", message: "connection refused", nextAttemptAt: retryAt)
        var summary = try journal.outboxSummary()
        #expect(summary.pending == 3)
        #expect(summary.lastErrorCode == "store_unreachable")
        #expect(summary.nextAttemptAt.map { abs($0.timeIntervalSince(retryAt)) < 0.01 } == true)

        try journal.markOutboxSent(id: rows[0].id!, storeStatus: "stored")
        try journal.parkOutbox(id: rows[1].id!, httpStatus: 422, code: "invalid_signature", message: "signature does not verify")
        try journal.markOutboxSent(id: rows[2].id!, storeStatus: "already_stored")
        // A second "sent" for the same row changes nothing (two senders raced).
        try journal.markOutboxSent(id: rows[2].id!, storeStatus: "stored")

        #expect(try journal.pendingOutbox().isEmpty)
        let parked = try journal.parkedOutbox()
        #expect(parked.map(\.recordID) == [b])
        #expect(parked.first?.parkedCode == "invalid_signature")
        #expect(parked.first?.parkedMessage == "signature does not verify")
        #expect(parked.first?.parkedHTTPStatus == 422)
        summary = try journal.outboxSummary()
        #expect(summary.pending == 0 && summary.parked == 1 && summary.sent == 2)
        let sent = try journal.outbox().filter { $0.state == .sent }
        #expect(sent.map(\.recordID) == [a, c])
        #expect(sent.map(\.storeStatus) == ["stored", "already_stored"])
        #expect(sent.map(\.attempts) == [2, 1])

        #expect(try journal.requeueParkedOutbox() == 1)
        let requeued = try journal.pendingOutbox()
        #expect(requeued.map(\.recordID) == [b])
        #expect(requeued.first?.lastErrorCode == "invalid_signature")

        let kinds = try journal.events().map(\.kind)
        #expect(kinds.filter { $0 == JournalEventKind.outboxSent }.count == 2)
        #expect(kinds.filter { $0 == JournalEventKind.outboxParked }.count == 1)
        #expect(kinds.filter { $0 == JournalEventKind.outboxRequeued }.count == 1)
        #expect(try journal.verifyChain().isIntact)
    }
}
