import ArdoiseSupport
import Foundation

/// Runs blocking work (SQLite, PDF rendering, blkid probes) on a fresh thread and awaits it,
/// so the two threads of the concurrency pool never wait on I/O.
enum BlockingWork {
    static func run<T: Sendable>(_ name: String, _ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            NamedThread.start(name) {
                continuation.resume(returning: work())
            }
        }
    }
}
