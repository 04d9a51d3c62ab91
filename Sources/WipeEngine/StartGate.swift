import Foundation

/// Holds the jobs one command starts together until each of them is ready to do its first
/// I/O, then lets them all go at once, as fio starts its jobs.
///
/// Without it the jobs of `ardoise wipe` with many drives start one after the other: the first
/// ones already read or write at full speed while the last ones still check their drive's
/// identity and allocate their buffers, and on a 2-core bench those last ones get so little
/// CPU that they start up to half a second late (16 drives, verification read: first reads
/// from 0 to 596 ms, bench/results/2026-12-07-afternoon-analysis.md).
///
/// Each job comes once (`arrive`), when its first pass is ready for I/O (buffers allocated,
/// threads started) or when it ends before any I/O; every I/O thread then `wait`s. The gate
/// opens when every job has come, or `timeout` seconds after the first one came, so that a
/// job stuck before its I/O never holds the others for long.
public final class StartGate: @unchecked Sendable {
    public let jobs: Int
    public let timeout: Double
    // `arrived` and `deadline` are only touched under `condition`'s lock.
    private let condition = NSCondition()
    private var arrived = 0
    private var deadline: Date?

    public init(jobs: Int, timeout: Double = 5) {
        self.jobs = jobs
        self.timeout = timeout
    }

    /// True once every job has come.
    public var isOpen: Bool {
        condition.lock()
        defer { condition.unlock() }
        return arrived >= jobs
    }

    /// Counts one job in (each job once).
    public func arrive() {
        condition.lock()
        defer { condition.unlock() }
        arrived += 1
        if deadline == nil { deadline = Date().addingTimeInterval(timeout) }
        if arrived >= jobs { condition.broadcast() }
    }

    /// Waits until every job has come, or `timeout` seconds after the first one (or this
    /// wait, if none has come yet).
    public func wait() {
        condition.lock()
        defer { condition.unlock() }
        if deadline == nil { deadline = Date().addingTimeInterval(timeout) }
        while arrived < jobs, let deadline, Date() < deadline {
            _ = condition.wait(until: deadline)
        }
    }
}
