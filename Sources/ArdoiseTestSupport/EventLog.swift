import Foundation
import Synchronization

/// What a test saw happen, in order (hot-plug events, requests…), and waits on it: each
/// `append` wakes the waiters whose condition now holds. Nothing polls; a wait's deadline is
/// only there so that a broken program fails the test instead of hanging it.
public final class EventLog<Element: Sendable>: Sendable {
    private struct Waiter {
        let condition: @Sendable ([Element]) -> Bool
        let continuation: CheckedContinuation<[Element], any Error>
    }

    private let state = Mutex<(elements: [Element], waiters: [UUID: Waiter])>(([], [:]))

    /// No condition held for what was seen before the deadline.
    public struct Timeout: Error, CustomStringConvertible {
        public let what: String
        public let seen: String
        public var description: String { "waited in vain for \(what); seen: \(seen)" }
    }

    public init() {}

    /// Everything seen so far.
    public var elements: [Element] { state.withLock { $0.elements } }

    /// Records `element` and wakes every waiter whose condition holds now.
    public func append(_ element: Element) {
        let woken = state.withLock { state -> [(CheckedContinuation<[Element], any Error>, [Element])] in
            state.elements.append(element)
            let elements = state.elements
            let met = state.waiters.filter { $0.value.condition(elements) }
            for id in met.keys { state.waiters[id] = nil }
            return met.values.map { ($0.continuation, elements) }
        }
        for (continuation, elements) in woken { continuation.resume(returning: elements) }
    }

    /// Waits until `condition` holds for what was seen so far (at once if it already does)
    /// and returns it; throws `Timeout` at the deadline.
    @discardableResult
    public func wait(for what: String, timeout: Duration = .seconds(30),
                     until condition: @escaping @Sendable ([Element]) -> Bool) async throws -> [Element] {
        let id = UUID()
        return try await withCheckedThrowingContinuation { continuation in
            let now = state.withLock { state -> [Element]? in
                if condition(state.elements) { return state.elements }
                state.waiters[id] = Waiter(condition: condition, continuation: continuation)
                return nil
            }
            if let now {
                continuation.resume(returning: now)
                return
            }
            Task { [weak self] in
                try? await Task.sleep(for: timeout)
                guard let self else { return }
                let expired = self.state.withLock { state -> (Waiter, [Element])? in
                    state.waiters.removeValue(forKey: id).map { ($0, state.elements) }
                }
                if let expired {
                    expired.0.continuation.resume(throwing: Timeout(what: what, seen: "\(expired.1)"))
                }
            }
        }
    }
}
