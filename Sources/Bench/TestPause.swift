import Foundation
import Synchronization
import WipeEngine

/// Pause points for the daemon's fault tests, so that a drive can be pulled at an exact
/// moment (between two passes, during a verification, while the certificate is written).
///
/// Inert unless the daemon runs with `ARDOISE_TEST_PAUSE_DIR` set (a systemd unit never sets
/// it). Then a point named `N` pauses once if the file `N.arm` exists in that directory: the
/// daemon removes it, creates `N.reached`, and waits (at most two minutes) for `N.release`.
/// Points: `after-pass-K` (pass K done and verified, before pass K+1), `verify` (the first
/// read of a verification; `verify.arm` may hold the pass number, default any), `certificate`
/// (the job is recorded as finished, the certificate not yet written).
enum TestPause {
    static let directory: String? = ProcessInfo.processInfo.environment["ARDOISE_TEST_PAUSE_DIR"].flatMap { $0.isEmpty ? nil : $0 }

    static var isEnabled: Bool { directory != nil }

    /// The content of `name.arm` when the point is armed, nil otherwise. Does not disarm.
    static func armed(_ name: String) -> String? {
        guard let directory else { return nil }
        let path = (directory as NSString).appendingPathComponent("\(name).arm")
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Pauses here if `name` is armed. Blocks the calling thread: only from a job's own
    /// threads or blocking work, never from the concurrency pool.
    static func point(_ name: String) {
        guard let directory, armed(name) != nil else { return }
        let base = (directory as NSString).appendingPathComponent(name)
        try? FileManager.default.removeItem(atPath: base + ".arm")
        _ = FileManager.default.createFile(atPath: base + ".reached", contents: nil)
        FileHandle.standardError.write(Data("ardoise-daemon: test pause '\(name)' reached\n".utf8))
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: base + ".release"), Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
        FileHandle.standardError.write(Data("ardoise-daemon: test pause '\(name)' released\n".utf8))
    }

    /// The engine's pass hook for `after-pass-K`, nil when pauses are off.
    static var passHook: (@Sendable (WipeEngine.PassRecord) -> Void)? {
        guard isEnabled else { return nil }
        return { record in point("after-pass-\(record.index)") }
    }

    /// `target` itself, or a wrapper that pauses at `verify` when pauses are on.
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
