import ArdoiseSupport
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
        NamedThread.start(name) {
            Self.lowerCurrentThreadPriority()
            body()
            done.signal()
        }
    }

    func join() { done.wait() }

    /// How much lower than the process's main thread the engine's threads run (nice steps).
    static let priorityStep: Int32 = 5

    /// The nice value of every engine thread: the main thread's plus `priorityStep`, at most
    /// 19 (on Linux, `getpriority(PRIO_PROCESS, pid)` reads the thread whose id is the pid).
    static let enginePriority: Int32? = niceValue(ofThread: id_t(getpid())).map { min($0 + priorityStep, 19) }

    /// The nice value of one thread (0: the calling one), or nil if it cannot be read
    /// (`getpriority` returns -1 both for an error and for nice -1, so errno tells them apart).
    static func niceValue(ofThread thread: id_t = 0) -> Int32? {
        #if os(Linux)
        errno = 0
        let value = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), thread)
        return errno == 0 ? value : nil
        #else
        return nil
        #endif
    }

    /// Runs the calling thread at `enginePriority`, never higher than it already is: the
    /// engine's threads (jobs, writers, readers) are bulk work, and whatever else runs on the
    /// bench PC answers first — the daemon's control socket and dashboard, a shell. On Linux
    /// nice belongs to the thread (`setpriority(PRIO_PROCESS, 0, …)` changes only the caller);
    /// a writer started by a job thread is already there and stays. Measured with a 16-drive
    /// PRNG daemon run on 2 cores (tmpfs loop devices, 4 interleaved rounds): control socket
    /// p50 5.8–7.8 → 3.3–4.1 ms, worst 26–61 → 13–15 ms; wipe rates the same (16, 4 and 1
    /// drives, PRNG and zero, within the rounds' spread). Best effort: a failure changes nothing.
    static func lowerCurrentThreadPriority() {
        #if os(Linux)
        guard let target = enginePriority, let current = niceValue(), current < target else { return }
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, target)
        #endif
    }
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
    ///
    /// The pages are touched here, before the phase's first I/O, so that whatever the kernel
    /// does to find them (a huge page to zero, memory to reclaim or compact) happens while the
    /// job sets up, before the jobs started with it go together (`StartGate`), not inside its
    /// first read. Measured after nwipe had run on sixteen other loop devices (16 drives read
    /// at once, 6 rounds): slowest/fastest job 1.55 with the pages faulted by the first read,
    /// 1.19 touched here (bench/results/2026-12-07-afternoon-analysis.md, section 6).
    static func forLargeIO(count: Int, alignment: Int) -> AlignedBuffer {
        guard count >= hugePageSize, count % hugePageSize == 0, alignment <= hugePageSize else {
            return AlignedBuffer(count: count, alignment: alignment).touchingEveryPage()
        }
        let buffer = AlignedBuffer(count: count, alignment: hugePageSize)
        #if os(Linux)
        // Advice only: an error (no THP support) leaves ordinary pages, which work the same.
        _ = madvise(buffer.pointer, count, MADV_HUGEPAGE)
        #endif
        return buffer.touchingEveryPage()
    }
}

extension AlignedBuffer {
    /// Writes a zero into every 4 KiB page, so that all of them are mapped now.
    func touchingEveryPage() -> AlignedBuffer {
        var offset = 0
        while offset < count {
            pointer.storeBytes(of: 0, toByteOffset: offset, as: UInt8.self)
            offset += 4096
        }
        return self
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
/// process, the way the kernel's fair scheduler shares a core among threads. Each pass has a
/// virtual time: the bytes it has generated. A writer that is about to generate a chunk goes
/// on at once unless its pass is more than `lead` bytes ahead of the least advanced pass
/// that also wants the CPU now (a writer of it generating or about to); then it waits until
/// that pass catches up or stops asking. A pass that comes back to the CPU after its writers
/// were all busy writing (or that has just started) is moved up to `lead` behind the least
/// advanced of the others, so waiting on a slow drive earns it no credit.
///
/// Why: with 16 PRNG passes on 2 cores the kernel shares the cores per thread among 32
/// writers and 16 loop workers, and some drives fell behind for the whole pass (slowest/
/// fastest job 1.4–1.9 over rounds; bench/results/2026-12-07-morning-analysis.md). A drive
/// slowed by its own hardware spends its time writing, not asking, so it never holds back the
/// others; only the CPU the process itself spends is shared, never a drive's own speed.
final class GenerationShare: @unchecked Sendable {
    /// Two 4 MiB chunks: 8 MiB ahead in a 512 MiB pass is 1.6 %. Measured on 16 × 512 MiB
    /// PRNG passes (tmpfs loop devices, 4 interleaved rounds), slowest/fastest job: 4 MiB
    /// 1.02–1.06, 8 MiB 1.02–1.04, 16 MiB 1.01–1.05, no share 1.42–1.86; the aggregate rate
    /// with a share was the same as without or up to 9 % higher.
    static let process = GenerationShare(lead: 8 << 20)

    /// One stream pass's place in the share (`join`), given back with `leave`.
    struct Account: Hashable, Sendable {
        fileprivate let id: Int
    }

    private struct Pass {
        var virtualTime: UInt64 = 0
        /// Its writers generating or waiting to.
        var asking = 0
    }

    /// How far, in bytes, a pass may run ahead of the least advanced one asking.
    let lead: UInt64
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var passes: [Account: Pass] = [:]
    private var nextID = 0
    private var waiters = 0

    init(lead: Int) {
        self.lead = UInt64(max(lead, 0))
    }

    func join() -> Account {
        condition.lock()
        defer { condition.unlock() }
        let account = Account(id: nextID)
        nextID += 1
        passes[account] = Pass()
        return account
    }

    func leave(_ account: Account) {
        condition.lock()
        passes.removeValue(forKey: account)
        condition.broadcast()
        condition.unlock()
    }

    /// Before generating `bytes` for `account`: waits while the pass is too far ahead, then
    /// charges the bytes. Each call is paired with a `release(account)` once generated.
    func acquire(_ account: Account, bytes: Int) {
        condition.lock()
        defer { condition.unlock() }
        guard passes[account] != nil else { return }
        if passes[account]!.asking == 0, let least = leastAsking(excluding: account), least > lead {
            passes[account]!.virtualTime = max(passes[account]!.virtualTime, least - lead)
        }
        passes[account]!.asking += 1
        while let least = leastAsking(excluding: nil), let own = passes[account], own.virtualTime > least + lead {
            waiters += 1
            condition.wait()
            waiters -= 1
        }
        guard passes[account] != nil else { return }
        let wasLeast = isLeastAsking(account)
        passes[account]!.virtualTime += UInt64(bytes)
        // Only the least advanced pass moving on can let a waiting one go.
        if wasLeast, waiters > 0 { condition.broadcast() }
    }

    func release(_ account: Account) {
        condition.lock()
        if passes[account] != nil {
            passes[account]!.asking -= 1
            // A pass that stops asking lets the waiting ones go if it was the least advanced.
            if passes[account]!.asking == 0, waiters > 0, isLeastAsking(account) { condition.broadcast() }
        }
        condition.unlock()
    }

    /// Whether no other pass asking is behind `account` (lock held).
    private func isLeastAsking(_ account: Account) -> Bool {
        guard let own = passes[account]?.virtualTime else { return false }
        return leastAsking(excluding: account).map { own <= $0 } ?? true
    }

    /// The least virtual time among the passes asking now (lock held).
    private func leastAsking(excluding excluded: Account?) -> UInt64? {
        passes.lazy.filter { $0.key != excluded && $0.value.asking > 0 }.map(\.value.virtualTime).min()
    }

    /// Writers waiting for their pass's turn now (for tests).
    var waitingCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return waiters
    }

    /// The bytes charged to `account` so far, nil once it left (for tests).
    func virtualTime(of account: Account) -> UInt64? {
        condition.lock()
        defer { condition.unlock() }
        return passes[account]?.virtualTime
    }
}
