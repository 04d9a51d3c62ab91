import Foundation

/// Which job may start: the grace periods of drives waiting to start on their own, the queue
/// of accepted jobs, and the concurrency limit. A value type with no clock of its own (every
/// call says what time it is) and no I/O; jobs are named by their slot's generation
/// (`SlotTable`), so a job is never confused with another medium's on the same node.
struct JobScheduler: Sendable {
    var limit: Int
    private(set) var queue: [UInt64] = []
    private(set) var running: Set<UInt64> = []
    private(set) var graceDeadlines: [UInt64: Date] = [:]
    /// Set by `stop()`: nothing starts any more.
    private(set) var stopping = false

    init(limit: Int) { self.limit = max(1, limit) }

    /// Starts the grace period of `generation`: it may start on its own at `now + seconds`.
    mutating func startGrace(_ generation: UInt64, seconds: Double, now: Date) {
        graceDeadlines[generation] = now.addingTimeInterval(max(0, seconds))
    }

    /// Seconds left in the grace period of `generation` (nil: not in one).
    func graceLeft(_ generation: UInt64, now: Date) -> Double? {
        graceDeadlines[generation].map { max(0, $0.timeIntervalSince(now)) }
    }

    /// The grace period of `generation` is over (its timer fired): it leaves the grace list.
    /// False when it was not in one any more (cancelled, removed, started by hand meanwhile):
    /// then nothing starts.
    mutating func endGrace(_ generation: UInt64) -> Bool {
        guard !stopping else { return false }
        return graceDeadlines.removeValue(forKey: generation) != nil
    }

    /// The grace periods whose deadline `now` has reached (what a timer firing at `now` ends).
    func graceExpired(now: Date) -> [UInt64] {
        graceDeadlines.filter { $0.value <= now }.keys.sorted()
    }

    /// Adds an accepted job to the end of the queue (once).
    mutating func enqueue(_ generation: UInt64) {
        graceDeadlines[generation] = nil
        guard !queue.contains(generation), !running.contains(generation) else { return }
        queue.append(generation)
    }

    /// Forgets a job that has not started (cancelled, removed, protected, replaced): its grace
    /// period and its place in the queue.
    mutating func withdraw(_ generation: UInt64) {
        graceDeadlines[generation] = nil
        queue.removeAll { $0 == generation }
    }

    /// The jobs to start now, in queue order, within the limit; they count as running.
    mutating func jobsToStart() -> [UInt64] {
        var started: [UInt64] = []
        while !stopping, running.count < limit, !queue.isEmpty {
            let next = queue.removeFirst()
            running.insert(next)
            started.append(next)
        }
        return started
    }

    /// A started job ended: its place is free for the next one.
    mutating func finished(_ generation: UInt64) {
        running.remove(generation)
    }

    /// Shutdown: no job starts any more, grace periods and the queue are dropped. Returns the
    /// jobs that were waiting (they stay on screen as they were).
    @discardableResult
    mutating func stop() -> [UInt64] {
        stopping = true
        let dropped = queue + graceDeadlines.keys.sorted()
        queue.removeAll()
        graceDeadlines.removeAll()
        return dropped
    }

    var isIdle: Bool { running.isEmpty }
}
