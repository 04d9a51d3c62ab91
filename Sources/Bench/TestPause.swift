import Foundation
import Synchronization
import WipeEngine

/// Points where a test can hold a job, so that a drive can be pulled (or a job cancelled) at
/// an exact moment: `health` (the daemon's job, before its SMART health check), `after-pass-K`
/// (pass K done and verified, before pass K+1), `verify` (the first read of a verification),
/// `certificate` (the job is recorded as finished, its certificate not yet written).
///
/// Hooks are a value the caller gives to the job (`ErasureContext.pauseHooks`, filled by
/// `BenchDaemon(pauseHooks:)`): the shipped `ardoise` gives none, and nothing it reads (file,
/// environment, socket) can give any, so these points are inert in it. A test program
/// (`ardoise-testbed`, which the daemon harness runs) passes its own.
public protocol JobPauseHooks: Sendable {
    /// Whether `point` is armed now: nil when not, else what the test said about it (for
    /// `verify`: the pass number, or empty for any pass).
    func armed(_ point: String) -> String?
    /// The job reached the armed `point`: hold it here (blocking the job's own thread) until
    /// the test lets it go.
    func reached(_ point: String)
}

/// One job's pause points, as `ErasureSession`, the daemon and the engine's wrappers call
/// them: inert without hooks.
struct TestPause: Sendable {
    let hooks: (any JobPauseHooks)?

    init(_ hooks: (any JobPauseHooks)?) { self.hooks = hooks }

    var isEnabled: Bool { hooks != nil }

    /// What the hooks say of `name` when it is armed, nil otherwise.
    func armed(_ name: String) -> String? {
        hooks?.armed(name)
    }

    /// Pauses here if `name` is armed. Blocks the calling thread: only from a job's own
    /// threads or blocking work, never from the concurrency pool.
    func point(_ name: String) {
        guard let hooks, hooks.armed(name) != nil else { return }
        hooks.reached(name)
    }

    /// The engine's pass hook for `after-pass-K`, nil without hooks.
    var passHook: (@Sendable (WipeEngine.PassRecord) -> Void)? {
        guard isEnabled else { return nil }
        return { [self] record in point("after-pass-\(record.index)") }
    }

    /// `target` itself, or a wrapper that pauses at `verify` when there are hooks.
    func wrap(_ target: any WipeTarget) -> any WipeTarget {
        isEnabled ? VerifyPausingTarget(base: target, pause: self) : target
    }
}

/// Forwards everything to `base`; holds every read at the first read of the armed pass's
/// verification (the first read after that pass's flush), so no I/O thread runs on.
final class VerifyPausingTarget: WipeTarget, Sendable {
    let base: any WipeTarget
    private let pause: TestPause
    private let state = Mutex<(flushes: Int, done: Bool)>((0, false))

    init(base: any WipeTarget, pause: TestPause) {
        self.base = base
        self.pause = pause
    }

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
                guard !state.done, let armed = pause.armed("verify") else { return }
                if let pass = Int(armed), pass != state.flushes { return }
                state.done = true
                pause.point("verify")
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
