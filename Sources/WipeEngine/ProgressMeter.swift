import ArdoiseSupport
import Crypto
import Foundation
import Synchronization

func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
func lcm(_ a: Int, _ b: Int) -> Int { a / gcd(a, b) * b }

/// Rate-limited progress events for one job.
struct ProgressMeter {
    let totalWork: UInt64
    let passCount: Int
    let interval: Double
    let emit: @Sendable (WipeEvent) -> Void
    private let clock = ContinuousClock()
    private let jobStart: ContinuousClock.Instant
    private var workDoneBefore: UInt64 = 0
    private var pass = 0
    private var phase = WipeProgress.Phase.writing
    private var total: UInt64 = 0
    private var done: UInt64 = 0
    private var phaseStart: ContinuousClock.Instant
    private var lastEmit: ContinuousClock.Instant
    private var lastDone: UInt64 = 0
    private var countsTowardTotal = true

    init(totalWork: UInt64, passCount: Int, interval: Double, emit: @escaping @Sendable (WipeEvent) -> Void) {
        self.totalWork = totalWork
        self.passCount = passCount
        self.interval = interval
        self.emit = emit
        jobStart = clock.now
        phaseStart = jobStart
        lastEmit = jobStart
    }

    /// `countsTowardTotal` is false for sampled reads, whose size is not in `totalWork`.
    mutating func beginPhase(pass: Int, phase: WipeProgress.Phase, total: UInt64, countsTowardTotal: Bool = true) {
        if self.countsTowardTotal { workDoneBefore += done }
        self.pass = pass
        self.phase = phase
        self.total = total
        self.countsTowardTotal = countsTowardTotal
        done = 0
        lastDone = 0
        phaseStart = clock.now
        lastEmit = phaseStart
    }

    mutating func advance(_ bytes: UInt64) {
        done += bytes
        let now = clock.now
        let sinceLast = (now - lastEmit).seconds
        guard sinceLast >= interval || done == total else { return }
        let phaseSeconds = (now - phaseStart).seconds
        let average = phaseSeconds > 0 ? Double(done) / phaseSeconds : 0
        let current = sinceLast > 0 ? Double(done - lastDone) / sinceLast : average
        let overallDone = min(totalWork, workDoneBefore + (countsTowardTotal ? done : 0))
        let jobSeconds = (now - jobStart).seconds
        let jobRate = jobSeconds > 0 ? Double(overallDone) / jobSeconds : 0
        let progress = WipeProgress(
            pass: pass, passCount: passCount, phase: phase, bytesDone: done, bytesTotal: total,
            currentBytesPerSecond: current, averageBytesPerSecond: average,
            phaseETASeconds: average > 0 ? Double(total - min(done, total)) / average : nil,
            overallBytesDone: overallDone, overallBytesTotal: totalWork,
            overallFraction: totalWork > 0 ? Double(overallDone) / Double(totalWork) : 1,
            overallETASeconds: jobRate > 0 ? Double(totalWork - overallDone) / jobRate : nil)
        emit(.progress(progress))
        lastEmit = now
        lastDone = done
    }
}
