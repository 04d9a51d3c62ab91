import Foundation
import Synchronization
import Testing
@testable import WipeEngine

/// The jobs one command starts together do their first I/O together (`StartGate`), and a job
/// that never gets to its I/O never holds the others.
@Suite struct StartGateTests {
    static let mebibyte = 1 << 20

    // The gates that must hold have an hour's timeout: under the whole suite on two cores a
    // 200 ms sleep has lasted over 60 s (CI, 2026-12-07), and a gate that times out lets go.
    @Test func gateOpensWhenEveryJobHasCome() async throws {
        let gate = StartGate(jobs: 3, timeout: 3600)
        let through = Atomic<Int>(0)
        let threads = (0..<2).map { _ in
            Thread {
                gate.arrive()
                gate.wait()
                through.add(1, ordering: .relaxed)
            }
        }
        threads.forEach { $0.start() }
        try await Task.sleep(for: .milliseconds(200))
        #expect(through.load(ordering: .relaxed) == 0)
        #expect(!gate.isOpen)
        gate.arrive()
        #expect(gate.isOpen)
        try await waitUntil { through.load(ordering: .relaxed) == 2 }
        // Open for good: a later wait returns at once.
        gate.wait()
    }

    /// A job stuck before its first I/O holds the others `timeout` seconds at most.
    @Test func gateLetsWaitersGoAfterItsTimeout() {
        let gate = StartGate(jobs: 2, timeout: 0.2)
        let start = Date()
        gate.arrive()
        gate.wait()
        #expect(Date().timeIntervalSince(start) >= 0.2)
        #expect(!gate.isOpen)
    }

    /// Job A, started alone on a gate of two, writes nothing until job B starts; then both
    /// erase their file.
    @Test func jobWaitsForTheJobsStartedWithIt() async throws {
        let profile = try builtInProfiles().requireProfile(named: "zero")
        let size = UInt64(2 * Self.mebibyte + 4096)
        let first = try TemporaryImage(size: size), second = try TemporaryImage(size: size)
        let marker = [UInt8](repeating: 0xA5, count: 4096)
        for image in [first, second] {
            try image.write(marker, at: 0)
            try image.write(marker, at: size - 4096)
        }
        let gate = StartGate(jobs: 2, timeout: 3600)
        let options = WipeOptions(bufferSize: Self.mebibyte, seed: testSeed)
        let jobA = try WipeJob(profile: profile, target: try FileWipeTarget(path: first.path, logicalSectorSize: 4096), options: options)
        let jobB = try WipeJob(profile: profile, target: try FileWipeTarget(path: second.path, logicalSectorSize: 4096), options: options)

        jobA.start(gate: gate)
        try await Task.sleep(for: .milliseconds(300))
        #expect(Array(try first.contents().prefix(4096)) == marker, "job A wrote before job B came")
        #expect(!gate.isOpen)

        jobB.start(gate: gate)
        let reportA = await jobA.report, reportB = await jobB.report
        #expect(reportA.status == .completed && reportB.status == .completed)
        #expect(gate.isOpen)
        #expect(try first.contents().allSatisfy { $0 == 0 })
        #expect(try second.contents().allSatisfy { $0 == 0 })
    }

    /// A job that stops before any I/O (here cancelled before it starts) still counts itself
    /// in: the other job runs without waiting for the gate's timeout.
    @Test func jobThatEndsBeforeItsIOStillComes() async throws {
        let profile = try builtInProfiles().requireProfile(named: "zero")
        let size = UInt64(Self.mebibyte)
        let first = try TemporaryImage(size: size), second = try TemporaryImage(size: size)
        let gate = StartGate(jobs: 2, timeout: 600)
        let options = WipeOptions(bufferSize: Self.mebibyte, seed: testSeed)
        let running = try WipeJob(profile: profile, target: try FileWipeTarget(path: first.path, logicalSectorSize: 4096), options: options)
        let cancelled = try WipeJob(profile: profile, target: try FileWipeTarget(path: second.path, logicalSectorSize: 4096), options: options)

        running.start(gate: gate)
        cancelled.cancel()
        cancelled.start(gate: gate)
        let stopped = await cancelled.report
        #expect(!stopped.succeeded)
        // Done long before the gate's 600 s: the cancelled job came.
        let report = await running.report
        #expect(report.status == .completed)
        #expect(gate.isOpen)
    }

    private func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<500 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
        #expect(condition())
    }
}
