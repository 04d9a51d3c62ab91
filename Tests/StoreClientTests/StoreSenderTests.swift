import Foundation
import Journal
import StoreClient
import StoreTestSupport
import Testing

/// A journal, a token file, and a real HTTP server on 127.0.0.1 playing the store contract.
final class StoreFixture: @unchecked Sendable {  // owned by one test
    static let token = "bench-token-0123456789abcdef"
    let directory: String
    let journal: JournalDatabase
    let tokenFile: String
    let store: ContractStore
    let server: FakeStoreServer

    init(start: Bool = true) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-store-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        journal = try JournalDatabase(dataDirectory: directory + "/data")
        tokenFile = directory + "/store.token"
        try Self.writeToken(Self.token, to: tokenFile)
        store = ContractStore(tokens: [Self.token])
        server = FakeStoreServer(handler: store.handler)
        try await server.start(port: 0)
        if !start { await server.stop() }
    }

    static func writeToken(_ token: String, to path: String, mode: Int = 0o600) throws {
        FileManager.default.createFile(atPath: path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: mode])
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    var settings: StoreSettings { StoreSettings(url: server.url, tokenFile: tokenFile) }

    /// A sender with a short backoff (0.1 s doubling to 0.4 s) and no jitter (`unit` 1: the ceiling).
    func sender(initial: Double = 0.1, maximum: Double = 0.4) throws -> OutboxSender {
        OutboxSender(journal: journal, transport: try HTTPStoreTransport(settings: settings), tokenFile: tokenFile,
                     retryPolicy: RetryPolicy(initialDelaySeconds: initial, maximumDelaySeconds: maximum), language: .english,
                     uniform: { 1 })
    }

    /// A JWS-shaped record (JSON serialization) whose payload has an id and a schema, as the
    /// store reads them. Signatures are the real store's business, not the sender's.
    static func record(id: UUID, kind: OutboxRecord.Kind, note: String = "") -> String {
        let payload = #"{"id":"\#(id.uuidString.lowercased())","note":"\#(note)","schema":"https://ardoise.example/\#(kind.rawValue)/v1","schemaVersion":1}"#
        let encoded = Data(payload.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return #"{"payload":"\#(encoded)","signatures":[{"protected":"eyJhbGciOiJFZDI1NTE5In0","signature":"c2lnbmF0dXJl"}]}"#
    }

    /// Queues `count` records, alternating certificates and inventories; their ids in order.
    @discardableResult
    func enqueue(_ count: Int) throws -> [UUID] {
        try (0..<count).map { index in
            let id = UUID()
            let kind: OutboxRecord.Kind = index % 2 == 0 ? .certificate : .inventory
            try journal.enqueueOutbox(kind: kind, recordID: id, payload: Self.record(id: id, kind: kind, note: "n\(index)"))
            return id
        }
    }

    func row(_ id: UUID) throws -> OutboxRecord? { try journal.outbox().first { $0.recordID == id } }

    func cleanup() async {
        await server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs the sender's background loop; each round's report comes out of the stream as the
    /// round ends (the loop's own `onRound` event), so a test waits on rounds, not on a clock.
    static func runLoop(_ sender: OutboxSender, idlePoll: Duration = .seconds(1)) -> (rounds: AsyncStream<PushReport>, loop: Task<Void, Never>) {
        let (rounds, continuation) = AsyncStream.makeStream(of: PushReport.self)
        let loop = Task {
            await sender.run(idlePoll: idlePoll) { continuation.yield($0) }
            continuation.finish()
        }
        return (rounds, loop)
    }
}

struct RoundTimeout: Error, CustomStringConvertible {
    let what: String
    var description: String { "no round: \(what)" }
}

extension AsyncStream where Element == PushReport {
    /// The first round's report (from now on) for which `matches` holds. The deadline is only
    /// there so that a broken sender fails the test instead of hanging it.
    @discardableResult
    func first(_ what: String, timeout: Duration = .seconds(30),
               where matches: @escaping @Sendable (PushReport) throws -> Bool) async throws -> PushReport {
        try await withThrowingTaskGroup(of: PushReport?.self) { group in
            group.addTask {
                for await report in self {
                    if try matches(report) { return report }
                }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw RoundTimeout(what: what)
            }
            defer { group.cancelAll() }
            guard let found = try await group.next(), let report = found else { throw RoundTimeout(what: what + " (loop ended)") }
            return report
        }
    }
}

@Suite(.serialized) struct StoreSenderTests {
    @Test func everyRecordIsStoredOnceInOrderWithItsExactBytes() async throws {
        let fixture = try await StoreFixture()
        let sender = try fixture.sender()
        let ids = try fixture.enqueue(5)
        let report = await sender.sendPending(ignoringSchedule: false)
        await sender.shutdown()
        defer { Task { await fixture.cleanup() } }

        #expect(report.sent.map(\.recordID) == ids.map { $0.uuidString.lowercased() })
        #expect(report.sent.map(\.status) == Array(repeating: "stored", count: 5))
        #expect(report.sent.map(\.kind) == ["certificate", "inventory", "certificate", "inventory", "certificate"])
        #expect(report.pending == 0 && report.parked.isEmpty && report.stoppedBy == nil)
        #expect(fixture.store.storedOrder == ids.map { $0.uuidString.lowercased() })
        for row in try fixture.journal.outbox() {
            #expect(fixture.store.stored[row.recordID.uuidString.lowercased()]?.bytes == Array(row.payload.utf8))
            #expect(row.state == .sent && row.storeStatus == "stored" && row.attempts == 1)
        }
        let request = try #require(fixture.server.requests.first)
        #expect(request.method == "POST" && request.path == "/api/v1/records")
        #expect(request.headers["authorization"] == "Bearer \(StoreFixture.token)")
        #expect(request.headers["content-type"] == "application/jose+json")
        #expect(fixture.store.stored[ids[1].uuidString.lowercased()]?.kind == "inventory")

        // Nothing left: a second round sends nothing.
        let again = await sender.sendPending(ignoringSchedule: true)
        #expect(again.sent.isEmpty && again.pending == 0)
        #expect(fixture.server.requests.count == 5)
    }

    @Test func aRecordTheStoreAlreadyHasCountsAsSent() async throws {
        let fixture = try await StoreFixture()
        defer { Task { await fixture.cleanup() } }
        let ids = try fixture.enqueue(2)
        // The store got the first record earlier (a push whose answer was lost).
        let first = try #require(try fixture.row(ids[0]))
        _ = fixture.store.answer(.init(method: "POST", path: "/api/v1/records",
                                       headers: ["authorization": "Bearer \(StoreFixture.token)", "content-type": "application/jose+json"],
                                       body: Array(first.payload.utf8), receivedAt: Date()))
        let sender = try fixture.sender()
        let report = await sender.sendPending(ignoringSchedule: false)
        await sender.shutdown()
        #expect(report.alreadyStored.map(\.recordID) == [ids[0].uuidString.lowercased()])
        #expect(report.alreadyStored.first?.status == "already_stored")
        #expect(report.sent.map(\.recordID) == [ids[1].uuidString.lowercased()])
        #expect(try fixture.row(ids[0])?.storeStatus == "already_stored")
        #expect(try fixture.journal.outboxSummary().sent == 2)
    }

    @Test func refusalsAreParkedWithTheStoreReasonAndTheQueueGoesOn() async throws {
        let fixture = try await StoreFixture()
        defer { Task { await fixture.cleanup() } }
        let ids = try fixture.enqueue(4)
        fixture.store.refuse(recordID: ids[1].uuidString, with: .error(422, "invalid_signature", "the signature does not verify"))
        // The store holds other bytes under the third id: 409.
        let other = StoreFixture.record(id: ids[2], kind: .certificate, note: "other bytes")
        _ = fixture.store.answer(.init(method: "POST", path: "/api/v1/records",
                                       headers: ["authorization": "Bearer \(StoreFixture.token)", "content-type": "application/jose+json"],
                                       body: Array(other.utf8), receivedAt: Date()))
        let sender = try fixture.sender()
        let report = await sender.sendPending(ignoringSchedule: false)

        #expect(report.sent.map(\.recordID) == [ids[0], ids[3]].map { $0.uuidString.lowercased() })
        #expect(report.refused.map(\.recordID) == [ids[1], ids[2]].map { $0.uuidString.lowercased() })
        #expect(report.refused.map(\.code) == ["invalid_signature", "conflicting_record"])
        #expect(report.refused.map(\.httpStatus) == [422, 409])
        #expect(report.refused.first?.message == "the signature does not verify")
        #expect(report.parked.count == 2 && report.pending == 0)
        let parked = try fixture.journal.parkedOutbox()
        #expect(parked.map(\.parkedCode) == ["invalid_signature", "conflicting_record"])
        #expect(parked.allSatisfy { !$0.payload.isEmpty })

        // Parked rows are not retried by later rounds…
        let requests = fixture.server.requests.count
        let later = await sender.sendPending(ignoringSchedule: true)
        #expect(later.sent.isEmpty && later.refused.isEmpty && later.parked.count == 2)
        #expect(fixture.server.requests.count == requests)
        // …until a technician re-queues them; the store still refuses, so they park again.
        #expect(try fixture.journal.requeueParkedOutbox(recordIDs: [ids[1]]) == 1)
        let retried = await sender.sendPending(ignoringSchedule: true)
        await sender.shutdown()
        #expect(retried.refused.map(\.recordID) == [ids[1].uuidString.lowercased()])
        #expect(fixture.server.requests.count == requests + 1)
        #expect(try fixture.journal.verifyChain().isIntact)
    }

    @Test(arguments: [
        (401, "unauthorized"), (429, "rate_limited"), (503, "unavailable"), (500, "internal"),
    ])
    func transientAnswersAreRetriedLaterAndNothingOvertakes(status: Int, code: String) async throws {
        let fixture = try await StoreFixture()
        defer { Task { await fixture.cleanup() } }
        let ids = try fixture.enqueue(3)
        fixture.store.script([.error(status, code, "try later")])
        let sender = try fixture.sender(initial: 0.3, maximum: 1)
        let first = await sender.sendPending(ignoringSchedule: false)
        #expect(first.sent.isEmpty && first.refused.isEmpty)
        #expect(first.stoppedBy?.httpStatus == status)
        #expect(first.stoppedBy?.code == code)
        #expect(first.pending == 3)
        #expect(fixture.server.requests.count == 1)
        let head = try #require(try fixture.row(ids[0]))
        #expect(head.state == .pending && head.attempts == 1 && head.lastErrorCode == code)
        let wait = try #require(head.nextAttemptAt).timeIntervalSince(try #require(head.lastAttemptAt))
        #expect(abs(wait - 0.3) < 0.05, "first backoff \(wait)")

        // Before the backoff: nothing is sent, not even the records behind the head. The round
        // runs at the moment of the failed attempt (the sender's clock): a loaded machine may
        // take longer than the 0.3 s backoff to get here.
        let due = try #require(head.nextAttemptAt)
        let failedAt = try #require(head.lastAttemptAt)
        let early = await sender.sendPending(ignoringSchedule: false, now: { failedAt })
        #expect(early.deferredUntil != nil && early.sent.isEmpty)
        #expect(fixture.server.requests.count == 1)

        // The round runs at the moment the backoff ends (the sender's clock, not a sleep).
        let after = await sender.sendPending(ignoringSchedule: false, now: { max(Date(), due) })
        await sender.shutdown()
        #expect(after.sent.map(\.recordID) == ids.map { $0.uuidString.lowercased() })
        #expect(fixture.store.storedOrder == ids.map { $0.uuidString.lowercased() })
        #expect(try fixture.row(ids[0])?.attempts == 2)
    }

    /// At least once: the store took the record but its answer was lost, so the bench sends it
    /// again and the store says it already has it; the store holds it once.
    @Test func aLostAnswerMeansTheRecordIsSentAgainAndStoredOnce() async throws {
        let fixture = try await StoreFixture()
        defer { Task { await fixture.cleanup() } }
        let ids = try fixture.enqueue(2)
        fixture.store.loseAnswers(1)
        let sender = try fixture.sender()
        let first = await sender.sendPending(ignoringSchedule: true)
        #expect(first.sent.isEmpty && first.pending == 2)
        #expect(first.stoppedBy?.httpStatus == nil, "no answer: \(String(describing: first.stoppedBy))")
        #expect(fixture.store.storedOrder == [ids[0].uuidString.lowercased()], "the store did keep it")

        let second = await sender.sendPending(ignoringSchedule: true)
        await sender.shutdown()
        #expect(second.alreadyStored.map(\.recordID) == [ids[0].uuidString.lowercased()])
        #expect(second.sent.map(\.recordID) == [ids[1].uuidString.lowercased()])
        #expect(fixture.store.storedOrder == ids.map { $0.uuidString.lowercased() })
        #expect(try fixture.row(ids[0])?.attempts == 2)
    }

    @Test func aRevokedTokenIsRetriedNotParked() async throws {
        let fixture = try await StoreFixture()
        defer { Task { await fixture.cleanup() } }
        let ids = try fixture.enqueue(1)
        fixture.store.revoke(token: StoreFixture.token)
        let sender = try fixture.sender()
        let report = await sender.sendPending(ignoringSchedule: true)
        await sender.shutdown()
        #expect(report.stoppedBy?.code == "unauthorized" && report.stoppedBy?.httpStatus == 401)
        #expect(report.pending == 1 && report.parked.isEmpty)
        #expect(try fixture.row(ids[0])?.state == .pending)
    }

    @Test func backoffDoublesUpToItsCapWhileTheStoreIsDown() async throws {
        let fixture = try await StoreFixture(start: false)
        defer { Task { await fixture.cleanup() } }
        let ids = try fixture.enqueue(2)
        let sender = try fixture.sender(initial: 0.1, maximum: 0.4)
        var waits: [Double] = []
        for _ in 0..<5 {
            let report = await sender.sendPending(ignoringSchedule: true)
            #expect(report.stoppedBy?.code == DeliveryOutcome.LocalCode.unreachable)
            #expect(report.stoppedBy?.httpStatus == nil)
            let head = try #require(try fixture.row(ids[0]))
            waits.append(try #require(head.nextAttemptAt).timeIntervalSince(try #require(head.lastAttemptAt)))
        }
        await sender.shutdown()
        for (wait, expected) in zip(waits, [0.1, 0.2, 0.4, 0.4, 0.4]) {
            #expect(abs(wait - expected) < 0.02, "\(waits)")
        }
        #expect(try fixture.row(ids[0])?.attempts == 5)
        #expect(try fixture.row(ids[1])?.attempts == 0)
        #expect(try fixture.journal.outboxSummary().pending == 2)
    }

    /// The store is down while the bench works: everything is kept, and once it is back the
    /// background loop delivers all records, in order, each once.
    @Test func storeDownThenBackNothingIsLostAndAllArriveInOrder() async throws {
        let fixture = try await StoreFixture(start: false)
        defer { Task { await fixture.cleanup() } }
        var ids = try fixture.enqueue(3)
        let sender = try fixture.sender(initial: 0.1, maximum: 0.4)
        let (rounds, loop) = StoreFixture.runLoop(sender)
        defer { loop.cancel() }

        let head = ids[0]
        try await rounds.first("two failed tries") { _ in (try fixture.row(head)?.attempts ?? 0) >= 2 }
        ids += try fixture.enqueue(2)
        sender.wake()
        // The round after the new records were queued: they wait behind the head.
        let waiting = try await rounds.first("a round that saw the 5 records") { $0.pending == 5 }
        // Either the head's backoff had not ended (the round deferred) or its try failed again.
        #expect(waiting.deferredUntil != nil || waiting.stoppedBy?.code == DeliveryOutcome.LocalCode.unreachable, "\(waiting)")
        let summary = try fixture.journal.outboxSummary()
        #expect(summary.pending == 5 && summary.sent == 0)
        #expect(summary.lastErrorCode == DeliveryOutcome.LocalCode.unreachable)
        #expect(fixture.server.requests.isEmpty)

        try await fixture.server.start()
        let last = try await rounds.first("a round that emptied the outbox", timeout: .seconds(20)) {
            $0.pending == 0 && $0.stoppedBy == nil
        }
        loop.cancel()
        await loop.value
        await sender.shutdown()
        #expect(last.parked.isEmpty)
        #expect(try fixture.journal.outboxSummary().sent == 5)
        #expect(fixture.store.storedOrder == ids.map { $0.uuidString.lowercased() })
        #expect(fixture.server.requests.count == 5, "each record posted once after the store came back")
    }

    @Test func retryAfterIsHonoured() async throws {
        let fixture = try await StoreFixture()
        defer { Task { await fixture.cleanup() } }
        let ids = try fixture.enqueue(2)
        fixture.store.script([.error(429, "rate_limited", "slow down", headers: ["Retry-After": "1"])])
        let sender = try fixture.sender(initial: 0.05, maximum: 0.1)
        let (rounds, loop) = StoreFixture.runLoop(sender)
        defer { loop.cancel() }
        try await rounds.first("a round that emptied the outbox", timeout: .seconds(20)) { $0.pending == 0 && $0.stoppedBy == nil }
        loop.cancel()
        await loop.value
        await sender.shutdown()
        #expect(try fixture.journal.outboxSummary().sent == 2)
        let requests = fixture.server.requests
        #expect(requests.count == 3)
        if requests.count >= 2 {
            let gap = requests[1].receivedAt.timeIntervalSince(requests[0].receivedAt)
            #expect(gap >= 0.95, "retried \(gap) s after a 429 with Retry-After: 1 (backoff alone is 0.05 s)")
        }
        #expect(fixture.store.storedOrder == ids.map { $0.uuidString.lowercased() })
    }

    @Test func anUnreadableTokenFileStopsTheRoundAndKeepsEverything() async throws {
        let fixture = try await StoreFixture()
        defer { Task { await fixture.cleanup() } }
        try fixture.enqueue(1)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: fixture.tokenFile)
        let sender = try fixture.sender()
        let report = await sender.sendPending(ignoringSchedule: true)
        await sender.shutdown()
        #expect(report.stoppedBy?.code == DeliveryOutcome.LocalCode.token)
        #expect(report.pending == 1)
        #expect(fixture.server.requests.isEmpty, "the token is never sent from a file others can read")
    }
}

/// HTTPS: the store's certificate is checked against the configured CA file, or the system's.
@Suite(.serialized) struct StoreTLSTests {
    @Test func aStoreSignedByTheConfiguredCAIsTrustedAndOthersAreNot() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let authority = try TestCertificateAuthority(in: directory)
        let store = ContractStore(tokens: [StoreFixture.token])
        let server = try FakeStoreServer(certificateFile: authority.certificateFile, keyFile: authority.keyFile, handler: store.handler)
        try await server.start(port: 0)
        #expect(server.url.hasPrefix("https://127.0.0.1:"))
        let journal = try JournalDatabase(dataDirectory: directory + "/data")
        let tokenFile = directory + "/token"
        try StoreFixture.writeToken(StoreFixture.token, to: tokenFile)
        let id = UUID()
        try journal.enqueueOutbox(kind: .certificate, recordID: id, payload: StoreFixture.record(id: id, kind: .certificate))

        // System CAs only: our private CA is unknown, so TLS fails and the record waits.
        let untrusted = OutboxSender(journal: journal, transport: try HTTPStoreTransport(settings: StoreSettings(url: server.url, tokenFile: tokenFile)),
                                     tokenFile: tokenFile, retryPolicy: RetryPolicy(initialDelaySeconds: 0.1, maximumDelaySeconds: 0.2))
        let refused = await untrusted.sendPending(ignoringSchedule: true)
        #expect(refused.stoppedBy?.code == DeliveryOutcome.LocalCode.tls, "\(String(describing: refused.stoppedBy))")
        #expect(refused.pending == 1 && store.storedOrder.isEmpty)

        var settings = StoreSettings(url: server.url, tokenFile: tokenFile)
        settings.caFile = authority.caFile
        let trusted = OutboxSender(journal: journal, transport: try HTTPStoreTransport(settings: settings), tokenFile: tokenFile,
                                   retryPolicy: RetryPolicy(initialDelaySeconds: 0.1, maximumDelaySeconds: 0.2))
        let sent = await trusted.sendPending(ignoringSchedule: true)
        await server.stop()
        #expect(sent.sent.map(\.recordID) == [id.uuidString.lowercased()], "\(String(describing: sent.stoppedBy))")
        #expect(store.storedOrder == [id.uuidString.lowercased()])
    }
}
