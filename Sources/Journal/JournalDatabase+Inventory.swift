import Foundation
import GRDB

/// A signed inventory of a PC (`ardoise inventory --sign`, or the daemon at start-up).
public struct InventoryRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "inventories"
    public static func databaseUUIDEncodingStrategy(for column: String) -> DatabaseUUIDEncodingStrategy { .lowercaseString }
    /// The payload's `id`.
    public var id: UUID
    public var benchID: String
    public var issuedAt: Date
    /// The chassis code (`laptop`, `desktop`…), for counting without decoding the payload.
    public var chassisType: String
    /// The system serial number, when the firmware gives one.
    public var systemSerial: String?
    /// The one-line summary in the bench's language, for lists.
    public var summary: String
    /// The RFC 7638 thumbprint of the key that signed it.
    public var keyID: String
    /// SHA-256 (lowercase hex) of `signedJSON`.
    public var signedJSONSHA256: String
    /// The exact signed bytes (JWS JSON serialization), as stored and sent.
    public var signedJSON: String
    /// Where `<id>.json` was written, if it was.
    public var jsonPath: String?

    public init(id: UUID, benchID: String, issuedAt: Date, chassisType: String, systemSerial: String?, summary: String,
                keyID: String, signedJSONSHA256: String, signedJSON: String, jsonPath: String?) {
        self.id = id; self.benchID = benchID; self.issuedAt = issuedAt; self.chassisType = chassisType
        self.systemSerial = systemSerial; self.summary = summary; self.keyID = keyID
        self.signedJSONSHA256 = signedJSONSHA256; self.signedJSON = signedJSON; self.jsonPath = jsonPath
    }
}

extension JournalEventKind {
    /// A signed inventory was stored (payload: id, chassis type, SHA-256 of the signed JSON).
    public static let inventoryRecorded = "inventory.recorded"
}

extension JournalDatabase {
    /// Registers the inventory migration. Its own function so that it can be ordered among the
    /// other branches' migrations; its name is stable and must never change once shipped.
    static func registerInventoryMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("inventory-v1-inventories") { db in
            try db.create(table: "inventories") { t in
                t.primaryKey("id", .text)
                t.column("benchID", .text).notNull()
                t.column("issuedAt", .datetime).notNull().indexed()
                t.column("chassisType", .text).notNull()
                t.column("systemSerial", .text).indexed()
                t.column("summary", .text).notNull()
                t.column("keyID", .text).notNull()
                t.column("signedJSONSHA256", .text).notNull()
                t.column("signedJSON", .text).notNull()
                t.column("jsonPath", .text)
            }
        }
    }

    /// Stores a signed inventory and appends `inventory.recorded` in one transaction.
    /// - Throws: `JournalError` (a second record with the same id is refused by SQLite).
    public func recordInventory(_ record: InventoryRecord) throws {
        struct Event: Encodable {
            let id: String
            let chassisType: String
            let signedJSONSHA256: String
        }
        try write { db in
            try record.insert(db)
            // Queued for the traceability store in the same transaction, like a certificate.
            try Self.enqueueOutbox(db, kind: .inventory, recordID: record.id, certificateID: nil,
                                   payload: record.signedJSON, at: record.issuedAt)
            try Self.appendEvent(db, kind: JournalEventKind.inventoryRecorded, jobID: nil,
                                 payload: Event(id: record.id.uuidString.lowercased(), chassisType: record.chassisType,
                                                signedJSONSHA256: record.signedJSONSHA256),
                                 at: record.issuedAt)
        }
    }

    /// Every stored inventory, oldest first.
    public func inventories() throws -> [InventoryRecord] {
        try read { db in try InventoryRecord.order(Column("issuedAt"), Column("id")).fetchAll(db) }
    }

    public func inventory(id: UUID) throws -> InventoryRecord? {
        try read { db in try InventoryRecord.fetchOne(db, key: id.uuidString.lowercased()) }
    }
}
