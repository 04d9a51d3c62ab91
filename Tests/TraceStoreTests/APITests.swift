import Foundation
import Testing
@testable import Certificates
@testable import TraceStore

/// `POST /api/v1/records` and `GET /api/v1/{certificates,inventories}/{id}` over real HTTP,
/// with real signed certificates, on both databases.
@Suite("Store API")
struct APITests {
    /// A store with two enrolled benches: A (the RFC 8037 test key) and B (another key).
    struct Setup {
        let store: RunningStore
        let database: TestDatabase
        let tokenA: String
        let tokenB: String
        let benchA: EnrolledBench
        let benchB: EnrolledBench
        var base: URL { store.baseURL }

        func finish() async {
            await store.stop()
            await store.storage.close()
            await database.remove()
        }
    }

    static let keyB = StoreFixture.key(seed: 7)

    static func setUp(_ backend: Backend) async throws -> Setup {
        let database = try await TestDatabase.make(backend)
        let storage = try database.open()
        try await storage.migrate()
        let service = TraceStoreService(storage: storage)
        let (benchA, tokenA) = try await service.enrol(name: "Atelier de Rennes", organisation: "Ordi Grand Ouest", publicJWK: StoreFixture.key.publicJWK)
        let (benchB, tokenB) = try await service.enrol(name: "Atelier de Brest", organisation: "Ordi Grand Ouest", publicJWK: keyB.publicJWK)
        let store = try await RunningStore.start(storage: storage)
        return Setup(store: store, database: database, tokenA: tokenA, tokenB: tokenB, benchA: benchA, benchB: benchB)
    }

    static func run(_ backend: Backend, _ body: (Setup) async throws -> Void) async throws {
        let setup = try await setUp(backend)
        do { try await body(setup) } catch {
            await setup.finish()
            throw error
        }
        await setup.finish()
    }

    @Test("health answers ok", arguments: Backend.available)
    func health(backend: Backend) async throws {
        try await Self.run(backend) { setup in
            let reply = try await HTTP.get(setup.base.appendingPathComponent("api/v1/health"))
            #expect(reply.status == 200)
            #expect(reply.json?["status"] as? String == "ok")
        }
    }

    @Test("the same push twice: 201 then 200, one row, bytes returned byte for byte", arguments: Backend.available)
    func idempotentPush(backend: Backend) async throws {
        try await Self.run(backend) { setup in
            let id = UUID()
            let certificate = try StoreFixture.certificate(id: id)
            let first = try await HTTP.push(setup.base, token: setup.tokenA, body: certificate)
            #expect(first.status == 201)
            #expect(first.json?["status"] as? String == "stored")
            #expect(first.json?["id"] as? String == id.uuidString.lowercased())
            #expect(first.json?["kind"] as? String == "certificate")
            let second = try await HTTP.push(setup.base, token: setup.tokenA, body: certificate)
            #expect(second.status == 200)
            #expect(second.json?["status"] as? String == "already_stored")
            #expect(try await setup.store.storage.recordCount() == 1)

            let fetched = try await HTTP.get(setup.base.appendingPathComponent("api/v1/certificates/\(id.uuidString.lowercased())"))
            #expect(fetched.status == 200)
            #expect(fetched.headers["content-type"] == "application/jose+json")
            #expect(fetched.body == certificate)
            // Not an inventory, and an unknown id: 404 not_found.
            let wrongKind = try await HTTP.get(setup.base.appendingPathComponent("api/v1/inventories/\(id.uuidString.lowercased())"))
            #expect(wrongKind.status == 404 && wrongKind.errorCode == "not_found")
            let missing = try await HTTP.get(setup.base.appendingPathComponent("api/v1/certificates/\(UUID().uuidString.lowercased())"))
            #expect(missing.status == 404 && missing.errorCode == "not_found")
        }
    }

    @Test("refused and nothing stored: one byte changed, unenrolled key, another bench's token, no/unknown token", arguments: Backend.available)
    func refusals(backend: Backend) async throws {
        try await Self.run(backend) { setup in
            let certificate = try StoreFixture.certificate()
            // One byte of the signed payload changed (a character inside the base64url payload).
            var tampered = certificate
            let payloadStart = try #require(String(decoding: certificate, as: UTF8.self).range(of: "\"payload\":\""))
            let offset = String(decoding: certificate, as: UTF8.self).utf8.distance(
                from: String(decoding: certificate, as: UTF8.self).startIndex, to: payloadStart.upperBound) + 40
            tampered[offset] = tampered[offset] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            let reply = try await HTTP.push(setup.base, token: setup.tokenA, body: tampered)
            #expect(reply.status == 422)
            #expect(reply.errorCode == "invalid_signature")

            // Signed by a key that no bench enrolled.
            let stranger = try StoreFixture.certificate(key: StoreFixture.key(seed: 99))
            let strangerReply = try await HTTP.push(setup.base, token: setup.tokenA, body: stranger)
            #expect(strangerReply.status == 403)
            #expect(strangerReply.errorCode == "wrong_bench_key")

            // Signed by bench A, pushed with bench B's token.
            let crossed = try await HTTP.push(setup.base, token: setup.tokenB, body: certificate)
            #expect(crossed.status == 403)
            #expect(crossed.errorCode == "wrong_bench_key")

            let noToken = try await HTTP.push(setup.base, token: nil, body: certificate)
            #expect(noToken.status == 401 && noToken.errorCode == "unauthorized")
            let unknownToken = try await HTTP.push(setup.base, token: BenchToken.generate(), body: certificate)
            #expect(unknownToken.status == 401 && unknownToken.errorCode == "unauthorized")

            // Not a JWS at all, and a truncated one.
            let garbage = try await HTTP.push(setup.base, token: setup.tokenA, body: Data("hello".utf8))
            #expect(garbage.status == 422 && garbage.errorCode == "malformed_record")
            let truncated = try await HTTP.push(setup.base, token: setup.tokenA, body: certificate.prefix(certificate.count / 2))
            #expect(truncated.status == 422 && truncated.errorCode == "malformed_record")

            #expect(try await setup.store.storage.recordCount() == 0)
            // The genuine one still goes in.
            #expect(try await HTTP.push(setup.base, token: setup.tokenA, body: certificate).status == 201)
            #expect(try await setup.store.storage.recordCount() == 1)
        }
    }

    @Test("a revoked token gets 401", arguments: Backend.available)
    func revokedToken(backend: Backend) async throws {
        try await Self.run(backend) { setup in
            #expect(try await HTTP.push(setup.base, token: setup.tokenA, body: try StoreFixture.certificate()).status == 201)
            #expect(try await setup.store.storage.revokeBench(id: setup.benchA.id, at: Date()))
            let reply = try await HTTP.push(setup.base, token: setup.tokenA, body: try StoreFixture.certificate())
            #expect(reply.status == 401)
            #expect(reply.errorCode == "unauthorized")
            #expect(try await setup.store.storage.recordCount() == 1)
        }
    }

    @Test("same id with other bytes: 409 conflicting_record", arguments: Backend.available)
    func conflict(backend: Backend) async throws {
        try await Self.run(backend) { setup in
            let id = UUID()
            #expect(try await HTTP.push(setup.base, token: setup.tokenA, body: try StoreFixture.certificate(id: id, serial: "A1")).status == 201)
            let other = try await HTTP.push(setup.base, token: setup.tokenA, body: try StoreFixture.certificate(id: id, serial: "B2"))
            #expect(other.status == 409)
            #expect(other.errorCode == "conflicting_record")
            #expect(try await setup.store.storage.recordCount() == 1)
        }
    }

    @Test("inventories: stored with their chassis; a missing member is invalid_payload", arguments: Backend.available)
    func inventories(backend: Backend) async throws {
        try await Self.run(backend) { setup in
            let id = UUID()
            let inventory = try StoreFixture.inventory(id: id, chassis: "laptop")
            let reply = try await HTTP.push(setup.base, token: setup.tokenA, body: inventory)
            #expect(reply.status == 201)
            #expect(reply.json?["kind"] as? String == "inventory")
            let fetched = try await HTTP.get(setup.base.appendingPathComponent("api/v1/inventories/\(id.uuidString.lowercased())"))
            #expect(fetched.body == inventory)
            #expect(try await setup.store.storage.record(id: id.uuidString.lowercased())?.chassisType == "laptop")

            for member in ["id", "issuedAt", "benchID", "schemaVersion"] {
                let broken = try await HTTP.push(setup.base, token: setup.tokenA, body: try StoreFixture.inventory(dropping: member))
                #expect(broken.status == 422, "without \(member)")
                #expect(broken.errorCode == "invalid_payload", "without \(member)")
            }
            let badChassis = try await HTTP.push(setup.base, token: setup.tokenA, body: try StoreFixture.inventory(chassis: "spaceship"))
            #expect(badChassis.errorCode == "invalid_payload")
            #expect(try await setup.store.storage.recordCount() == 1)
        }
    }

    @Test("unknown schema is invalid_payload; an oversized body is 413 too_large", arguments: Backend.available)
    func schemaAndSize(backend: Backend) async throws {
        try await Self.run(backend) { setup in
            let unknown = try CertificateSigner.signRaw(payload: Array(#"{"schema":"https://example.org/other","id":"x"}"#.utf8),
                                                        with: StoreFixture.key).serialized()
            let reply = try await HTTP.push(setup.base, token: setup.tokenA, body: unknown)
            #expect(reply.status == 422 && reply.errorCode == "invalid_payload")
            let huge = Data(repeating: UInt8(ascii: " "), count: (1 << 20) + 10)
            let big = try await HTTP.push(setup.base, token: setup.tokenA, body: huge)
            #expect(big.status == 413 && big.errorCode == "too_large")
            #expect(try await setup.store.storage.recordCount() == 0)
        }
    }
}

/// A database that stops answering mid-run: every call throws.
final class UnavailableStorage: RecordStorage {
    struct Down: Error {}
    func migrate() async throws { throw Down() }
    func appliedMigrations() async throws -> [String] { throw Down() }
    func addBench(_ bench: EnrolledBench) async throws { throw Down() }
    func benches() async throws -> [EnrolledBench] { throw Down() }
    func bench(tokenSHA256: String) async throws -> EnrolledBench? { throw Down() }
    func bench(id: String) async throws -> EnrolledBench? { throw Down() }
    func revokeBench(id: String, at date: Date) async throws -> Bool { throw Down() }
    func insert(_ record: StoredRecord) async throws -> InsertOutcome { throw Down() }
    func record(id: String) async throws -> StoredRecord? { throw Down() }
    func recordCount() async throws -> Int { throw Down() }
    func records(lot: String) async throws -> [StoredRecord] { throw Down() }
    func records(donor: String) async throws -> [StoredRecord] { throw Down() }
    func yearCounts(year: Int) async throws -> YearCounts { throw Down() }
    func addAccessGrant(_ grant: AccessGrant) async throws { throw Down() }
    func accessGrant(codeSHA256: String) async throws -> AccessGrant? { throw Down() }
    func close() async {}
}

@Suite("Store API, database down")
struct UnavailableTests {
    @Test("a database that does not answer gives 503 unavailable with Retry-After (the bench retries), pages say so")
    func databaseDown() async throws {
        let store = try await RunningStore.start(storage: UnavailableStorage())
        let push = try await HTTP.push(store.baseURL, token: BenchToken.generate(), body: try StoreFixture.certificate())
        #expect(push.status == 503)
        #expect(push.errorCode == "unavailable")
        #expect(push.headers["retry-after"] == "5")
        let fetch = try await HTTP.get(store.baseURL.appendingPathComponent("api/v1/certificates/\(UUID().uuidString.lowercased())"))
        #expect(fetch.status == 503)
        let page = try await HTTP.get(URL(string: "\(store.baseURL.absoluteString)/c/\(UUID().uuidString.lowercased())?lang=fr")!)
        #expect(page.status == 503)
        #expect(page.text.contains("Registre indisponible"))
        // Liveness does not depend on the database.
        #expect(try await HTTP.get(store.baseURL.appendingPathComponent("api/v1/health")).status == 200)
        await store.stop()
    }
}
