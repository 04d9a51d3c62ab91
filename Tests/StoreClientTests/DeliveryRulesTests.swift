import Foundation
import StoreClient
import Testing

/// The contract's rules, answer by answer, and the backoff, without a network.
@Suite struct DeliveryRulesTests {
    static func body(_ code: String, _ message: String) -> [UInt8] {
        Array(#"{"error":{"code":"\#(code)","message":"\#(message)"}}"#.utf8)
    }

    @Test func successesAreSent() {
        #expect(DeliveryOutcome.classify(StoreReply(httpStatus: 201, body: Array(#"{"status":"stored","id":"x","kind":"certificate"}"#.utf8)))
                == .sent(storeStatus: "stored"))
        #expect(DeliveryOutcome.classify(StoreReply(httpStatus: 200, body: Array(#"{"status":"already_stored","id":"x"}"#.utf8)))
                == .sent(storeStatus: "already_stored"))
        #expect(DeliveryOutcome.classify(StoreReply(httpStatus: 200)) == .sent(storeStatus: "already_stored"))
        #expect(DeliveryOutcome.classify(StoreReply(httpStatus: 201, body: Array("not json".utf8))) == .sent(storeStatus: "stored"))
    }

    @Test(arguments: [(403, "wrong_bench_key"), (409, "conflicting_record"), (422, "invalid_signature"), (422, "invalid_payload"),
                      (422, "malformed_record"), (413, "too_large"), (400, "bad_request"), (404, "not_found")])
    func otherClientErrorsAreRefused(status: Int, code: String) {
        #expect(DeliveryOutcome.classify(StoreReply(httpStatus: status, body: Self.body(code, "why")))
                == .refused(httpStatus: status, code: code, message: "why"))
    }

    @Test func aRefusalWithoutAJSONBodyStillHasACode() {
        #expect(DeliveryOutcome.classify(StoreReply(httpStatus: 418, body: Array("teapot".utf8)))
                == .refused(httpStatus: 418, code: "http_418", message: "teapot"))
    }

    @Test(arguments: [401, 429, 500, 502, 503, 504])
    func unauthorizedRateLimitedAndServerErrorsAreRetried(status: Int) {
        guard case .retry(let httpStatus, let code, _, _) = DeliveryOutcome.classify(StoreReply(httpStatus: status, body: Self.body("c", "m")))
        else { Issue.record("\(status) not retried"); return }
        #expect(httpStatus == status && code == "c")
        guard case .retry(_, let fallback, _, _) = DeliveryOutcome.classify(StoreReply(httpStatus: status)) else { return }
        #expect(fallback == (status == 401 ? "unauthorized" : status == 429 ? "rate_limited" : "http_\(status)"))
    }

    @Test func redirectsAreNotFollowedButRetried() {
        guard case .retry(let status, let code, _, _) = DeliveryOutcome.classify(StoreReply(httpStatus: 301)) else {
            Issue.record("301 not retried"); return
        }
        #expect(status == 301 && code == DeliveryOutcome.LocalCode.unexpectedAnswer)
    }

    @Test func retryAfterInSecondsOrAsADate() {
        let now = Date(timeIntervalSince1970: 1_790_000_000)  // Mon, 21 Sep 2026 14:13:20 GMT
        #expect(DeliveryOutcome.retryAfterSeconds("120", now: now) == 120)
        #expect(DeliveryOutcome.retryAfterSeconds("Mon, 21 Sep 2026 14:15:20 GMT", now: now) == 120)
        #expect(DeliveryOutcome.retryAfterSeconds("soon", now: now) == nil)
        #expect(DeliveryOutcome.retryAfterSeconds("-5", now: now) == nil)
        guard case .retry(_, _, _, let seconds) = DeliveryOutcome.classify(StoreReply(httpStatus: 429, retryAfter: "7"), now: now) else {
            Issue.record("429 not retried"); return
        }
        #expect(seconds == 7)
    }

    @Test func backoffDoublesIsCappedJitteredAndNeverShorterThanRetryAfter() {
        let policy = RetryPolicy(initialDelaySeconds: 5, maximumDelaySeconds: 60)
        #expect((1...6).map { policy.ceiling(afterFailures: $0) } == [5, 10, 20, 40, 60, 60])
        #expect(policy.ceiling(afterFailures: 1000) == 60)
        // Jitter: uniformly in the upper half of the ceiling.
        #expect(policy.delay(afterFailures: 3, unit: 0) == 10)
        #expect(policy.delay(afterFailures: 3, unit: 1) == 20)
        #expect(policy.delay(afterFailures: 3, unit: 0.5) == 15)
        let draws = (0..<200).map { _ in policy.delay(afterFailures: 4, unit: Double.random(in: 0...1)) }
        #expect(draws.allSatisfy { (20...40).contains($0) })
        #expect(Set(draws).count > 100, "jitter spreads the retries")
        // Retry-After is a floor, within reason.
        #expect(policy.delay(afterFailures: 1, retryAfterSeconds: 30, unit: 1) == 30)
        #expect(policy.delay(afterFailures: 5, retryAfterSeconds: 1, unit: 1) == 60)
        #expect(policy.delay(afterFailures: 1, retryAfterSeconds: 1e9, unit: 1) == 86_400)
    }
}

@Suite struct StoreSettingsTests {
    static func temporaryFile(_ text: String, mode: Int) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-token-\(UUID().uuidString)").path
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    @Test(arguments: [0o600, 0o400])
    func anOwnerOnlyTokenFileIsRead(mode: Int) throws {
        let path = try Self.temporaryFile("s3cr3t-token\n", mode: mode)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try StoreSettings.readToken(path: path) == "s3cr3t-token")
    }

    @Test(arguments: [0o640, 0o604, 0o644, 0o660, 0o602])
    func aTokenFileOthersCanReachIsRefused(mode: Int) throws {
        let path = try Self.temporaryFile("s3cr3t-token\n", mode: mode)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = #expect(throws: StoreClientError.self) { try StoreSettings.readToken(path: path) }
        #expect(error?.code == .tokenFileMode)
        #expect(error?.text(in: .french).contains("chmod 600") == true)
    }

    @Test(arguments: ["", "\n", "two words\n", "line1\nline2\n"])
    func aTokenFileMustHoldOneToken(text: String) throws {
        let path = try Self.temporaryFile(text, mode: 0o600)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = #expect(throws: StoreClientError.self) { try StoreSettings.readToken(path: path) }
        #expect(error?.code == .tokenFileInvalid)
    }

    @Test func aMissingTokenFileIsNamed() {
        let error = #expect(throws: StoreClientError.self) { try StoreSettings.readToken(path: "/nonexistent/ardoise.token") }
        #expect(error?.code == .tokenFileUnreadable)
        #expect(error?.path == "/nonexistent/ardoise.token")
    }

    @Test func urls() {
        #expect(StoreSettings.problem(withURL: "https://store.example.org") == nil)
        #expect(StoreSettings.problem(withURL: "https://store.example.org:8443/ardoise/") == nil)
        #expect(StoreSettings.problem(withURL: "http://127.0.0.1:8080") == nil)
        #expect(StoreSettings.problem(withURL: "http://localhost:8080") == nil)
        #expect(StoreSettings.problem(withURL: "http://store.example.org") != nil, "no bearer token in clear over the network")
        #expect(StoreSettings.problem(withURL: "ftp://store.example.org") != nil)
        #expect(StoreSettings.problem(withURL: "store.example.org") != nil)
        #expect(StoreSettings.problem(withURL: "https://store.example.org/?token=x") != nil)
        #expect(StoreSettings(url: "https://s.example/base/", tokenFile: "/t").recordsURL == "https://s.example/base/api/v1/records")
    }
}
