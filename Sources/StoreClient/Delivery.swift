import Foundation

/// Exponential backoff with jitter: after `n` consecutive failures the sender waits
/// `initial × 2^(n-1)`, capped at `maximum`, then drawn uniformly in its upper half (so
/// benches that lost the store together do not come back in step), and never less than the
/// store's `Retry-After`.
public struct RetryPolicy: Sendable, Equatable {
    public var initialDelaySeconds: Double
    public var maximumDelaySeconds: Double
    /// A `Retry-After` longer than this is cut to it (a store asking for days is a mistake).
    public var maximumRetryAfterSeconds: Double = 86_400

    public init(initialDelaySeconds: Double = 5, maximumDelaySeconds: Double = 900) {
        self.initialDelaySeconds = initialDelaySeconds
        self.maximumDelaySeconds = max(maximumDelaySeconds, initialDelaySeconds)
    }

    /// The cap before jitter after `failures` (≥ 1) consecutive failures.
    public func ceiling(afterFailures failures: Int) -> Double {
        let exponent = Double(min(max(failures, 1) - 1, 62))
        return min(initialDelaySeconds * pow(2, exponent), maximumDelaySeconds)
    }

    /// Seconds to wait; `unit` is a uniform draw in 0…1 (injected so tests are deterministic).
    public func delay(afterFailures failures: Int, retryAfterSeconds: Double? = nil, unit: Double) -> Double {
        let ceiling = ceiling(afterFailures: failures)
        let jittered = ceiling / 2 + ceiling / 2 * min(max(unit, 0), 1)
        guard let retryAfterSeconds else { return jittered }
        return max(jittered, min(max(retryAfterSeconds, 0), maximumRetryAfterSeconds))
    }
}

/// What the store said to one `POST /api/v1/records` (or why nothing was said).
public struct StoreReply: Sendable, Equatable {
    public var httpStatus: Int
    /// The raw `Retry-After` header, if any.
    public var retryAfter: String?
    public var body: [UInt8]

    public init(httpStatus: Int, retryAfter: String? = nil, body: [UInt8] = []) {
        self.httpStatus = httpStatus
        self.retryAfter = retryAfter
        self.body = body
    }
}

/// The sender's verdict on one attempt, following the store contract (docs/store-client.md):
/// 2xx sent; 401, 429, 5xx and network failures retried later; any other 4xx parked.
public enum DeliveryOutcome: Sendable, Equatable {
    /// `storeStatus`: `stored` (201) or `already_stored` (200, same id and bytes).
    case sent(storeStatus: String)
    /// Refused for good: kept in the outbox with the store's code and message.
    case refused(httpStatus: Int, code: String, message: String)
    /// Try again later; `httpStatus` is nil for a network failure.
    case retry(httpStatus: Int?, code: String, message: String, retryAfterSeconds: Double?)

    /// Stable codes of failures that have no store answer.
    public enum LocalCode {
        public static let unreachable = "store_unreachable"
        public static let timeout = "store_timeout"
        public static let tls = "tls_error"
        public static let unexpectedAnswer = "unexpected_answer"
        public static let token = "token_file"
        public static let journal = "journal_error"
    }

    public static func classify(_ reply: StoreReply, now: Date = Date()) -> DeliveryOutcome {
        let status = reply.httpStatus
        switch status {
        case 200..<300:
            let answer = try? JSONDecoder().decode(SuccessBody.self, from: Data(reply.body))
            let storeStatus = answer?.status ?? (status == 200 ? "already_stored" : "stored")
            return .sent(storeStatus: storeStatus)
        case 401, 429, 500..<600:
            let (code, message) = errorBody(reply, fallbackCode: status == 401 ? "unauthorized" : status == 429 ? "rate_limited" : "http_\(status)")
            return .retry(httpStatus: status, code: code, message: message,
                          retryAfterSeconds: reply.retryAfter.flatMap { retryAfterSeconds($0, now: now) })
        case 400..<500:
            let (code, message) = errorBody(reply, fallbackCode: "http_\(status)")
            return .refused(httpStatus: status, code: code, message: message)
        default:
            // 1xx/3xx: a proxy or a wrong URL (redirects are not followed: a POST must not turn
            // into a GET). Not the record's fault, so it waits for the configuration to be fixed.
            return .retry(httpStatus: status, code: LocalCode.unexpectedAnswer,
                          message: "HTTP \(status)", retryAfterSeconds: nil)
        }
    }

    /// `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3), in seconds from `now`.
    public static func retryAfterSeconds(_ value: String, now: Date = Date()) -> Double? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(text), seconds >= 0 { return Double(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        guard let date = formatter.date(from: text) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }

    private struct SuccessBody: Decodable {
        var status: String?
        var id: String?
        var kind: String?
    }

    private struct ErrorBody: Decodable {
        struct Detail: Decodable {
            var code: String?
            var message: String?
        }
        var error: Detail?
    }

    private static func errorBody(_ reply: StoreReply, fallbackCode: String) -> (String, String) {
        let detail = (try? JSONDecoder().decode(ErrorBody.self, from: Data(reply.body)))?.error
        let code = detail?.code.flatMap { $0.isEmpty ? nil : $0 } ?? fallbackCode
        let fallbackMessage = String(decoding: reply.body.prefix(300), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let message = detail?.message ?? (fallbackMessage.isEmpty ? "HTTP \(reply.httpStatus)" : fallbackMessage)
        return (code, message)
    }
}
