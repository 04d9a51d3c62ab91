import ArdoiseSupport
import Crypto
import ErasureRecords
import Foundation
import Logging
import PostgresNIO
import Testing
@testable import Certificates
@testable import TraceStore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Deterministic certificates, inventories and keys for the store's tests.
enum StoreFixture {
    static let start = Date(timeIntervalSince1970: 1_790_000_000)  // 2026-09-21
    static let capacity: UInt64 = 500_107_862_016

    /// RFC 8037 Appendix A.1's test key.
    static var key: BenchKey {
        BenchKey(privateKey: try! Curve25519.Signing.PrivateKey(rawRepresentation: Base64URL.decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")!))
    }

    static func key(seed: UInt8) -> BenchKey {
        BenchKey(privateKey: try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: seed, count: 32)))
    }

    static func input(id: UUID = UUID(), serial: String = "WD-WCC4N7KZ1234", lot: String? = "LOT-2026-042",
                      donor: String? = "Mairie de Villeurbanne") -> CertificateInput {
        CertificateInput(
            id: id, jobID: UUID(), benchID: "atelier-1",
            organisation: Organisation(name: "Atelier Réemploi Solidaire", address: "12 rue des Écoles, 69001 Lyon"),
            technician: Person(name: "Zoé Lefèvre", title: "Technicienne"),
            donor: donor, lot: lot,
            media: Media(manufacturer: "Western Digital", model: "WDC WD5000AAKX-00ERMA0", serial: serial,
                         type: .magnetic, capacityBytes: capacity, transport: "sata"),
            category: .clear, profile: "nist-800-88-clear",
            passes: [PassRecord(index: 1, kind: "constant", patternHex: "00", bytesWritten: capacity, durationSeconds: 3_721.5,
                                verification: VerificationRecord(mode: "full", result: .passed, sampleCount: 1000))],
            finalVerification: VerificationRecord(mode: "full", result: .passed, sampleCount: 1000),
            tool: Tool(name: "ardoise", version: "0.1.0"), outcome: .completed,
            startedAt: start, endedAt: start.addingTimeInterval(7_500))
    }

    /// A signed certificate (the exact bytes a bench keeps in its outbox).
    static func certificate(id: UUID = UUID(), serial: String = "WD-WCC4N7KZ1234", lot: String? = "LOT-2026-042",
                            key: BenchKey = StoreFixture.key) throws -> Data {
        try CertificateSigner.sign(CertificatePayload(input: input(id: id, serial: serial, lot: lot), issuedAt: start.addingTimeInterval(7_600)),
                                   with: key).signedJSON
    }

    /// A certificate carrying the health member of COMMON.md's contract (signed as raw JSON,
    /// since this branch's payload model does not have it yet).
    static func certificate(id: UUID = UUID(), healthVerdict: String, key: BenchKey = StoreFixture.key) throws -> Data {
        let payload = CertificatePayload(input: input(id: id), issuedAt: start.addingTimeInterval(7_600))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        var object = try JSONSerialization.jsonObject(with: encoder.encode(payload)) as! [String: Any]
        object["health"] = ["verdict": healthVerdict, "reasons": [], "checkedAt": "2026-09-21T14:00:00Z"]
        let bytes = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return try CertificateSigner.signRaw(payload: Array(bytes), with: key).serialized()
    }

    /// An inventory v1 record (COMMON.md): same JWS, inventory schema.
    static func inventory(id: UUID = UUID(), chassis: String? = "laptop", dropping member: String? = nil,
                          key: BenchKey = StoreFixture.key) throws -> Data {
        var object: [String: Any] = [
            "schema": RecordIntake.inventorySchemaURI, "schemaVersion": 1, "id": id.uuidString.lowercased(),
            "issuedAt": "2026-09-21T10:00:00Z", "benchID": "atelier-1",
            "system": ["vendor": "LENOVO", "model": "ThinkPad T480"], "memory": ["totalBytes": 8_589_934_592],
        ]
        if let chassis { object["chassis"] = ["type": chassis] }
        if let member { object.removeValue(forKey: member) }
        let bytes = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return try CertificateSigner.signRaw(payload: Array(bytes), with: key).serialized()
    }

    static func sha256(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }

    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-store-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// The databases every storage test runs against: SQLite always; PostgreSQL when
/// `ARDOISE_TEST_POSTGRES_URL` names a server (`make test` starts a private cluster through
/// scripts/test-postgres.sh and sets it).
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    static var postgresURL: String? {
        let value = ProcessInfo.processInfo.environment["ARDOISE_TEST_POSTGRES_URL"] ?? ""
        return value.isEmpty ? nil : value
    }

    /// Every backend available here. PostgreSQL missing is a visible absence only when CI
    /// requires it (`ARDOISE_TEST_REQUIRE_POSTGRES=1` makes the PostgreSQL tests fail instead).
    static var available: [Backend] {
        if postgresURL != nil || ProcessInfo.processInfo.environment["ARDOISE_TEST_REQUIRE_POSTGRES"] == "1" { return [.sqlite, .postgres] }
        return [.sqlite]
    }
}

/// A fresh, empty database of one backend; `remove()` deletes it.
struct TestDatabase: Sendable {
    let backend: Backend
    /// What `--db` takes.
    let location: String
    private let cleanup: @Sendable () async -> Void

    static func make(_ backend: Backend) async throws -> TestDatabase {
        switch backend {
        case .sqlite:
            let directory = try StoreFixture.temporaryDirectory()
            return TestDatabase(backend: backend, location: directory + "/store.sqlite") {
                try? FileManager.default.removeItem(atPath: directory)
            }
        case .postgres:
            let base = try #require(Backend.postgresURL, "ARDOISE_TEST_POSTGRES_URL is not set (run `scripts/test-postgres.sh start`)")
            let admin = try #require(PostgresURL(base))
            let name = "ardoise_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
            try await Self.adminQuery(admin, "CREATE DATABASE \(name)")
            var url = admin
            url.database = String(name)
            let location = url.text
            return TestDatabase(backend: backend, location: location) {
                try? await Self.adminQuery(admin, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            }
        }
    }

    func open() throws -> any RecordStorage { try StorageOpener.open(location) }

    func remove() async { await cleanup() }

    private static func adminQuery(_ url: PostgresURL, _ sql: String) async throws {
        let storage = PostgresStorage(url: url, maximumConnections: 1)
        do {
            try await storage.execute(sql)
        } catch {
            await storage.close()
            throw error
        }
        await storage.close()
    }
}

/// A store server in this process on 127.0.0.1 and a free port, stopped by `stop()`.
final class RunningStore: Sendable {
    let baseURL: URL
    let storage: any RecordStorage
    private let task: Task<Void, any Error>

    static func start(storage: any RecordStorage, figures: FiguresSettings = FiguresSettings(),
                      limiter: RateLimiter = RateLimiter(RateLimits())) async throws -> RunningStore {
        let server = StoreServer(service: TraceStoreService(storage: storage), figuresSettings: figures, limiter: limiter)
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "store-test")
        // Cancelling the server task (how the tests stop it) makes Hummingbird log errors.
        logger.logLevel = .critical
        let app = server.application(host: "127.0.0.1", port: 0, logger: logger) { port in continuation.yield(port) }
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = stream.makeAsyncIterator()
        guard let port = await iterator.next() else { throw StorageFailure(message: "server did not start") }
        return RunningStore(baseURL: URL(string: "http://127.0.0.1:\(port)")!, storage: storage, task: task)
    }

    private init(baseURL: URL, storage: any RecordStorage, task: Task<Void, any Error>) {
        self.baseURL = baseURL
        self.storage = storage
        self.task = task
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}

/// Minimal HTTP calls through Foundation's URLSession.
enum HTTP {
    struct Reply: Sendable {
        var status: Int
        var body: Data
        var headers: [String: String]
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
        var errorCode: String? { (json?["error"] as? [String: Any])?["code"] as? String }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 60
        configuration.httpMaximumConnectionsPerHost = 64
        return URLSession(configuration: configuration)
    }()

    static func push(_ base: URL, token: String?, body: Data) async throws -> Reply {
        var request = URLRequest(url: base.appendingPathComponent("api/v1/records"))
        request.httpMethod = "POST"
        request.setValue("application/jose+json", forHTTPHeaderField: "Content-Type")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        request.httpBody = body
        return try await send(request)
    }

    static func get(_ url: URL) async throws -> Reply {
        try await send(URLRequest(url: url))
    }

    static func send(_ request: URLRequest) async throws -> Reply {
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields { headers["\(key)".lowercased()] = "\(value)" }
        return Reply(status: http.statusCode, body: data, headers: headers)
    }
}
