import Foundation
import Synchronization

/// Tells watchers that the bench changed (a slot, a job's progress, the session), without
/// saying what: a watcher takes a new snapshot. Each watcher keeps at most one pending signal,
/// so a slow watcher coalesces changes instead of queueing them.
final class ChangeFeed: Sendable {
    private struct State {
        var watchers: [UInt64: AsyncStream<Void>.Continuation] = [:]
        var nextID: UInt64 = 0
        var finished = false
    }

    private let state = Mutex(State())

    /// A stream that yields once now (the current state is news to a new watcher) and once
    /// after each change; it ends at `finish()` or when the consumer stops iterating.
    func watch() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id: UInt64? = state.withLock { state in
            guard !state.finished else { return nil }
            state.nextID += 1
            state.watchers[state.nextID] = continuation
            return state.nextID
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            _ = self.state.withLock { $0.watchers.removeValue(forKey: id) }
        }
        continuation.yield()
        return stream
    }

    /// Something changed.
    func signal() {
        let watchers = state.withLock { Array($0.watchers.values) }
        for watcher in watchers { watcher.yield() }
    }

    /// Ends every watch (shutdown); later watches end at once.
    func finish() {
        let watchers = state.withLock { state -> [AsyncStream<Void>.Continuation] in
            state.finished = true
            defer { state.watchers.removeAll() }
            return Array(state.watchers.values)
        }
        for watcher in watchers { watcher.finish() }
    }
}
