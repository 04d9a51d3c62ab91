import ArdoiseSupport
import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif

/// The store on one SQLite file (WAL mode, `synchronous = FULL`), through GRDB. GRDB runs
/// every statement on its own serial queues, so the async methods never block the Swift
/// concurrency pool.
public final class SQLiteStorage: RecordStorage {
    public let path: String
    private let pool: DatabasePool

    /// Opens the database file, creating it (mode 0640) when `create` is true and it is
    /// missing; its directory must exist. Call `migrate()` before use.
    /// - Throws: `StoreCommandError` `.databaseUnavailable` when the file or its directory is
    ///   missing, or the file is not a SQLite database.
    public init(path: String, create: Bool = true) throws {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path) {
            guard create else {
                throw StoreCommandError(code: .databaseUnavailable, message: LocalizedText(
                    fr: "Aucune base du registre à \(path) (« ardoise-store serve » ou « benches add » la crée).",
                    en: "No store database at \(path) (`ardoise-store serve` or `benches add` creates it)."))
            }
            guard FileManager.default.fileExists(atPath: directory.isEmpty ? "." : directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw StoreCommandError(code: .databaseUnavailable, message: LocalizedText(
                    fr: "Le dossier \(directory) n'existe pas (créez-le, par exemple avec install -d -m 0750).",
                    en: "Directory \(directory) does not exist (create it, e.g. with install -d -m 0750)."))
            }
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
            if descriptor >= 0 { _ = Glibc.close(descriptor) }
        }
        var configuration = Configuration()
        // Several requests (or a second instance on the same file) wait for the write lock
        // instead of failing at once.
        configuration.busyMode = .timeout(30)
        configuration.prepareDatabase { db in
            // FULL: a record acknowledged with 201 must survive a power loss, not only a crash.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
    }

    public func migrate() async throws {
        try await pool.write { db in
            try db.execute(sql: StoreSchema.migrationsTable)
            let applied = Set(try String.fetchAll(db, sql: "SELECT name FROM store_migrations"))
            for migration in StoreSchema.migrations where !applied.contains(migration.name) {
                for statement in migration.sql(for: .sqlite) { try db.execute(sql: statement) }
                try db.execute(sql: "INSERT INTO store_migrations (name, applied_at) VALUES (?, ?)",
                               arguments: [migration.name, StoreDate.text(Date())])
            }
        }
    }

    public func appliedMigrations() async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM store_migrations ORDER BY name")
        }
    }

    public func addBench(_ bench: EnrolledBench) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO benches (id, name, organisation, key_id, public_jwk, token_sha256, enrolled_at, revoked_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [bench.id, bench.name, bench.organisation, bench.keyID, bench.publicJWK,
                                 bench.tokenSHA256, StoreDate.text(bench.enrolledAt), bench.revokedAt.map(StoreDate.text)])
        }
    }

    private static let benchColumns = "id, name, organisation, key_id, public_jwk, token_sha256, enrolled_at, revoked_at"

    private static func bench(_ row: Row) -> EnrolledBench {
        EnrolledBench(id: row[0], name: row[1], organisation: row[2], keyID: row[3], publicJWK: row[4],
                      tokenSHA256: row[5], enrolledAt: StoreDate.date(row[6]) ?? .distantPast,
                      revokedAt: (row[7] as String?).flatMap(StoreDate.date))
    }

    public func benches() async throws -> [EnrolledBench] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.benchColumns) FROM benches ORDER BY enrolled_at, name").map(Self.bench)
        }
    }

    public func bench(tokenSHA256: String) async throws -> EnrolledBench? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.benchColumns) FROM benches WHERE token_sha256 = ?",
                             arguments: [tokenSHA256]).map(Self.bench)
        }
    }

    public func bench(id: String) async throws -> EnrolledBench? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.benchColumns) FROM benches WHERE id = ?", arguments: [id]).map(Self.bench)
        }
    }

    public func revokeBench(id: String, at date: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE benches SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                           arguments: [StoreDate.text(date), id])
            return db.changesCount == 1
        }
    }

    public func insert(_ record: StoredRecord) async throws -> InsertOutcome {
        try await pool.write { db in
            // The write transaction holds SQLite's single write lock: the check and the insert
            // cannot interleave with another push of the same id.
            if let existing = try Row.fetchOne(db, sql: "SELECT sha256, kind FROM records WHERE id = ?", arguments: [record.id]) {
                let sha: String = existing[0], kind: String = existing[1]
                return sha == record.sha256 && kind == record.kind.rawValue ? .alreadyStored : .conflict(existingSHA256: sha)
            }
            try db.execute(sql: """
                INSERT INTO records (id, kind, bench_id, key_id, sha256, body, issued_at, received_at, lot, donor,
                                     erasure_status, health_verdict, chassis_type)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [record.id, record.kind.rawValue, record.benchID, record.keyID, record.sha256, record.body,
                                 record.issuedAt, StoreDate.text(record.receivedAt), record.lot, record.donor,
                                 record.erasureStatus, record.healthVerdict, record.chassisType])
            return .stored
        }
    }

    private static let recordColumns = """
        id, kind, bench_id, key_id, sha256, body, issued_at, received_at, lot, donor, erasure_status, health_verdict, chassis_type
        """

    private static func record(_ row: Row) -> StoredRecord {
        StoredRecord(id: row[0], kind: RecordKind(rawValue: row[1]) ?? .certificate, benchID: row[2], keyID: row[3],
                     sha256: row[4], body: row[5], issuedAt: row[6], receivedAt: StoreDate.date(row[7]) ?? .distantPast,
                     lot: row[8], donor: row[9], erasureStatus: row[10], healthVerdict: row[11], chassisType: row[12])
    }

    public func record(id: String) async throws -> StoredRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.recordColumns) FROM records WHERE id = ?", arguments: [id]).map(Self.record)
        }
    }

    public func recordCount() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM records") ?? 0 }
    }

    public func records(lot: String) async throws -> [StoredRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.recordColumns) FROM records WHERE lot = ? ORDER BY issued_at, id",
                             arguments: [lot]).map(Self.record)
        }
    }

    public func records(donor: String) async throws -> [StoredRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.recordColumns) FROM records WHERE donor = ? ORDER BY issued_at, id",
                             arguments: [donor]).map(Self.record)
        }
    }

    public func addAccessGrant(_ grant: AccessGrant) async throws {
        try await pool.write { db in
            try db.execute(sql: "INSERT INTO access_grants (code_sha256, scope, value, created_at) VALUES (?, ?, ?, ?)",
                           arguments: [grant.codeSHA256, grant.scope.rawValue, grant.value, StoreDate.text(grant.createdAt)])
        }
    }

    public func accessGrant(codeSHA256: String) async throws -> AccessGrant? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT scope, value, created_at FROM access_grants WHERE code_sha256 = ?",
                                             arguments: [codeSHA256]),
                  let scope = AccessGrant.Scope(rawValue: row[0]) else { return nil }
            return AccessGrant(codeSHA256: codeSHA256, scope: scope, value: row[1], createdAt: StoreDate.date(row[2]) ?? .distantPast)
        }
    }

    public func yearCounts(year: Int) async throws -> YearCounts {
        try await pool.read { db in
            var counts = YearCounts()
            let sql = """
                SELECT kind, erasure_status, health_verdict, chassis_type, COUNT(*) FROM records
                WHERE issued_at >= ? AND issued_at < ? GROUP BY kind, erasure_status, health_verdict, chassis_type
                """
            for row in try Row.fetchAll(db, sql: sql, arguments: [String(year), String(year + 1)]) {
                counts.add(kind: row[0], erasureStatus: row[1], healthVerdict: row[2], chassisType: row[3], count: row[4])
            }
            return counts
        }
    }

    public func close() async {
        try? pool.close()
    }
}

extension YearCounts {
    /// Adds one group of records (the same `GROUP BY` in both implementations; `issued_at`
    /// is RFC 3339 text, so a year is the range ["2026", "2027")).
    mutating func add(kind: String, erasureStatus: String?, healthVerdict: String?, chassisType: String?, count: Int) {
        switch RecordKind(rawValue: kind) {
        case .certificate:
            certificates += count
            switch erasureStatus {
            case "erased": erased += count
            case "erased_with_exceptions": erasedWithExceptions += count
            default: notErased += count
            }
            switch healthVerdict {
            case "reuse": verdictReuse += count
            case "caution": verdictCaution += count
            case "discard": verdictDiscard += count
            default: verdictUnknown += count
            }
        case .inventory:
            inventories += count
            switch chassisType {
            case "laptop": laptops += count
            case "desktop", "all_in_one": desktops += count
            default: otherChassis += count
            }
        case nil:
            break
        }
    }
}
