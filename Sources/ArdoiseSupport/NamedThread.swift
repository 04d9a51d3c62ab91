import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Threads of our own (never the Swift concurrency pool), named for the kernel so that
/// `top -H`, `perf` and /proc tell them apart.
public enum NamedThread {
    /// Runs `body` on a new thread named `name`.
    public static func start(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread {
            nameCurrent(name)
            body()
        }
        thread.name = name
        thread.start()
    }

    /// Names the calling thread (Linux keeps 15 bytes). On Linux, Foundation's `Thread.name`
    /// does not reach the kernel: without this a thread keeps its creator's name, most often
    /// "com.apple.root.default-qos" cut to 15, and a profile cannot tell a certificate being
    /// rendered from the concurrency pool.
    public static func nameCurrent(_ name: String) {
        #if os(Linux)
        // pthread_setname_np is a GNU extension Glibc's Swift module does not export; the
        // kernel's own interface is this file. Best effort: a failure leaves the old name.
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        #endif
    }
}
