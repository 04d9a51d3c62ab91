import Foundation
import Journal
import StoreClient
import Synchronization
import Testing
@testable import Certificates
@testable import TraceStore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A clock the test moves by hand (seconds).
final class ManualClock: Sendable {
    private let seconds = Mutex<Double>(1_000)
    func advance(_ delta: Double) { seconds.withLock { $0 += delta } }
    var now: @Sendable () -> Double { { [self] in seconds.withLock { $0 } } }
}

/// `429 rate_limited` with Retry-After: per bench token, per client address for unauthenticated
/// requests and the pages; nothing stored for a refused push; the bench's sender delivers
/// everything once the window has passed.
@Suite("Store rate limits")
struct RateLimitTests {
    @Test("token buckets: burst, refill, Retry-After in whole seconds, full buckets forgotten")
    func buckets() {
        let clock = ManualClock()
        let buckets = TokenBuckets(perMinute: 60, burst: 3, now: clock.now)
        #expect(buckets.take("a") == nil && buckets.take("a") == nil && buckets.take("a") == nil)
        #expect(buckets.take("a") == 1)
        #expect(buckets.exhausted("a") == 1)
        #expect(buckets.take("b") == nil, "another key has its own bucket")
        clock.advance(0.5)
        #expect(buckets.take("a") == 1, "half a token is not a request")
        clock.advance(0.5)
        #expect(buckets.exhausted("a") == nil)
        #expect(buckets.take("a") == nil)
        clock.advance(3_600)
        #expect((0..<3).allSatisfy { _ in buckets.take("a") == nil }, "refills up to the burst, not beyond")
        #expect(buckets.take("a") != nil)

        let slow = TokenBuckets(perMinute: 2, burst: 1, now: clock.now)
        #expect(slow.take("x") == nil)
        #expect(slow.take("x") == 30)
        let off = TokenBuckets(perMinute: 0, burst: 1, now: clock.now)
        #expect((0..<1_000).allSatisfy { _ in off.take("x") == nil }, "0 per minute: no limit")

        // Many clients, each once: the table does not keep full buckets for ever.
        let many = TokenBuckets(perMinute: 60, burst: 2, now: clock.now)
        for index in 0..<(TokenBuckets.sweepThreshold + 10) { _ = many.take("client-\(index)") }
        clock.advance(5)
        _ = many.take("last")
        #expect(many.count < 100, "\(many.count) buckets kept")
    }

    @Test("client address: the peer, or X-Forwarded-For's last untrusted hop behind a trusted proxy")
    func clientAddress() {
        let limiter = RateLimiter(RateLimits())
        #expect(limiter.clientAddress(peer: "192.0.2.7", forwardedFor: nil) == "192.0.2.7")
        // Not a trusted proxy: its header is ignored (anyone can write one).
        #expect(limiter.clientAddress(peer: "192.0.2.7", forwardedFor: "198.51.100.1") == "192.0.2.7")
        #expect(limiter.clientAddress(peer: "127.0.0.1", forwardedFor: "198.51.100.1") == "198.51.100.1")
        #expect(limiter.clientAddress(peer: "::ffff:127.0.0.1", forwardedFor: "203.0.113.9, 198.51.100.1") == "198.51.100.1")
        #expect(limiter.clientAddress(peer: "::1", forwardedFor: nil) == "::1")
        #expect(RateLimiter.isIPAddress("::1") && RateLimiter.isIPAddress("10.0.0.1") && !RateLimiter.isIPAddress("proxy.example"))
    }

    @Test("[limits] in store.toml: values, and errors with file, line and field", arguments: [
        ("[limits]\nbench-requests-per-minute = -1\n", 2, "limits.bench-requests-per-minute"),
        ("[limits]\n\nbench-burst = 0\n", 3, "limits.bench-burst"),
        ("[limits]\naddress-burst = \"many\"\n", 2, "limits.address-burst"),
        ("[limits]\ntrusted-proxies = \"127.0.0.1\"\n", 2, "limits.trusted-proxies"),
        ("[limits]\ntrusted-proxies = [\"127.0.0.1\", \"proxy.lan\"]\n", 2, "limits.trusted-proxies"),
        ("[limits]\nper-minute = 3\n", 2, "limits.per-minute"),
    ])
    func configErrors(text: String, line: Int, field: String) {
        do {
            _ = try StoreConfig.parse(text: text, path: "/etc/ardoise-store/store.toml")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.field == field, "\(error)")
        }
    }

    @Test("[limits] values are read; the defaults never throttle a bench's few records a minute")
    func configValues() throws {
        let config = try StoreConfig.parse(text: """
            [limits]
            bench-requests-per-minute = 120
            bench-burst = 30
            address-requests-per-minute = 0
            address-burst = 5
            trusted-proxies = ["10.0.0.5", "::1"]
            """, path: "store.toml")
        #expect(config.limits.benchRequestsPerMinute == 120 && config.limits.benchBurst == 30)
        #expect(config.limits.addressRequestsPerMinute == 0 && config.limits.addressBurst == 5)
        #expect(config.limits.trustedProxies == ["10.0.0.5", "::1"])
        let defaults = RateLimits()
        #expect(defaults.benchRequestsPerMinute >= 60 && defaults.benchBurst >= 100)
    }

    static func limits(benchPerMinute: Int = 600, benchBurst: Int = 600, addressPerMinute: Int = 60, addressBurst: Int = 120) -> RateLimits {
        var limits = RateLimits()
        limits.benchRequestsPerMinute = benchPerMinute
        limits.benchBurst = benchBurst
        limits.addressRequestsPerMinute = addressPerMinute
        limits.addressBurst = addressBurst
        return limits
    }

    @Test("a bench over its limit: 429 rate_limited with Retry-After, nothing stored, then accepted once the window passed",
          arguments: Backend.available)
    func benchLimit(backend: Backend) async throws {
        let database = try await TestDatabase.make(backend)
        let storage = try database.open()
        try await storage.migrate()
        let service = TraceStoreService(storage: storage)
        let (_, token) = try await service.enrol(name: "Atelier de Rennes", organisation: "Ordi Grand Ouest", publicJWK: StoreFixture.key.publicJWK)
        let (_, otherToken) = try await service.enrol(name: "Atelier de Brest", organisation: "Ordi Grand Ouest",
                                                      publicJWK: StoreFixture.key(seed: 7).publicJWK)
        let clock = ManualClock()
        let store = try await RunningStore.start(storage: storage, limiter: RateLimiter(Self.limits(benchPerMinute: 2, benchBurst: 3), now: clock.now))

        let ids = (0..<5).map { _ in UUID() }
        var statuses: [Int] = []
        var replies: [HTTP.Reply] = []
        for id in ids {
            let reply = try await HTTP.push(store.baseURL, token: token, body: try StoreFixture.certificate(id: id))
            statuses.append(reply.status)
            replies.append(reply)
        }
        #expect(statuses == [201, 201, 201, 429, 429])
        #expect(replies[3].errorCode == "rate_limited")
        #expect(replies[3].headers["retry-after"] == "30", "2 a minute: one token every 30 s")
        #expect(replies[3].headers["content-type"] == "application/json")
        // Nothing of the refused pushes was stored.
        #expect(try await storage.recordCount() == 3)
        #expect(try await storage.record(id: ids[3].uuidString.lowercased()) == nil)
        // Another bench has its own allowance.
        #expect(try await HTTP.push(store.baseURL, token: otherToken, body: try StoreFixture.certificate(key: StoreFixture.key(seed: 7))).status == 201)

        clock.advance(29)
        #expect(try await HTTP.push(store.baseURL, token: token, body: try StoreFixture.certificate(id: ids[3])).status == 429)
        clock.advance(2)
        #expect(try await HTTP.push(store.baseURL, token: token, body: try StoreFixture.certificate(id: ids[3])).status == 201)
        #expect(try await storage.recordCount() == 5)
        await store.stop()
        await storage.close()
        await database.remove()
    }

    @Test("per address: pages and API reads share a coarse allowance, failed pushes another; health is never limited")
    func addressLimit() async throws {
        let database = try await TestDatabase.make(.sqlite)
        let storage = try database.open()
        try await storage.migrate()
        let (_, token) = try await TraceStoreService(storage: storage).enrol(
            name: "Atelier de Rennes", organisation: "Ordi Grand Ouest", publicJWK: StoreFixture.key.publicJWK)
        let clock = ManualClock()
        let store = try await RunningStore.start(storage: storage, limiter: RateLimiter(Self.limits(addressPerMinute: 6, addressBurst: 2), now: clock.now))
        let base = store.baseURL.absoluteString
        let unknown = UUID().uuidString.lowercased()

        #expect(try await HTTP.get(URL(string: "\(base)/c/\(unknown)")!).status == 404)
        #expect(try await HTTP.get(URL(string: "\(base)/api/v1/certificates/\(unknown)")!).status == 404)
        let page = try await HTTP.get(URL(string: "\(base)/c/\(unknown)?lang=fr")!)
        #expect(page.status == 429)
        #expect(page.headers["retry-after"] == "10")
        #expect(page.text.contains("Trop de demandes"))
        let read = try await HTTP.get(URL(string: "\(base)/api/v1/certificates/\(unknown)")!)
        #expect(read.status == 429 && read.errorCode == "rate_limited")
        #expect(try await HTTP.get(URL(string: "\(base)/figures/2026")!).status == 429)
        for _ in 0..<5 { #expect(try await HTTP.get(URL(string: "\(base)/api/v1/health")!).status == 200) }

        // Behind the (trusted, loopback) reverse proxy, each donor has an allowance of their own.
        var forwarded = URLRequest(url: URL(string: "\(base)/c/\(unknown)")!)
        forwarded.setValue("198.51.100.23", forHTTPHeaderField: "X-Forwarded-For")
        #expect(try await HTTP.send(forwarded).status == 404)

        // Pages do not use up the bench's pushes.
        #expect(try await HTTP.push(store.baseURL, token: token, body: try StoreFixture.certificate()).status == 201)
        // Failed pushes from one address: 401 twice, then 429, and a valid token from the same
        // address waits too (no database work for that address until the window passes).
        #expect(try await HTTP.push(store.baseURL, token: BenchToken.generate(), body: try StoreFixture.certificate()).status == 401)
        #expect(try await HTTP.push(store.baseURL, token: nil, body: try StoreFixture.certificate()).status == 401)
        let third = try await HTTP.push(store.baseURL, token: BenchToken.generate(), body: try StoreFixture.certificate())
        #expect(third.status == 429 && third.errorCode == "rate_limited")
        let blocked = try await HTTP.push(store.baseURL, token: token, body: try StoreFixture.certificate())
        #expect(blocked.status == 429)
        #expect(try await storage.recordCount() == 1)
        clock.advance(11)
        #expect(try await HTTP.push(store.baseURL, token: token, body: try StoreFixture.certificate()).status == 201)
        #expect(try await HTTP.get(URL(string: "\(base)/c/\(unknown)")!).status == 404)
        await store.stop()
        await storage.close()
        await database.remove()
    }

    /// The real `ardoise-store serve` with a small per-bench limit from its configuration file,
    /// and the bench's real sender (StoreClient's OutboxSender over async-http-client): the
    /// burst goes in, the rest is answered 429 and waits (Retry-After), then everything arrives,
    /// each record once, byte for byte.
    @Test("the bench's sender against a rate-limited real store: 429, waits, then delivers everything")
    func senderAgainstRealStore() async throws {
        let directory = try StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = directory + "/store.sqlite"
        let key = StoreFixture.key(seed: 42)
        try key.publicJWK.jsonData().write(to: URL(fileURLWithPath: directory + "/bench.jwk"))
        let tokenFile = directory + "/token"
        let enrol = try StoreExecutable.run(["benches", "add", "--db", database, "--name", "Atelier limité", "--organisation", "Réseau",
                                             "--jwk", directory + "/bench.jwk", "--token-file", tokenFile])
        try #require(enrol.status == 0, "\(enrol.error)")
        // One push a minute after a burst of 2: a loaded CI machine cannot refill the bucket
        // while the first pushes go out (at 30/min, then 6/min, it did during the full suite).
        try Data("[limits]\nbench-requests-per-minute = 1\nbench-burst = 2\n".utf8).write(to: URL(fileURLWithPath: directory + "/store.toml"))
        let server = try await ServerProcess.start(database: database, extra: ["--config", directory + "/store.toml"])
        defer { server.stop() }

        let journal = try JournalDatabase(dataDirectory: directory + "/bench")
        var bodies: [String: Data] = [:]
        for _ in 0..<3 {
            let id = UUID()
            let body = try StoreFixture.certificate(id: id, key: key)
            bodies[id.uuidString.lowercased()] = body
            try journal.enqueueOutbox(kind: .certificate, recordID: id, certificateID: nil, payload: String(decoding: body, as: UTF8.self))
        }
        let sender = OutboxSender(journal: journal, transport: try HTTPStoreTransport(settings: StoreSettings(url: server.baseURL.absoluteString, tokenFile: tokenFile)),
                                  tokenFile: tokenFile, retryPolicy: RetryPolicy(initialDelaySeconds: 0.1, maximumDelaySeconds: 0.2))
        let first = await sender.sendPending(ignoringSchedule: false)
        #expect(first.sent.count == 2, "\(first.sent.count) sent before the limit")
        #expect(first.stoppedBy?.httpStatus == 429)
        #expect(first.stoppedBy?.code == "rate_limited")
        #expect(first.parked.isEmpty, "429 is transient: never parked")
        let waiting = try #require(try journal.outbox().first { $0.state == .pending })
        let retryAt = try #require(waiting.nextAttemptAt).timeIntervalSince(try #require(waiting.lastAttemptAt))
        #expect(retryAt >= 0.9, "the sender waits the store's Retry-After (\(retryAt) s), not its 0.1 s backoff")
        // The refused record is not on the store.
        let missing = try await HTTP.get(server.baseURL.appendingPathComponent("api/v1/certificates/\(waiting.recordID.uuidString.lowercased())"))
        #expect(missing.status == 404)

        // The background loop's rounds, each reported as it ends (`onRound`): the test waits for
        // the round that empties the outbox (at 1 push/min, up to two minutes away).
        let (rounds, continuation) = AsyncStream.makeStream(of: PushReport.self)
        let loop = Task {
            await sender.run(idlePoll: .seconds(1)) { continuation.yield($0) }
            continuation.finish()
        }
        defer { loop.cancel() }
        let emptied = try await withThrowingTaskGroup(of: PushReport?.self) { group in
            group.addTask {
                for await report in rounds where report.pending == 0 && report.stoppedBy == nil { return report }
                return nil
            }
            // Only so that a broken sender fails the test instead of hanging it.
            group.addTask {
                try await Task.sleep(for: .seconds(150))
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        #expect(emptied != nil, "no round emptied the outbox within 150 s")
        loop.cancel()
        await loop.value
        await sender.shutdown()
        #expect(try journal.outboxSummary().sent == 3)
        #expect(try journal.parkedOutbox().isEmpty)
        for (id, body) in bodies {
            let stored = try await HTTP.get(server.baseURL.appendingPathComponent("api/v1/certificates/\(id)"))
            #expect(stored.status == 200)
            #expect(stored.body == body, "stored bytes of \(id)")
        }
    }
}
