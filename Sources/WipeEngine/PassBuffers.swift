import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How many jobs run in this process now (`JobRunner.run` counts itself in and out): each
/// phase's I/O threads are cut to share `WipeOptions.processIOThreadBudget` among them.
enum RunningJobs {
    private static let running = Atomic<Int>(0)

    static var count: Int { running.load(ordering: .relaxed) }
    static func begin() { running.add(1, ordering: .relaxed) }
    static func end() { running.subtract(1, ordering: .relaxed) }
}

/// Runs `body` on a new thread (never the Swift concurrency pool) and lets the caller wait for it.
final class WorkerThread: Sendable {
    private let done = DispatchSemaphore(value: 0)

    init(name: String, _ body: @escaping @Sendable () -> Void) {
        let done = self.done
        let thread = Thread {
            body()
            done.signal()
        }
        thread.name = name
        thread.start()
    }

    func join() { done.wait() }
}

extension AlignedBuffer {
    /// Transparent huge pages are 2 MiB on x86-64 and arm64 (4 KiB base pages).
    static let hugePageSize = 2 << 20

    /// A buffer for the large reads and writes of a pass. When its size is a whole number of
    /// huge pages it is aligned to them and marked `MADV_HUGEPAGE`, so the kernel can back it
    /// with 2 MiB pages (this machine's THP mode is `madvise`): each `O_DIRECT` I/O then pins
    /// two pages instead of 1,024 and the comparisons walk fewer TLB entries. Measured with
    /// bench/ab.sh (verification read of a 2 GiB tmpfs-backed loop device, 10 interleaved
    /// rounds): +8 % median, faster in every round. Smaller buffers, and kernels without THP,
    /// get ordinary pages; the advice never changes what the buffer holds.
    static func forLargeIO(count: Int, alignment: Int) -> AlignedBuffer {
        guard count >= hugePageSize, count % hugePageSize == 0, alignment <= hugePageSize else {
            return AlignedBuffer(count: count, alignment: alignment)
        }
        let buffer = AlignedBuffer(count: count, alignment: hugePageSize)
        #if os(Linux)
        // Advice only: an error (no THP support) leaves ordinary pages, which work the same.
        _ = madvise(buffer.pointer, count, MADV_HUGEPAGE)
        #endif
        return buffer
    }
}

/// Pre-filled pattern buffers shared by every job of the process that writes the same
/// pattern with the same piece size: with several drives wiped at once, their writers all
/// send one cache-resident buffer instead of one copy per drive. A buffer lives while a job
/// holds it (the table keeps weak references only), and is never written after its fill.
enum SharedPatternBuffers {
    private struct Key: Hashable {
        let pattern: [UInt8]
        let count: Int
        let alignment: Int
    }

    private final class WeakBuffer: @unchecked Sendable {
        // Only touched under `table`'s lock.
        weak var buffer: AlignedBuffer?
        init(_ buffer: AlignedBuffer) { self.buffer = buffer }
    }

    private static let table = Mutex<[Key: WeakBuffer]>([:])

    /// The shared buffer of `count` bytes of `pattern`, made and filled by `fill` on first use.
    static func buffer(pattern: [UInt8], count: Int, alignment: Int, fill: (AlignedBuffer) -> Void) -> AlignedBuffer {
        let key = Key(pattern: pattern, count: count, alignment: alignment)
        return table.withLock { table in
            if let existing = table[key]?.buffer { return existing }
            let buffer = AlignedBuffer(count: count, alignment: alignment)
            fill(buffer)
            table = table.filter { $0.value.buffer != nil }
            table[key] = WeakBuffer(buffer)
            return buffer
        }
    }
}
