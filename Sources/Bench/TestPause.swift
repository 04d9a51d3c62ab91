import Foundation
import Synchronization
import WipeEngine

/// Points where a test can hold a job, so that a drive can be pulled at an exact moment:
/// `after-pass-K` (pass K done and verified, before pass K+1), `verify` (the first read of a
/// verification), `certificate` (the job is recorded as finished, its certificate not yet
/// written).
///
/// The shipped program installs no hooks, and nothing it reads (file, environment, socket)
/// can install any: these points are inert in it. A test program (`ardoise-testbed`, the
/// daemon harness's) installs its hooks once at start, before any job.
public protocol JobPauseHooks: Sendable {
    /// Whether `point` is armed now: nil when not, else what the test said about it (for
    /// `verify`: the pass number, or empty for any pass).
    func armed(_ point: String) -> String?
    /// The job reached the armed `point`: hold it here (blocking the job's own thread) until
    /// the test lets it go.
    func reached(_ point: String)
}

/// The process's job pause hooks (none unless a test program installs them).
public enum JobHooks {
    private static let installed = Mutex<(any JobPauseHooks)?>(nil)

    /// Installs `hooks` for every later job of this process (test programs only).
    public static func install(_ hooks: any JobPauseHooks) {
        installed.withLock { $0 = hooks }
    }

    static var current: (any JobPauseHooks)? { installed.withLock { $0 } }
}

/// The pause points as `ErasureSession` and the engine's wrappers call them: inert without
/// installed hooks.
enum TestPause {
    static var isEnabled: Bool { JobHooks.current != nil }

    /// What the hooks say of `name` when it is armed, nil otherwise.
    static func armed(_ name: String) -> String? {
        JobHooks.current?.armed(name)
    }

    /// Pauses here if `name` is armed. Blocks the calling thread: only from a job's own
    /// threads or blocking work, never from the concurrency pool.
    static func point(_ name: String) {
        guard let hooks = JobHooks.current, hooks.armed(name) != nil else { return }
        hooks.reached(name)
    }

    /// The engine's pass hook for `after-pass-K`, nil without hooks.
    static var passHook: (@Sendable (WipeEngine.PassRecord) -> Void)? {
        guard isEnabled else { return nil }
        return { record in point("after-pass-\(record.index)") }
    }

    /// `target` itself, or a wrapper that pauses at `verify` when hooks are installed.
    static func wrap(_ target: any WipeTarget) -> any WipeTarget {
        isEnabled ? VerifyPausingTarget(base: target) : target
    }
}

/// Forwards everything to `base`; holds every read at the first read of the armed pass's
/// verification (the first read after that pass's flush), so no I/O thread runs on.
final class VerifyPausingTarget: WipeTarget, Sendable {
    let base: any WipeTarget
    private let state = Mutex<(flushes: Int, done: Bool)>((0, false))

    init(base: any WipeTarget) { self.base = base }

    var name: String { base.name }
    var sizeInBytes: UInt64 { base.sizeInBytes }
    var logicalSectorSize: Int { base.logicalSectorSize }
    var bufferAlignment: Int { base.bufferAlignment }
    var supportsConcurrentIO: Bool { base.supportsConcurrentIO }

    func write(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws(WipeTargetError) {
        try base.write(buffer, at: offset)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(WipeTargetError) {
        if !state.withLock({ $0.done }) {
            // The lock is held through the pause: the other readers wait behind it.
            state.withLock { state in
                guard !state.done, let armed = TestPause.armed("verify") else { return }
                if let pass = Int(armed), pass != state.flushes { return }
                state.done = true
                TestPause.point("verify")
            }
        }
        try base.read(into: buffer, at: offset)
    }

    func flush() throws(WipeTargetError) {
        try base.flush()
        state.withLock { $0.flushes += 1 }
    }

    func checkIdentity() throws(WipeTargetError) { try base.checkIdentity() }
}
