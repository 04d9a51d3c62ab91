import Foundation

/// What a stored record is, taken from its payload's `schema`.
public enum RecordKind: String, Sendable, Codable, CaseIterable {
    case certificate
    case inventory
}

/// A bench allowed to push: its enrolled public key and the hash of its bearer token.
public struct EnrolledBench: Sendable, Equatable, Codable {
    /// Lowercase UUID given at enrolment.
    public var id: String
    public var name: String
    public var organisation: String
    /// RFC 7638 thumbprint of `publicJWK`: the `kid` every record of this bench must carry.
    public var keyID: String
    /// The public JWK as enrolled (compact JSON).
    public var publicJWK: String
    /// Lowercase hex SHA-256 of the bearer token; the token itself is never stored.
    public var tokenSHA256: String
    public var enrolledAt: Date
    public var revokedAt: Date?

    public var isRevoked: Bool { revokedAt != nil }
}

/// A record as stored: the exact bytes received, plus the few facts the pages and figures
/// query, copied out of the verified payload.
public struct StoredRecord: Sendable, Equatable {
    /// The payload's `id` (lowercase UUID), unique across kinds.
    public var id: String
    public var kind: RecordKind
    public var benchID: String
    public var keyID: String
    /// Lowercase hex SHA-256 of `body`.
    public var sha256: String
    /// The signed JWS JSON exactly as the bench sent it.
    public var body: Data
    /// The payload's `issuedAt` as it was written (RFC 3339, UTC).
    public var issuedAt: String
    public var receivedAt: Date
    public var lot: String?
    public var donor: String?
    /// Certificates: `result.status`.
    public var erasureStatus: String?
    /// Certificates: `health.verdict`, when the bench checked the drive's health.
    public var healthVerdict: String?
    /// Inventories: `chassis.type`.
    public var chassisType: String?
}

/// The outcome of an insert: pushes are idempotent by record id.
public enum InsertOutcome: Sendable, Equatable {
    /// A new row.
    case stored
    /// Same id, same bytes: nothing written.
    case alreadyStored
    /// Same id, other bytes (or another kind): nothing written.
    case conflict(existingSHA256: String)
}

/// What a donor's access code opens: one lot, or everything given by one donor. Only the
/// code's hash is stored; the code is printed once for the lot certificate or the donor's letter.
public struct AccessGrant: Sendable, Equatable {
    public enum Scope: String, Sendable, Codable { case lot, donor }
    public var codeSHA256: String
    public var scope: Scope
    /// The lot name or the donor name, exactly as the certificates carry it.
    public var value: String
    public var createdAt: Date

    public init(codeSHA256: String, scope: Scope, value: String, createdAt: Date) {
        self.codeSHA256 = codeSHA256
        self.scope = scope
        self.value = value
        self.createdAt = createdAt
    }
}

/// Counts behind the yearly figures (one year of `issuedAt`).
public struct YearCounts: Sendable, Equatable, Codable {
    public var certificates = 0
    /// Certificates whose `result.status` is `erased`.
    public var erased = 0
    public var erasedWithExceptions = 0
    public var notErased = 0
    /// Health verdicts on certificates: reuse + caution count as reused, discard as destroyed.
    public var verdictReuse = 0
    public var verdictCaution = 0
    public var verdictDiscard = 0
    public var verdictUnknown = 0
    public var inventories = 0
    public var laptops = 0
    public var desktops = 0
    public var otherChassis = 0
    public init() {}
}

/// The store's persistence. Two implementations (SQLite through GRDB, PostgreSQL through
/// postgres-nio) share one schema, created by the same migrations (`StoreSchema`). Nothing is
/// kept outside the database, so several servers can share one PostgreSQL.
public protocol RecordStorage: Sendable {
    /// Applies the migrations not yet applied (idempotent, safe when several instances start).
    func migrate() async throws
    /// Names of the applied migrations, in order.
    func appliedMigrations() async throws -> [String]

    func addBench(_ bench: EnrolledBench) async throws
    func benches() async throws -> [EnrolledBench]
    /// The bench whose token hash this is (revoked ones included; the caller decides).
    func bench(tokenSHA256: String) async throws -> EnrolledBench?
    func bench(id: String) async throws -> EnrolledBench?
    /// Marks a bench revoked; false when no such bench or already revoked.
    func revokeBench(id: String, at date: Date) async throws -> Bool

    /// Inserts unless the id exists; atomic with respect to concurrent pushes of the same id.
    func insert(_ record: StoredRecord) async throws -> InsertOutcome
    func record(id: String) async throws -> StoredRecord?
    func recordCount() async throws -> Int
    /// Every record of a lot (certificates and inventories), oldest first.
    func records(lot: String) async throws -> [StoredRecord]
    /// Every record given for a donor, oldest first.
    func records(donor: String) async throws -> [StoredRecord]
    /// Figures for the records issued in `year` (UTC).
    func yearCounts(year: Int) async throws -> YearCounts

    /// Stores an access code's hash and what it opens.
    func addAccessGrant(_ grant: AccessGrant) async throws
    func accessGrant(codeSHA256: String) async throws -> AccessGrant?

    /// Releases connections. The storage is unusable afterwards.
    func close() async
}

/// The schema, written once for both databases. Each migration has a stable name and is never
/// edited after it ships; a new need is a new migration. Only the binary column type differs
/// between the two SQL dialects (`{BLOB}`); dates are RFC 3339 UTC text, which sorts and
/// `substr`s the same way in both.
public enum StoreSchema {
    public enum Dialect: Sendable { case sqlite, postgres }

    public struct Migration: Sendable {
        public let name: String
        public let statements: [String]
        public func sql(for dialect: Dialect) -> [String] {
            statements.map { $0.replacingOccurrences(of: "{BLOB}", with: dialect == .sqlite ? "BLOB" : "BYTEA") }
        }
    }

    public static let migrationsTable = """
        CREATE TABLE IF NOT EXISTS store_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)
        """

    public static let migrations: [Migration] = [
        Migration(name: "0001-benches-and-records", statements: [
            """
            CREATE TABLE benches (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                organisation TEXT NOT NULL,
                key_id TEXT NOT NULL,
                public_jwk TEXT NOT NULL,
                token_sha256 TEXT NOT NULL UNIQUE,
                enrolled_at TEXT NOT NULL,
                revoked_at TEXT
            )
            """,
            "CREATE INDEX benches_key_id ON benches (key_id)",
            """
            CREATE TABLE records (
                id TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                bench_id TEXT NOT NULL REFERENCES benches (id),
                key_id TEXT NOT NULL,
                sha256 TEXT NOT NULL,
                body {BLOB} NOT NULL,
                issued_at TEXT NOT NULL,
                received_at TEXT NOT NULL,
                lot TEXT,
                donor TEXT,
                erasure_status TEXT,
                health_verdict TEXT,
                chassis_type TEXT
            )
            """,
            "CREATE INDEX records_issued_at ON records (issued_at)",
            "CREATE INDEX records_lot ON records (lot)",
        ]),
        Migration(name: "0002-access-codes", statements: [
            """
            CREATE TABLE access_grants (
                code_sha256 TEXT PRIMARY KEY,
                scope TEXT NOT NULL,
                value TEXT NOT NULL,
                created_at TEXT NOT NULL
            )
            """,
            "CREATE INDEX records_donor ON records (donor)",
        ]),
    ]
}

/// RFC 3339 UTC with seconds, the text form of every date column.
enum StoreDate {
    static func text(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}
