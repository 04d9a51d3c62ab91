import ArdoiseSupport
import Foundation
import Journal
import Synchronization

/// Delivers the journal's outbox to the traceability store: every record at least once, in
/// queue order. A transient failure (network, 401, 429, 5xx) stops the round at that record
/// and schedules the next try with exponential backoff and jitter (never sooner than the
/// store's `Retry-After`), so no later record overtakes it; a refusal (any other 4xx) parks
/// that record with the store's code and message and the round goes on with the next.
/// Nothing is ever deleted. The sender only reads and updates outbox rows.
public final class OutboxSender: Sendable {
    private let journal: JournalDatabase
    private let transport: any StoreTransport
    private let tokenFile: String
    public let retryPolicy: RetryPolicy
    private let language: Language
    private let uniform: @Sendable () -> Double
    /// `wake()` asked for a round (`requested`), or wakes the loop waiting now (`waiter`).
    /// `pause` counts its waits, so that a wait's timer never ends a later wait.
    private let wakeState = Mutex<(requested: Bool, waiter: CheckedContinuation<Void, Never>?, pause: UInt64)>((false, nil, 0))
    private let lastSummary = Mutex<OutboxSummary?>(nil)

    /// - Parameters:
    ///   - uniform: a draw in 0…1 for the jitter (tests inject a fixed one).
    public init(journal: JournalDatabase, transport: any StoreTransport, tokenFile: String, retryPolicy: RetryPolicy,
                language: Language = .french, uniform: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }) {
        self.journal = journal
        self.transport = transport
        self.tokenFile = tokenFile
        self.retryPolicy = retryPolicy
        self.language = language
        self.uniform = uniform
    }

    /// One round: sends pending rows in order until the queue is empty, a transient failure
    /// stops it, or (unless `ignoringSchedule`, as `ardoise push` does) the next row's backoff
    /// has not elapsed.
    public func sendPending(ignoringSchedule: Bool, now: @Sendable () -> Date = { Date() }) async -> PushReport {
        var report = PushReport()
        let token: String
        do {
            token = try StoreSettings.readToken(path: tokenFile)
        } catch {
            report.stoppedBy = PushReport.Failure(httpStatus: nil, code: DeliveryOutcome.LocalCode.token,
                                                  message: error.text(in: language), nextAttemptAt: nil)
            await finish(&report)
            return report
        }
        var seen = Set<Int64>()
        rounds: while true {
            let rows: [OutboxRecord]
            do {
                rows = try await blocking { [journal] in try journal.pendingOutbox(limit: 50) }
            } catch {
                report.stoppedBy = journalFailure(error)
                break
            }
            let fresh = rows.filter { $0.id.map { !seen.contains($0) } ?? false }
            guard !fresh.isEmpty else { break }
            for row in fresh {
                guard let id = row.id else { continue }
                seen.insert(id)
                if !ignoringSchedule, let next = row.nextAttemptAt, next > now() {
                    report.deferredUntil = next
                    break rounds
                }
                let outcome: DeliveryOutcome
                do {
                    outcome = DeliveryOutcome.classify(try await transport.post(record: row.payload, token: token), now: now())
                } catch {
                    let (code, message) = HTTPStoreTransport.describe(error)
                    outcome = .retry(httpStatus: nil, code: code, message: message.text(in: language), retryAfterSeconds: nil)
                }
                let item = PushReport.Item(row)
                do {
                    switch outcome {
                    case .sent(let storeStatus):
                        let at = now()
                        try await blocking { [journal] in try journal.markOutboxSent(id: id, storeStatus: storeStatus, at: at) }
                        if storeStatus == "already_stored" {
                            report.alreadyStored.append(item.with(status: storeStatus))
                        } else {
                            report.sent.append(item.with(status: storeStatus))
                        }
                    case .refused(let httpStatus, let code, let message):
                        let at = now()
                        try await blocking { [journal] in
                            try journal.parkOutbox(id: id, httpStatus: httpStatus, code: code, message: message, at: at)
                        }
                        report.refused.append(item.with(status: "refused", httpStatus: httpStatus, code: code, message: message))
                    case .retry(let httpStatus, let code, let message, let retryAfter):
                        let delay = retryPolicy.delay(afterFailures: row.attempts + 1, retryAfterSeconds: retryAfter, unit: uniform())
                        let at = now()
                        let next = at.addingTimeInterval(delay)
                        try await blocking { [journal] in
                            try journal.recordOutboxFailure(id: id, code: code, message: message, nextAttemptAt: next, at: at)
                        }
                        report.stoppedBy = PushReport.Failure(httpStatus: httpStatus, code: code, message: message, nextAttemptAt: next)
                        break rounds
                    }
                } catch {
                    report.stoppedBy = journalFailure(error)
                    break rounds
                }
            }
        }
        await finish(&report)
        return report
    }

    /// The background loop of the daemon: a round whenever the head of the queue is due, or
    /// `wake()` is called (a new record), or every `idlePoll` (records queued by other
    /// processes). Returns when the task is cancelled.
    public func run(idlePoll: Duration = .seconds(30), onRound: @escaping @Sendable (PushReport) -> Void = { _ in }) async {
        var failuresWithoutRow = 0
        while !Task.isCancelled {
            wakeState.withLock { $0.requested = false }
            let report = await sendPending(ignoringSchedule: false)
            onRound(report)
            var wait = Double(idlePoll.components.seconds) + Double(idlePoll.components.attoseconds) / 1e18
            if let until = report.deferredUntil ?? report.stoppedBy?.nextAttemptAt {
                failuresWithoutRow = 0
                wait = min(wait, max(until.timeIntervalSinceNow, 0.01))
            } else if report.stoppedBy != nil {
                // No row to hold the backoff (unreadable token, journal error): keep it here.
                failuresWithoutRow += 1
                wait = retryPolicy.delay(afterFailures: failuresWithoutRow, unit: uniform())
            } else {
                failuresWithoutRow = 0
            }
            await pause(seconds: wait)
        }
    }

    /// Asks the background loop for a round now (a record was just queued): it wakes at once
    /// from its wait, or runs another round right after the one in progress.
    public func wake() {
        let waiter = wakeState.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.requested = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Waits `seconds`, or less: until `wake()`, or the task's cancellation. No polling: the
    /// timer, `wake()` and the cancellation handler each try to resume the one waiter.
    private func pause(seconds: Double) async {
        // Set by the continuation's body, which runs before the wait, on this task.
        var timer: Task<Void, Never>?
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let number = wakeState.withLock { state -> UInt64? in
                    if state.requested || Task.isCancelled {
                        state.requested = false
                        return nil
                    }
                    state.pause += 1
                    state.waiter = continuation
                    return state.pause
                }
                guard let number else {
                    continuation.resume()
                    return
                }
                timer = Task { [weak self] in
                    try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                    self?.resumeWaiter(ifPause: number)
                }
            }
        } onCancel: {
            resumeWaiter(ifPause: nil)
        }
        timer?.cancel()
    }

    /// Resumes the waiting loop (only if it is still in wait `number`, when given).
    private func resumeWaiter(ifPause number: UInt64?) {
        wakeState.withLock { state -> CheckedContinuation<Void, Never>? in
            guard number == nil || number == state.pause else { return nil }
            defer { state.waiter = nil }
            return state.waiter
        }?.resume()
    }

    /// The counts after the last round (nil before the first).
    public var summary: OutboxSummary? { lastSummary.withLock { $0 } }

    /// Releases the transport's connections (also done after every round).
    public func shutdown() async { await transport.shutdown() }

    private func finish(_ report: inout PushReport) async {
        await transport.shutdown()
        let (summary, parked) = await (try? blocking { [journal] in (try journal.outboxSummary(), try journal.parkedOutbox()) })
            ?? (nil, [])
        if let summary {
            report.pending = summary.pending
            lastSummary.withLock { $0 = summary }
        }
        report.parked = parked.map { PushReport.Item($0) }
    }

    private func journalFailure(_ error: any Error) -> PushReport.Failure {
        let text = (error as? JournalError)?.text(in: language) ?? "\(error)"
        return PushReport.Failure(httpStatus: nil, code: DeliveryOutcome.LocalCode.journal, message: text, nextAttemptAt: nil)
    }

    /// Runs blocking SQLite work on its own thread, never on the cooperative pool.
    private func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            NamedThread.start("ardoise-outbox") { continuation.resume(with: Result { try work() }) }
        }
    }
}

/// What one round did, and what is left: the output of `ardoise push` (text and `--json`).
public struct PushReport: Sendable, Codable, Equatable {
    /// One record; `status` is a stable code: `stored`, `already_stored`, `refused`, `parked`, `pending`.
    public struct Item: Sendable, Codable, Equatable {
        public var outboxID: Int64?
        public var kind: String
        public var recordID: String
        public var status: String
        public var httpStatus: Int?
        public var code: String?
        public var message: String?

        init(_ row: OutboxRecord) {
            outboxID = row.id
            kind = row.kind.rawValue
            recordID = row.recordID.uuidString.lowercased()
            status = row.state == .parked ? "parked" : row.state == .sent ? (row.storeStatus ?? "stored") : "pending"
            httpStatus = row.parkedHTTPStatus
            code = row.parkedCode
            message = row.parkedMessage
        }

        func with(status: String, httpStatus: Int? = nil, code: String? = nil, message: String? = nil) -> Item {
            var item = self
            item.status = status
            item.httpStatus = httpStatus
            item.code = code
            item.message = message
            return item
        }
    }

    /// Why the round stopped before the end of the queue; `code` is the store's error code or
    /// one of `DeliveryOutcome.LocalCode`.
    public struct Failure: Sendable, Codable, Equatable {
        public var httpStatus: Int?
        public var code: String
        public var message: String
        public var nextAttemptAt: Date?
    }

    /// Taken by the store this round (201).
    public var sent: [Item] = []
    /// The store already had them, same bytes (200).
    public var alreadyStored: [Item] = []
    /// Refused this round, now parked.
    public var refused: [Item] = []
    /// Every parked record (this round's and earlier ones).
    public var parked: [Item] = []
    /// Records still waiting to be sent after the round.
    public var pending = 0
    public var stoppedBy: Failure?
    /// The next record waits for its backoff until then (background rounds only).
    public var deferredUntil: Date?

    public init() {}
}
