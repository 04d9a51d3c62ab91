import Foundation
import Synchronization
import Testing
@testable import Certificates
@testable import TraceStore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `kill -9` of the store in the middle of many benches pushing concurrently, then a restart on
/// the same database: every record is stored exactly once with identical bytes.
///
/// The load is `ARDOISE_STORE_FAULT_BENCHES` benches × `ARDOISE_STORE_FAULT_RECORDS` records
/// (defaults 20 × 500, the figure); the store is killed twice, after about 30 % and
/// 65 % of the records were acknowledged.
@Suite("Store faults", .serialized)
struct FaultTests {
    static var benches: Int { Int(ProcessInfo.processInfo.environment["ARDOISE_STORE_FAULT_BENCHES"] ?? "") ?? 20 }
    static var recordsPerBench: Int { Int(ProcessInfo.processInfo.environment["ARDOISE_STORE_FAULT_RECORDS"] ?? "") ?? 500 }

    /// The benches' outboxes, signed once for every backend's run.
    static let outboxes: Result<[[(id: String, body: Data)]], any Error> = Result {
        try (0..<benches).map { bench in
            let key = StoreFixture.key(seed: UInt8(10 + bench))
            return try (0..<recordsPerBench).map { index in
                let id = UUID()
                return (id.uuidString.lowercased(), try StoreFixture.certificate(id: id, serial: "S-\(bench)-\(index)", key: key))
            }
        }
    }

    /// Where the benches send: changes when the store restarts on a new port.
    final class Target: Sendable {
        private let url: Mutex<URL?> = Mutex(nil)
        func set(_ value: URL?) { url.withLock { $0 = value } }
        var current: URL? { url.withLock { $0 } }
    }

    final class Counter: Sendable {
        private let value = Atomic<Int>(0)
        func increment() { value.add(1, ordering: .relaxed) }
        var count: Int { value.load(ordering: .relaxed) }
    }

    @Test("kill -9 under load, restart: every record exactly once, bytes identical", arguments: Backend.available)
    func killUnderLoad(backend: Backend) async throws {
        try #require(StoreExecutable.path != nil, "ardoise-store is not built")
        let database = try await TestDatabase.make(backend)
        defer { Task { await database.remove() } }
        let benchCount = Self.benches, perBench = Self.recordsPerBench
        let total = benchCount * perBench

        // Enrol every bench through the CLI, as an administrator would.
        let directory = try StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var tokens: [String] = []
        let enrolStart = Date()
        for index in 0..<benchCount {
            let key = StoreFixture.key(seed: UInt8(10 + index))
            let jwkPath = directory + "/bench-\(index).jwk"
            try key.publicJWK.jsonData().write(to: URL(fileURLWithPath: jwkPath))
            let tokenPath = directory + "/bench-\(index).token"
            let result = try StoreExecutable.run(["benches", "add", "--db", database.location, "--name", "Atelier \(index)",
                                                  "--organisation", "Réseau test", "--jwk", jwkPath, "--token-file", tokenPath])
            try #require(result.status == 0, "benches add: \(result.error)")
            tokens.append(try String(contentsOfFile: tokenPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
        }

        // Each bench's outbox: signed certificates, ids unique, bytes known in advance (made
        // once and pushed to each database: signing 10,000 certificates in a debug build is
        // most of this test's time).
        let enrolSeconds = Date().timeIntervalSince(enrolStart)
        let signStart = Date()
        let outboxes = try Self.outboxes.get()
        let signSeconds = Date().timeIntervalSince(signStart)
        precondition(outboxes.count == benchCount)

        let target = Target()
        var server = try await ServerProcess.start(database: database.location)
        defer { server.stop() }
        target.set(server.baseURL)
        let acknowledged = Counter()
        let started = Date()

        // The benches: each sends its outbox in order, retrying a record until the store
        // answers 201 or 200 (connection refused or reset, 5xx: retry, as the bench's sender does).
        let pushing = Task {
            try await withThrowingTaskGroup(of: [Int].self) { group in
                for bench in 0..<benchCount {
                    let token = tokens[bench], outbox = outboxes[bench]
                    group.addTask {
                        var statuses: [Int] = []
                        for record in outbox {
                            var attempt = 0
                            while true {
                                attempt += 1
                                if attempt > 2_000 { throw ServerFailure(message: "record \(record.id) never accepted") }
                                guard let base = target.current else {
                                    try await Task.sleep(for: .milliseconds(50))
                                    continue
                                }
                                if let reply = try? await HTTP.push(base, token: token, body: record.body) {
                                    if reply.status == 201 || reply.status == 200 {
                                        statuses.append(reply.status)
                                        acknowledged.increment()
                                        break
                                    }
                                    // 429 (rate_limited) is transient too, as for the bench's sender.
                                    if reply.status < 500, reply.status != 429 {
                                        throw ServerFailure(message: "record \(record.id) refused: \(reply.status) \(reply.text)")
                                    }
                                }
                                try await Task.sleep(for: .milliseconds(Int.random(in: 20...120)))
                            }
                        }
                        return statuses
                    }
                }
                var all: [Int] = []
                for try await statuses in group { all += statuses }
                return all
            }
        }

        // The faults: kill -9 at ~30 % and ~65 %, restart on the same database after a pause.
        var kills = 0
        for threshold in [0.30, 0.65] {
            while Double(acknowledged.count) < threshold * Double(total) {
                try await Task.sleep(for: .milliseconds(20))
            }
            target.set(nil)
            server.kill9()
            kills += 1
            try await Task.sleep(for: .milliseconds(300))
            server = try await ServerProcess.start(database: database.location)
            target.set(server.baseURL)
        }
        let statuses = try await pushing.value
        let elapsed = Date().timeIntervalSince(started)
        print("fault test (\(backend.rawValue)): \(benchCount) benches × \(perBench) records, \(kills) kill -9, "
              + "\(statuses.filter { $0 == 201 }.count) answered 201 and \(statuses.filter { $0 == 200 }.count) answered 200, "
              + String(format: "pushing %.1f s (enrolment %.1f s, signing %.1f s)", elapsed, enrolSeconds, signSeconds))
        #expect(statuses.count == total)
        server.stop()

        // Check the database itself, through a fresh connection.
        let checkStart = Date()
        defer { print(String(format: "fault test (\(backend.rawValue)): byte check of every record %.1f s", Date().timeIntervalSince(checkStart))) }
        let storage = try database.open()
        #expect(try await storage.recordCount() == total)
        // Every fixture certificate is in lot LOT-2026-042: one query brings every stored row.
        let stored = Dictionary(try await storage.records(lot: "LOT-2026-042").map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(stored.count == total)
        var mismatches = 0
        for outbox in outboxes {
            for record in outbox {
                guard let row = stored[record.id] else { mismatches += 1; continue }
                if row.body != record.body || row.sha256 != StoreFixture.sha256(record.body) || StoreFixture.sha256(row.body) != row.sha256 {
                    mismatches += 1
                }
            }
        }
        #expect(mismatches == 0)
        await storage.close()
        await database.remove()
    }
}
