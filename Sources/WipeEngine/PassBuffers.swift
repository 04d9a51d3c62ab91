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

/// The CPU that generated data costs, shared fairly among the stream passes running in the
/// process. A writer asks for one of `slots` (the cores) before it generates a chunk; while
/// a slot is free it takes it at once, so nothing waits unless every core is generating.
/// When writers queue, the freed slot goes to the pass that has generated the fewest bytes
/// (its virtual time), like the kernel's fair scheduler does for threads. A pass that joins
/// starts at the smallest virtual time of those running, so a drive plugged in late gets
/// its share from then on, not the bytes it missed.
///
/// Why: with 16 PRNG passes on 2 cores the kernel shares the cores per thread among 32
/// writers and 16 loop workers, and some drives fell behind for the whole pass (slowest/
/// fastest job 1.2–1.8 over rounds); with the slots handed this way, 1.01–1.02 at the same
/// aggregate rate (bench/results 2026-12-07 morning). A drive slowed by its own hardware
/// asks rarely, is first whenever it asks, and never holds back the others.
final class GenerationShare: Sendable {
    static let process = GenerationShare(slots: ProcessInfo.processInfo.activeProcessorCount)

    /// One stream pass's place in the share (`join`), given back with `leave`.
    struct Account: Hashable, Sendable {
        fileprivate let id: Int
    }

    private struct Waiter {
        let account: Account
        let wake: DispatchSemaphore
    }

    private struct State {
        var free: Int
        var nextID = 0
        var virtualTime: [Account: UInt64] = [:]
        var waiters: [Waiter] = []
    }

    private let state: Mutex<State>

    init(slots: Int) {
        state = Mutex(State(free: max(slots, 1)))
    }

    func join() -> Account {
        state.withLock { state in
            let account = Account(id: state.nextID)
            state.nextID += 1
            state.virtualTime[account] = state.virtualTime.values.min() ?? 0
            return account
        }
    }

    func leave(_ account: Account) {
        _ = state.withLock { $0.virtualTime.removeValue(forKey: account) }
    }

    /// Waits for a slot, then charges `bytes` to `account`; `release()` gives the slot back.
    func acquire(_ account: Account, bytes: Int) {
        let wake: DispatchSemaphore? = state.withLock { state in
            if state.free > 0, state.waiters.isEmpty {
                state.free -= 1
                state.virtualTime[account, default: 0] += UInt64(bytes)
                return nil
            }
            let waiter = Waiter(account: account, wake: DispatchSemaphore(value: 0))
            state.waiters.append(waiter)
            return waiter.wake
        }
        guard let wake else { return }
        wake.wait()
        // The slot was handed over by `release()`; charge it now.
        state.withLock { $0.virtualTime[account, default: 0] += UInt64(bytes) }
    }

    /// Writers queued for a slot now (for tests).
    var waitingCount: Int { state.withLock { $0.waiters.count } }

    /// The bytes charged to `account` so far, nil once it left (for tests).
    func virtualTime(of account: Account) -> UInt64? { state.withLock { $0.virtualTime[account] } }

    func release() {
        let next: DispatchSemaphore? = state.withLock { state in
            guard !state.waiters.isEmpty else {
                state.free += 1
                return nil
            }
            let times = state.virtualTime
            let index = state.waiters.indices.min { times[state.waiters[$0].account, default: 0] < times[state.waiters[$1].account, default: 0] }!
            return state.waiters.remove(at: index).wake
        }
        next?.signal()
    }
}
