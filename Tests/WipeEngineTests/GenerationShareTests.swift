import Foundation
import Synchronization
import Testing
@testable import WipeEngine

/// How the cores that generate data are shared among stream passes (issue 15: no drive
/// starves when 16 run at once): free slots are taken at once, a freed slot goes to the
/// pass that has generated least, and a pass that joins late starts level with the others.
@Suite struct GenerationShareTests {
    @Test func freeSlotsAreTakenWithoutWaiting() {
        let share = GenerationShare(slots: 2)
        let account = share.join()
        share.acquire(account, bytes: 10)
        share.acquire(account, bytes: 5)
        #expect(share.waitingCount == 0)
        #expect(share.virtualTime(of: account) == 15)
        share.release()
        share.release()
        share.leave(account)
        #expect(share.virtualTime(of: account) == nil)
    }

    @Test func aFreedSlotGoesToThePassThatGeneratedLeast() async throws {
        let share = GenerationShare(slots: 1)
        let holder = share.join(), ahead = share.join(), behind = share.join()
        share.acquire(ahead, bytes: 1_000)
        share.release()
        share.acquire(behind, bytes: 10)
        share.release()

        share.acquire(holder, bytes: 1)
        let order = Mutex<[String]>([])
        // Queued in the unfavourable order: the pass that is ahead asks first.
        let first = WorkerThread(name: "ahead") {
            share.acquire(ahead, bytes: 1)
            order.withLock { $0.append("ahead") }
            share.release()
        }
        try await waitUntil { share.waitingCount == 1 }
        let second = WorkerThread(name: "behind") {
            share.acquire(behind, bytes: 1)
            order.withLock { $0.append("behind") }
            share.release()
        }
        try await waitUntil { share.waitingCount == 2 }
        share.release()
        first.join()
        second.join()
        #expect(order.withLock { $0 } == ["behind", "ahead"])
        #expect(share.waitingCount == 0)
    }

    @Test func aPassJoiningLateStartsAtTheLeastVirtualTimeOfThoseRunning() {
        let share = GenerationShare(slots: 2)
        let a = share.join(), b = share.join()
        share.acquire(a, bytes: 4_000)
        share.acquire(b, bytes: 3_000)
        share.release()
        share.release()
        let late = share.join()
        #expect(share.virtualTime(of: late) == 3_000)
        share.leave(a)
        share.leave(b)
        share.leave(late)
        // With nobody running, the next pass starts from zero.
        let alone = share.join()
        #expect(share.virtualTime(of: alone) == 0)
        share.leave(alone)
    }

    /// Eight writers of four passes on one slot: every acquire is served, every slot comes
    /// back, and each pass is charged exactly what it generated.
    @Test func manyWritersOnOneSlotAllFinish() {
        let share = GenerationShare(slots: 1)
        let accounts = (0..<4).map { _ in share.join() }
        let generated = Mutex([Int](repeating: 0, count: 4))
        let threads = (0..<8).map { index in
            WorkerThread(name: "writer-\(index)") {
                let account = accounts[index % 4]
                for _ in 0..<200 {
                    share.acquire(account, bytes: 4096)
                    generated.withLock { $0[index % 4] += 1 }
                    share.release()
                }
            }
        }
        threads.forEach { $0.join() }
        #expect(generated.withLock { $0 } == [400, 400, 400, 400])
        #expect(accounts.map { share.virtualTime(of: $0) } == Array(repeating: 400 * 4096, count: 4))
        #expect(share.waitingCount == 0)
        // Every slot came back: one more acquire does not wait.
        share.acquire(accounts[0], bytes: 1)
        share.release()
    }

    /// Polls a condition that no event announces (a thread reaching a queue), up to 10 s.
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
