import Foundation
import Testing
@testable import TraceStore

/// The same suite on SQLite and PostgreSQL: one schema, one behaviour.
@Suite("Storage (SQLite and PostgreSQL)")
struct StorageTests {
    static func bench(_ name: String = "Atelier de Rennes", token: String = BenchToken.generate()) -> EnrolledBench {
        EnrolledBench(id: UUID().uuidString.lowercased(), name: name, organisation: "Ordi Grand Ouest", keyID: StoreFixture.key.thumbprint,
                      publicJWK: String(decoding: StoreFixture.key.publicJWK.jsonData(), as: UTF8.self),
                      tokenSHA256: BenchToken.hash(token), enrolledAt: StoreFixture.start, revokedAt: nil)
    }

    static func record(_ id: String, bench: EnrolledBench, body: Data, kind: RecordKind = .certificate, issuedAt: String = "2026-09-21T12:00:00Z",
                       status: String? = "erased", verdict: String? = nil, chassis: String? = nil, lot: String? = "LOT-1") -> StoredRecord {
        StoredRecord(id: id, kind: kind, benchID: bench.id, keyID: bench.keyID, sha256: StoreFixture.sha256(body), body: body,
                     issuedAt: issuedAt, receivedAt: StoreFixture.start, lot: lot, donor: nil, erasureStatus: status,
                     healthVerdict: verdict, chassisType: chassis)
    }

    /// Opens a fresh database, migrates, runs `body`, removes the database.
    static func withStorage(_ backend: Backend, _ body: (any RecordStorage, TestDatabase) async throws -> Void) async throws {
        let database = try await TestDatabase.make(backend)
        let storage = try database.open()
        do {
            try await storage.migrate()
            try await body(storage, database)
        } catch {
            await storage.close()
            await database.remove()
            throw error
        }
        await storage.close()
        await database.remove()
    }

    @Test("migrations apply once, by name, and again is a no-op", arguments: Backend.available)
    func migrations(backend: Backend) async throws {
        try await Self.withStorage(backend) { storage, database in
            #expect(try await storage.appliedMigrations() == StoreSchema.migrations.map(\.name))
            try await storage.migrate()
            // A second instance starting on the same database finds nothing to do.
            let second = try database.open()
            try await second.migrate()
            #expect(try await second.appliedMigrations() == StoreSchema.migrations.map(\.name))
            await second.close()
        }
    }

    @Test("benches: enrol, find by token hash, revoke once", arguments: Backend.available)
    func benches(backend: Backend) async throws {
        try await Self.withStorage(backend) { storage, _ in
            let token = BenchToken.generate()
            let bench = Self.bench(token: token)
            try await storage.addBench(bench)
            #expect(try await storage.bench(tokenSHA256: BenchToken.hash(token)) == bench)
            #expect(try await storage.bench(tokenSHA256: BenchToken.hash(token + "x")) == nil)
            #expect(try await storage.benches() == [bench])
            #expect(try await storage.revokeBench(id: bench.id, at: StoreFixture.start.addingTimeInterval(60)))
            #expect(try await storage.revokeBench(id: bench.id, at: StoreFixture.start.addingTimeInterval(120)) == false)
            let revoked = try #require(try await storage.bench(id: bench.id))
            #expect(revoked.revokedAt == StoreFixture.start.addingTimeInterval(60))
        }
    }

    @Test("insert: stored, then already stored; other bytes conflict; bytes come back identical", arguments: Backend.available)
    func insertIsIdempotent(backend: Backend) async throws {
        try await Self.withStorage(backend) { storage, _ in
            let bench = Self.bench()
            try await storage.addBench(bench)
            let id = UUID().uuidString.lowercased()
            // Bytes that a text column would mangle: NUL, invalid UTF-8, CR LF.
            let body = Data([0x7B, 0x00, 0xFF, 0xFE, 0x0D, 0x0A, 0x7D]) + Data("é".utf8)
            #expect(try await storage.insert(Self.record(id, bench: bench, body: body)) == .stored)
            #expect(try await storage.insert(Self.record(id, bench: bench, body: body)) == .alreadyStored)
            let other = body + Data(" ".utf8)
            #expect(try await storage.insert(Self.record(id, bench: bench, body: other)) == .conflict(existingSHA256: StoreFixture.sha256(body)))
            #expect(try await storage.insert(Self.record(id, bench: bench, body: body, kind: .inventory)) == .conflict(existingSHA256: StoreFixture.sha256(body)))
            #expect(try await storage.recordCount() == 1)
            let stored = try #require(try await storage.record(id: id))
            #expect(stored.body == body)
            #expect(stored.sha256 == StoreFixture.sha256(body))
            #expect(stored.lot == "LOT-1")
        }
    }

    @Test("50 concurrent inserts of one id: exactly one stored", arguments: Backend.available)
    func concurrentInserts(backend: Backend) async throws {
        try await Self.withStorage(backend) { storage, _ in
            let bench = Self.bench()
            try await storage.addBench(bench)
            let id = UUID().uuidString.lowercased()
            let record = Self.record(id, bench: bench, body: Data("{\"same\":true}".utf8))
            let outcomes = try await withThrowingTaskGroup(of: InsertOutcome.self) { group in
                for _ in 0..<50 { group.addTask { try await storage.insert(record) } }
                return try await group.reduce(into: [InsertOutcome]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .stored }.count == 1)
            #expect(outcomes.filter { $0 == .alreadyStored }.count == 49)
            #expect(try await storage.recordCount() == 1)
        }
    }

    @Test("lots and yearly counts", arguments: Backend.available)
    func lotsAndYears(backend: Backend) async throws {
        try await Self.withStorage(backend) { storage, _ in
            let bench = Self.bench()
            try await storage.addBench(bench)
            func add(_ issued: String, kind: RecordKind = .certificate, status: String? = "erased", verdict: String? = nil,
                     chassis: String? = nil, lot: String? = "LOT-1") async throws {
                let id = UUID().uuidString.lowercased()
                _ = try await storage.insert(Self.record(id, bench: bench, body: Data(id.utf8), kind: kind, issuedAt: issued,
                                                         status: status, verdict: verdict, chassis: chassis, lot: lot))
            }
            try await add("2026-01-01T00:00:00Z", verdict: "reuse")
            try await add("2026-06-01T00:00:00Z", verdict: "caution")
            try await add("2026-12-31T23:59:59Z", status: "erased_with_exceptions", verdict: "discard", lot: "LOT-2")
            try await add("2026-03-01T00:00:00Z", status: "not_erased")
            try await add("2025-12-31T23:59:59Z", verdict: "reuse")
            try await add("2026-02-01T00:00:00Z", kind: .inventory, status: nil, chassis: "laptop")
            try await add("2026-02-02T00:00:00Z", kind: .inventory, status: nil, chassis: "desktop")
            try await add("2026-02-03T00:00:00Z", kind: .inventory, status: nil, chassis: "all_in_one")
            try await add("2027-01-01T00:00:00Z", kind: .inventory, status: nil, chassis: "laptop")
            let counts = try await storage.yearCounts(year: 2026)
            #expect(counts.certificates == 4)
            #expect(counts.erased == 2)
            #expect(counts.erasedWithExceptions == 1)
            #expect(counts.notErased == 1)
            #expect(counts.verdictReuse == 1 && counts.verdictCaution == 1 && counts.verdictDiscard == 1 && counts.verdictUnknown == 1)
            #expect(counts.inventories == 3 && counts.laptops == 1 && counts.desktops == 2)
            #expect(try await storage.records(lot: "LOT-1").count == 8)
            #expect(try await storage.records(lot: "LOT-2").count == 1)
        }
    }
}
