import Foundation
import NIOCore
import Synchronization

/// The store's rate limits (`[limits]` in store.toml, docs/store.md "Rate limits").
///
/// Per bench: every push of an authenticated bench takes one token of its bench's bucket.
/// Per client address: requests nobody authenticated (pushes with no, unknown or revoked
/// token; `GET /api/v1/certificates|inventories/{id}`; the pages) take one token of their
/// address's bucket. `GET /api/v1/health` is never limited. A limit of 0 per minute turns it off.
///
/// The buckets live in each store process's memory: with several instances behind a load
/// balancer, each instance counts on its own (a bench may get up to N times the limit).
public struct RateLimits: Sendable, Equatable {
    /// Sustained pushes per minute for one bench (10 a second), and the burst it may send at once.
    /// A bench pushes a few records a minute; a bench back on the network after days away sends
    /// its backlog one record at a time, which the burst absorbs.
    public var benchRequestsPerMinute = 600
    public var benchBurst = 600
    /// Unauthenticated requests per minute from one client address, and their burst.
    public var addressRequestsPerMinute = 60
    public var addressBurst = 120
    /// Reverse proxies whose `X-Forwarded-For` names the client (the documented deployment puts
    /// a TLS proxy on the same host). Requests from any other peer are counted under the peer.
    public var trustedProxies: [String] = ["127.0.0.1", "::1"]

    public init() {}

    /// No limit at all (load benchmarks).
    public static var unlimited: RateLimits {
        var limits = RateLimits()
        limits.benchRequestsPerMinute = 0
        limits.addressRequestsPerMinute = 0
        return limits
    }
}

/// Token buckets keyed by a string (a bench id, a client address), in this process's memory.
///
/// Each bucket holds at most `burst` tokens and refills at `perMinute / 60` tokens a second;
/// a request takes one token or is refused with the whole seconds until one is back
/// (Retry-After). A full bucket is the same as no bucket, so full ones are dropped when the
/// table grows: memory stays bounded by the clients active within one refill period.
public final class TokenBuckets: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: Double
    }

    public let tokensPerSecond: Double
    public let capacity: Double
    private let buckets = Mutex<[String: Bucket]>([:])
    /// Seconds on a monotonic clock (tests pass their own).
    private let now: @Sendable () -> Double
    /// Above this many buckets, full ones are dropped.
    static let sweepThreshold = 10_000

    public init(perMinute: Int, burst: Int, now: @escaping @Sendable () -> Double = { TokenBuckets.monotonicSeconds() }) {
        tokensPerSecond = Double(max(0, perMinute)) / 60
        capacity = Double(max(1, burst))
        self.now = now
    }

    public var isEnabled: Bool { tokensPerSecond > 0 }

    public static func monotonicSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// Takes one token for `key`: nil when the request may go on, else the seconds to wait.
    public func take(_ key: String) -> Int? {
        guard isEnabled else { return nil }
        let time = now()
        return buckets.withLock { table -> Int? in
            var bucket = refilled(table[key], at: time)
            defer {
                table[key] = bucket
                if table.count > Self.sweepThreshold { sweep(&table, at: time) }
            }
            guard bucket.tokens >= 1 else { return wait(for: bucket) }
            bucket.tokens -= 1
            return nil
        }
    }

    /// Whether `key` has no token left, without taking one: the seconds to wait, or nil.
    public func exhausted(_ key: String) -> Int? {
        guard isEnabled else { return nil }
        let time = now()
        return buckets.withLock { table -> Int? in
            guard table[key] != nil else { return nil }
            let bucket = refilled(table[key], at: time)
            return bucket.tokens >= 1 ? nil : wait(for: bucket)
        }
    }

    /// How many buckets are kept (tests).
    var count: Int { buckets.withLock { $0.count } }

    private func refilled(_ bucket: Bucket?, at time: Double) -> Bucket {
        guard var bucket else { return Bucket(tokens: capacity, updated: time) }
        bucket.tokens = min(capacity, bucket.tokens + max(0, time - bucket.updated) * tokensPerSecond)
        bucket.updated = time
        return bucket
    }

    private func wait(for bucket: Bucket) -> Int {
        max(1, Int(((1 - bucket.tokens) / tokensPerSecond).rounded(.up)))
    }

    private func sweep(_ table: inout [String: Bucket], at time: Double) {
        table = table.filter { refilled($0.value, at: time).tokens < capacity }
        // Still too many clients short of tokens at once: forget the lot rather than grow
        // without bound (the limit is a protection, not an accounting).
        if table.count > 4 * Self.sweepThreshold { table.removeAll() }
    }
}

/// The store's two limiters and how a request's client address is found.
public struct RateLimiter: Sendable {
    public let limits: RateLimits
    public let benches: TokenBuckets
    public let addresses: TokenBuckets
    private let trustedProxies: Set<String>

    public init(_ limits: RateLimits, now: @escaping @Sendable () -> Double = { TokenBuckets.monotonicSeconds() }) {
        self.limits = limits
        benches = TokenBuckets(perMinute: limits.benchRequestsPerMinute, burst: limits.benchBurst, now: now)
        addresses = TokenBuckets(perMinute: limits.addressRequestsPerMinute, burst: limits.addressBurst, now: now)
        trustedProxies = Set(limits.trustedProxies.map(Self.normalized))
    }

    /// The client's address: the TCP peer, or, when the peer is a trusted proxy, the last
    /// address of `X-Forwarded-For` that is not itself a trusted proxy (what each proxy
    /// appended; anything to its left was written by the client and may be forged).
    public func clientAddress(peer: String?, forwardedFor: String?) -> String {
        let peer = peer.map(Self.normalized) ?? "unknown"
        guard trustedProxies.contains(peer), let forwardedFor else { return peer }
        let hops = forwardedFor.split(separator: ",").map { Self.normalized(String($0)) }.filter { !$0.isEmpty }
        return hops.last { !trustedProxies.contains($0) } ?? hops.first ?? peer
    }

    /// `::ffff:192.0.2.1` and `192.0.2.1` are one client; `[::1]` is `::1`.
    static func normalized(_ address: String) -> String {
        var text = address.trimmingCharacters(in: .whitespaces).lowercased()
        if text.hasPrefix("["), let end = text.firstIndex(of: "]") { text = String(text[text.index(after: text.startIndex)..<end]) }
        if text.hasPrefix("::ffff:"), text.dropFirst(7).contains(".") { text = String(text.dropFirst(7)) }
        return text
    }

    /// Whether `text` is an IPv4 or IPv6 address (configuration check).
    public static func isIPAddress(_ text: String) -> Bool {
        (try? SocketAddress(ipAddress: text, port: 0)) != nil
    }
}
