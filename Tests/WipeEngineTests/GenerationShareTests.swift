import Foundation
import Synchronization
import Testing
@testable import WipeEngine

/// How the CPU that generates streams is shared among passes (issue 15: no drive starves
/// when 16 run at once): a pass within the lead never waits, a pass too far ahead waits
/// until the least advanced one asking catches up or stops asking, and a pass that comes
/// back is placed just behind the others instead of keeping the credit of its absence.
@Suite struct GenerationShareTests {
    @Test func aPassWithinTheLeadNeverWaits() {
        let share = GenerationShare(lead: 100)
        let alone = share.join()
        for _ in 0..<3 {
            share.acquire(alone, bytes: 1_000)
            share.release(alone)
        }
        #expect(share.virtualTime(of: alone) == 3_000)
        let other = share.join()
        share.acquire(other, bytes: 50)
        share.acquire(other, bytes: 50)
        #expect(share.waitingCount == 0)
        share.release(other)
        share.release(other)
        share.leave(alone)
        share.leave(other)
        #expect(share.virtualTime(of: alone) == nil)
    }

    @Test func aPassTooFarAheadWaitsUntilTheOtherCatchesUp() async throws {
        let share = GenerationShare(lead: 100)
        let ahead = share.join(), behind = share.join()
        share.acquire(behind, bytes: 10)  // one writer of `behind` generating: it asks
        share.acquire(ahead, bytes: 150)
        share.release(ahead)
        let proceeded = Atomic<Bool>(false)
        let writer = WorkerThread(name: "ahead") {
            share.acquire(ahead, bytes: 10)
            proceeded.store(true, ordering: .sequentiallyConsistent)
            share.release(ahead)
        }
        try await waitUntil { share.waitingCount == 1 }
        let early = proceeded.load(ordering: .sequentiallyConsistent)
        #expect(!early)
        // The second writer of `behind` brings it to 60: 150 is within 100 of it.
        share.acquire(behind, bytes: 50)
        writer.join()
        let late = proceeded.load(ordering: .sequentiallyConsistent)
        #expect(late)
        #expect(share.virtualTime(of: ahead) == 160)
        share.release(behind)
        share.release(behind)
    }

    @Test func aPassThatStopsAskingOrLeavesNoLongerHoldsTheOthers() async throws {
        let share = GenerationShare(lead: 100)
        let ahead = share.join(), slow = share.join(), gone = share.join()
        share.acquire(ahead, bytes: 500)
        share.release(ahead)
        // Both others ask (a writer each, generating), far behind.
        share.acquire(slow, bytes: 10)
        share.acquire(gone, bytes: 10)
        let writer = WorkerThread(name: "ahead") {
            share.acquire(ahead, bytes: 1)
            share.release(ahead)
        }
        try await waitUntil { share.waitingCount == 1 }
        share.release(slow)  // its writer goes back to writing: it no longer asks
        try await waitUntil { share.waitingCount == 1 }  // still held by `gone`
        share.leave(gone)
        writer.join()
        #expect(share.waitingCount == 0)
        #expect(share.virtualTime(of: ahead) == 501)
    }

    @Test func aPassComingBackIsPlacedJustBehindTheLeastAdvancedOneAsking() {
        let share = GenerationShare(lead: 100)
        let running = share.join()
        share.acquire(running, bytes: 1_000)  // keeps asking
        let late = share.join()
        share.acquire(late, bytes: 10)
        #expect(share.virtualTime(of: late) == 910)  // 1,000 − 100, then its 10
        share.release(late)
        // Nobody else asking: it keeps what it has.
        share.release(running)
        share.acquire(late, bytes: 10)
        #expect(share.virtualTime(of: late) == 920)
        share.release(late)
    }

    /// Eight writers of four passes: every acquire is served and nobody is left waiting.
    @Test func manyWritersAllFinish() {
        let share = GenerationShare(lead: 8_192)
        let accounts = (0..<4).map { _ in share.join() }
        let generated = Mutex([Int](repeating: 0, count: 4))
        let threads = (0..<8).map { index in
            WorkerThread(name: "writer-\(index)") {
                let account = accounts[index % 4]
                for _ in 0..<200 {
                    share.acquire(account, bytes: 4_096)
                    generated.withLock { $0[index % 4] += 1 }
                    share.release(account)
                }
            }
        }
        threads.forEach { $0.join() }
        #expect(generated.withLock { $0 } == [400, 400, 400, 400])
        #expect(accounts.allSatisfy { (share.virtualTime(of: $0) ?? 0) >= 400 * 4_096 })
        #expect(share.waitingCount == 0)
        accounts.forEach(share.leave)
    }

    /// Polls a condition that no event announces (a thread reaching its wait), up to 10 s.
    private func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not reached within 10 s")
                return
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }
}

/// The engine's threads carry their names to the kernel (what `top -H` and `perf` show).
@Suite struct WorkerThreadNameTests {
    @Test func aWorkerThreadIsNamedForTheKernel() {
        let seen = Mutex("")
        let thread = WorkerThread(name: "ardoise-write-12345") {
            let comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
            seen.withLock { $0 = comm.trimmingCharacters(in: .whitespacesAndNewlines) }
        }
        thread.join()
        #expect(seen.withLock { $0 } == "ardoise-write-1")  // 15 bytes kept
    }

    /// Engine threads run 5 nice steps below the main thread, a writer started by a job
    /// thread included (not 10), and the thread that starts them keeps its own priority.
    @Test func workerThreadsRunBelowTheMainThread() {
        let main = WorkerThread.niceValue(ofThread: id_t(getpid()))
        #expect(main != nil)
        let before = WorkerThread.niceValue()
        let seen = Mutex<(outer: Int32?, inner: Int32?)>((nil, nil))
        let outer = WorkerThread(name: "ardoise-test") {
            let inner = WorkerThread(name: "ardoise-test-in") {
                let value = WorkerThread.niceValue()
                seen.withLock { $0.inner = value }
            }
            inner.join()
            let value = WorkerThread.niceValue()
            seen.withLock { $0.outer = value }
        }
        outer.join()
        let expected = main.map { min($0 + WorkerThread.priorityStep, 19) }
        #expect(seen.withLock { $0.outer } == expected)
        #expect(seen.withLock { $0.inner } == expected)
        #expect(WorkerThread.niceValue() == before)
    }
}
