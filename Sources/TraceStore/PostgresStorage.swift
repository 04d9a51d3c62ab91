import Foundation
import Logging
import NIOSSL
import PostgresNIO

/// The store on PostgreSQL (a network: several `ardoise-store` instances on one database),
/// through postgres-nio's connection pool. Same schema and migrations as `SQLiteStorage`.
public final class PostgresStorage: RecordStorage {
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger

    /// Connects lazily: the first query opens the first connection.
    public init(url: PostgresURL, maximumConnections: Int = 16, logger: Logger = PostgresStorage.defaultLogger) {
        var configuration: PostgresClient.Configuration
        if let socket = url.unixSocketPath {
            configuration = .init(unixSocketPath: socket, username: url.username, password: url.password, database: url.database)
        } else {
            let tls: PostgresClient.Configuration.TLS
            switch url.sslMode {
            case .disable: tls = .disable
            case .prefer: tls = .prefer(.makeClientConfiguration())
            case .require: tls = .require(.makeClientConfiguration())
            }
            configuration = .init(host: url.host, port: url.port, username: url.username, password: url.password,
                                  database: url.database, tls: tls)
        }
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(10)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.logger = logger
        runner = Task { await client.run() }
    }

    /// Errors only: postgres-nio logs a warning for a query issued before `run()` began (the
    /// pool waits for it, so nothing is lost) and an info line for each connection it closes.
    public static var defaultLogger: Logger {
        var logger = Logger(label: "ardoise-store.postgres")
        logger.logLevel = .error
        return logger
    }

    public func migrate() async throws {
        try await client.withTransaction(logger: logger) { connection in
            // One instance migrates at a time; the others wait, then find nothing to do.
            try await connection.query("SELECT pg_advisory_xact_lock(7236501)", logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: StoreSchema.migrationsTable), logger: logger)
            var applied = Set<String>()
            for try await name in try await connection.query("SELECT name FROM store_migrations", logger: logger).decode(String.self) {
                applied.insert(name)
            }
            for migration in StoreSchema.migrations where !applied.contains(migration.name) {
                for statement in migration.sql(for: .postgres) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                let now = StoreDate.text(Date())
                try await connection.query("INSERT INTO store_migrations (name, applied_at) VALUES (\(migration.name), \(now))",
                                           logger: logger)
            }
        }
    }

    public func appliedMigrations() async throws -> [String] {
        var names: [String] = []
        for try await name in try await client.query("SELECT name FROM store_migrations ORDER BY name", logger: logger).decode(String.self) {
            names.append(name)
        }
        return names
    }

    public func addBench(_ bench: EnrolledBench) async throws {
        let enrolled = StoreDate.text(bench.enrolledAt), revoked = bench.revokedAt.map(StoreDate.text)
        try await client.query("""
            INSERT INTO benches (id, name, organisation, key_id, public_jwk, token_sha256, enrolled_at, revoked_at)
            VALUES (\(bench.id), \(bench.name), \(bench.organisation), \(bench.keyID), \(bench.publicJWK),
                    \(bench.tokenSHA256), \(enrolled), \(revoked))
            """, logger: logger)
    }

    private typealias BenchRow = (String, String, String, String, String, String, String, String?)

    private static func bench(_ row: BenchRow) -> EnrolledBench {
        EnrolledBench(id: row.0, name: row.1, organisation: row.2, keyID: row.3, publicJWK: row.4, tokenSHA256: row.5,
                      enrolledAt: StoreDate.date(row.6) ?? .distantPast, revokedAt: row.7.flatMap(StoreDate.date))
    }

    private func benches(_ query: PostgresQuery) async throws -> [EnrolledBench] {
        var result: [EnrolledBench] = []
        let rows = try await client.query(query, logger: logger)
        for try await row in rows.decode(BenchRow.self) { result.append(Self.bench(row)) }
        return result
    }

    public func benches() async throws -> [EnrolledBench] {
        try await benches("""
            SELECT id, name, organisation, key_id, public_jwk, token_sha256, enrolled_at, revoked_at
            FROM benches ORDER BY enrolled_at, name
            """)
    }

    public func bench(tokenSHA256: String) async throws -> EnrolledBench? {
        try await benches("""
            SELECT id, name, organisation, key_id, public_jwk, token_sha256, enrolled_at, revoked_at
            FROM benches WHERE token_sha256 = \(tokenSHA256)
            """).first
    }

    public func bench(id: String) async throws -> EnrolledBench? {
        try await benches("""
            SELECT id, name, organisation, key_id, public_jwk, token_sha256, enrolled_at, revoked_at
            FROM benches WHERE id = \(id)
            """).first
    }

    public func revokeBench(id: String, at date: Date) async throws -> Bool {
        let when = StoreDate.text(date)
        let rows = try await client.query(
            "UPDATE benches SET revoked_at = \(when) WHERE id = \(id) AND revoked_at IS NULL RETURNING id", logger: logger)
        var changed = false
        for try await _ in rows.decode(String.self) { changed = true }
        return changed
    }

    public func insert(_ record: StoredRecord) async throws -> InsertOutcome {
        let received = StoreDate.text(record.receivedAt), kind = record.kind.rawValue
        // The primary key makes the insert atomic across connections and instances: of two
        // concurrent pushes of one id, exactly one inserts; the other sees the row.
        let inserted = try await client.query("""
            INSERT INTO records (id, kind, bench_id, key_id, sha256, body, issued_at, received_at, lot, donor,
                                 erasure_status, health_verdict, chassis_type)
            VALUES (\(record.id), \(kind), \(record.benchID), \(record.keyID), \(record.sha256), \(record.body),
                    \(record.issuedAt), \(received), \(record.lot), \(record.donor), \(record.erasureStatus),
                    \(record.healthVerdict), \(record.chassisType))
            ON CONFLICT (id) DO NOTHING RETURNING id
            """, logger: logger)
        var didInsert = false
        for try await _ in inserted.decode(String.self) { didInsert = true }
        if didInsert { return .stored }
        let existing = try await client.query("SELECT sha256, kind FROM records WHERE id = \(record.id)", logger: logger)
        for try await (sha, existingKind) in existing.decode((String, String).self) {
            return sha == record.sha256 && existingKind == kind ? .alreadyStored : .conflict(existingSHA256: sha)
        }
        // Inserted by nobody and absent: cannot happen without a concurrent DELETE.
        throw StorageFailure(message: "record \(record.id) neither inserted nor found")
    }

    private typealias RecordRow = (String, String, String, String, String, Data, String, String, String?, String?, String?, String?, String?)

    private func records(_ query: PostgresQuery) async throws -> [StoredRecord] {
        var result: [StoredRecord] = []
        let rows = try await client.query(query, logger: logger)
        for try await row in rows.decode(RecordRow.self) {
            result.append(StoredRecord(id: row.0, kind: RecordKind(rawValue: row.1) ?? .certificate, benchID: row.2,
                                       keyID: row.3, sha256: row.4, body: row.5, issuedAt: row.6,
                                       receivedAt: StoreDate.date(row.7) ?? .distantPast, lot: row.8, donor: row.9,
                                       erasureStatus: row.10, healthVerdict: row.11, chassisType: row.12))
        }
        return result
    }

    public func record(id: String) async throws -> StoredRecord? {
        try await records("""
            SELECT id, kind, bench_id, key_id, sha256, body, issued_at, received_at, lot, donor, erasure_status,
                   health_verdict, chassis_type FROM records WHERE id = \(id)
            """).first
    }

    public func recordCount() async throws -> Int {
        for try await count in try await client.query("SELECT COUNT(*) FROM records", logger: logger).decode(Int.self) {
            return count
        }
        return 0
    }

    public func records(lot: String) async throws -> [StoredRecord] {
        try await records("""
            SELECT id, kind, bench_id, key_id, sha256, body, issued_at, received_at, lot, donor, erasure_status,
                   health_verdict, chassis_type FROM records WHERE lot = \(lot) ORDER BY issued_at, id
            """)
    }

    public func records(donor: String) async throws -> [StoredRecord] {
        try await records("""
            SELECT id, kind, bench_id, key_id, sha256, body, issued_at, received_at, lot, donor, erasure_status,
                   health_verdict, chassis_type FROM records WHERE donor = \(donor) ORDER BY issued_at, id
            """)
    }

    public func addAccessGrant(_ grant: AccessGrant) async throws {
        let scope = grant.scope.rawValue, created = StoreDate.text(grant.createdAt)
        try await client.query("""
            INSERT INTO access_grants (code_sha256, scope, value, created_at)
            VALUES (\(grant.codeSHA256), \(scope), \(grant.value), \(created))
            """, logger: logger)
    }

    public func accessGrant(codeSHA256: String) async throws -> AccessGrant? {
        let rows = try await client.query(
            "SELECT scope, value, created_at FROM access_grants WHERE code_sha256 = \(codeSHA256)", logger: logger)
        for try await (scope, value, created) in rows.decode((String, String, String).self) {
            guard let scope = AccessGrant.Scope(rawValue: scope) else { return nil }
            return AccessGrant(codeSHA256: codeSHA256, scope: scope, value: value, createdAt: StoreDate.date(created) ?? .distantPast)
        }
        return nil
    }

    public func yearCounts(year: Int) async throws -> YearCounts {
        let from = String(year), to = String(year + 1)
        let query: PostgresQuery = """
            SELECT kind, erasure_status, health_verdict, chassis_type, COUNT(*) FROM records
            WHERE issued_at >= \(from) AND issued_at < \(to) GROUP BY kind, erasure_status, health_verdict, chassis_type
            """
        let rows = try await client.query(query, logger: logger)
        var counts = YearCounts()
        for try await (kind, status, verdict, chassis, count) in rows.decode((String, String?, String?, String?, Int).self) {
            counts.add(kind: kind, erasureStatus: status, healthVerdict: verdict, chassisType: chassis, count: count)
        }
        return counts
    }

    /// Runs one statement (tests create and drop their databases with it).
    public func execute(_ sql: String) async throws {
        try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger)
    }

    public func close() async {
        runner.cancel()
        _ = await runner.value
    }
}

/// An unexpected database state.
public struct StorageFailure: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// `postgres://user:password@host:port/database?sslmode=disable|prefer|require`, or a Unix
/// socket with libpq's spelling: `postgres://user@/database?host=/run/postgresql` (the socket
/// file is `<host>/.s.PGSQL.<port>`).
public struct PostgresURL: Sendable, Equatable {
    public enum SSLMode: String, Sendable { case disable, prefer, require }

    public var host = "localhost"
    public var port = 5432
    public var username = "postgres"
    public var password: String?
    public var database: String?
    public var socketDirectory: String?
    public var sslMode = SSLMode.prefer

    public var unixSocketPath: String? { socketDirectory.map { "\($0)/.s.PGSQL.\(port)" } }

    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// nil when `text` is not a PostgreSQL URL this store understands.
    public init?(_ text: String) {
        guard Self.isPostgres(text), let components = URLComponents(string: text) else { return nil }
        if let user = components.user, !user.isEmpty { username = user.removingPercentEncoding ?? user }
        password = components.password?.removingPercentEncoding
        if let host = components.host, !host.isEmpty { self.host = host }
        if let port = components.port { self.port = port }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? nil : path
        for item in components.queryItems ?? [] {
            switch item.name {
            case "host":
                guard let value = item.value, value.hasPrefix("/") else { return nil }
                socketDirectory = value
            case "port":
                guard let value = item.value, let number = Int(value), (1...65535).contains(number) else { return nil }
                port = number
            case "sslmode":
                guard let value = item.value, let mode = SSLMode(rawValue: value) else { return nil }
                sslMode = mode
            default:
                return nil
            }
        }
    }

    /// The URL, password included, in the form `init` reads.
    public var text: String {
        let credentials = username.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) ?? username
        let secret = password.map { ":" + ($0.addingPercentEncoding(withAllowedCharacters: .urlPasswordAllowed) ?? $0) } ?? ""
        var query: [String] = []
        if let socketDirectory { query += ["host=\(socketDirectory)", "port=\(port)"] }
        if sslMode != .prefer { query.append("sslmode=\(sslMode.rawValue)") }
        let server = socketDirectory == nil ? "\(host):\(port)" : "localhost"
        return "postgres://\(credentials)\(secret)@\(server)/\(database ?? "")" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }

    /// The URL without its password, for messages and logs.
    public var redacted: String {
        let socket = socketDirectory.map { "?host=\($0)" } ?? ""
        let server = socketDirectory == nil ? "\(host):\(port)" : ""
        return "postgres://\(username)@\(server)/\(database ?? "")\(socket)"
    }
}
