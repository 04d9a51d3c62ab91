import ArdoiseSupport
import Foundation
import Synchronization

/// One wipe of one target with one profile, on its own thread.
///
/// ```swift
/// let library = try ProfileLibrary.loadStandard()
/// let job = try WipeJob(profile: library.requireProfile(named: "dod-5220-22m"), target: target)
/// job.start()
/// for await event in job.events { … }        // progress, passes, then .jobFinished(report)
/// let report = await job.report
/// ```
public final class WipeJob: Sendable {
    public let profile: WipeProfile
    public let target: any WipeTarget
    public let options: WipeOptions
    /// The passes as they will run (order and random choices fixed by the seed).
    public let plannedPasses: [PlannedPass]
    /// Events in order; finishes after `.jobFinished`. Unbounded: progress is rate-limited.
    public let events: AsyncStream<WipeEvent>

    private let continuation: AsyncStream<WipeEvent>.Continuation
    private let cancelled = Atomic<Bool>(false)
    private let state = Mutex(State())

    private struct State {
        var started = false
        var report: WipeReport?
        var waiters: [CheckedContinuation<WipeReport, Never>] = []
    }

    /// Checks that the target and options can be driven; nothing is read or written yet.
    ///
    /// - Throws: `WipeEngineError` `.emptyTarget` for a zero-byte target, `.invalidTarget`
    ///   for a size or sector size the engine cannot drive, `.invalidOptions`.
    public init(profile: WipeProfile, target: any WipeTarget, options: WipeOptions = WipeOptions()) throws(WipeEngineError) {
        let sector = target.logicalSectorSize
        guard target.sizeInBytes > 0 else {
            throw WipeEngineError(
                code: .emptyTarget,
                message: LocalizedText(fr: "la cible \(target.name) fait 0 octet : rien à effacer ni à certifier",
                                       en: "target \(target.name) has 0 bytes: nothing to wipe or certify"),
                file: target.name)
        }
        guard sector >= 512, sector <= 65536, sector & (sector - 1) == 0 else {
            throw WipeEngineError(code: .invalidTarget, message: LocalizedText(
                fr: "taille de secteur \(sector) non prise en charge (puissance de 2 entre 512 et 65536)",
                en: "unsupported sector size \(sector) (power of 2 from 512 to 65536)"), file: target.name)
        }
        guard target.sizeInBytes % UInt64(sector) == 0 else {
            throw WipeEngineError(code: .invalidTarget, message: LocalizedText(
                fr: "la taille \(target.sizeInBytes) n'est pas un multiple du secteur (\(sector) octets)",
                en: "size \(target.sizeInBytes) is not a multiple of the sector (\(sector) bytes)"), file: target.name)
        }
        let alignment = target.bufferAlignment
        guard alignment > 0, alignment & (alignment - 1) == 0, alignment <= 1 << 20 else {
            throw WipeEngineError(code: .invalidTarget, message: LocalizedText(
                fr: "alignement de tampon \(alignment) invalide", en: "invalid buffer alignment \(alignment)"), file: target.name)
        }
        guard WipeOptions.allowedBufferSizes.contains(options.bufferSize),
              options.bufferSize % max(4096, sector) == 0 else {
            throw WipeEngineError(code: .invalidOptions, message: LocalizedText(
                fr: "taille de tampon \(options.bufferSize) hors limites (1 à 8 Mio, multiple de 4096 et du secteur)",
                en: "buffer size \(options.bufferSize) out of range (1 to 8 MiB, a multiple of 4096 and of the sector)"),
                field: "bufferSize")
        }
        guard !options.seed.isEmpty else {
            throw WipeEngineError(code: .invalidOptions, message: LocalizedText(fr: "graine vide", en: "empty seed"), field: "seed")
        }
        self.profile = profile
        self.target = target
        self.options = options
        plannedPasses = PassPlanner.plan(profile: profile, seed: options.seed)
        (events, continuation) = AsyncStream.makeStream(of: WipeEvent.self, bufferingPolicy: .unbounded)
    }

    /// Starts the job on a new dedicated thread (never the concurrency pool). Calling it twice does nothing.
    /// - Parameter gate: shared by the jobs started together: this one does its first I/O
    ///   only when all of them are ready (`StartGate`).
    public func start(gate: StartGate? = nil) {
        guard claimStart() else {
            gate?.arrive()
            return
        }
        _ = WorkerThread(name: "ardoise-job") { [self] in
            execute(gate: gate)
        }
    }

    /// Runs the job on the calling thread and returns its report. Blocks for the whole wipe:
    /// call it from a dedicated thread, never from a Swift concurrency task.
    /// If the job was already started, waits for that run's report instead.
    public func runBlocking() -> WipeReport {
        if claimStart() { return execute() }
        let semaphore = DispatchSemaphore(value: 0)
        let box = ReportBox()
        Task.detached { [self] in
            box.report = await report
            semaphore.signal()
        }
        semaphore.wait()
        return box.report!
    }

    /// Asks the job to stop; it ends as interrupted(cancelled) after the I/O in progress.
    public func cancel() {
        cancelled.store(true, ordering: .relaxed)
    }

    public var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    /// The final report, once the job has finished (waits without blocking a thread).
    public var report: WipeReport {
        get async {
            await withCheckedContinuation { (waiter: CheckedContinuation<WipeReport, Never>) in
                let ready: WipeReport? = state.withLock { state in
                    if let report = state.report { return report }
                    state.waiters.append(waiter)
                    return nil
                }
                if let ready { waiter.resume(returning: ready) }
            }
        }
    }

    private func claimStart() -> Bool {
        state.withLock { state in
            if state.started { return false }
            state.started = true
            return true
        }
    }

    /// The firmware step on the job's thread: refused without a purger (an image file or a
    /// loop device has no firmware), skipped when cancelled before it starts.
    private func runFirmwareStep(_ step: FirmwareStep) -> FirmwarePurgeRecord {
        guard !isCancelled else {
            return .failed(LocalizedText(fr: "arrêté avant l'effacement par le firmware", en: "stopped before the firmware erase"))
        }
        guard let purger = options.firmwarePurger else {
            return .failed(LocalizedText(
                fr: "le profil \(profile.name) efface par le firmware du disque, et \(target.name) n'offre pas de commande firmware (image, disque virtuel ou pont USB sans pass-through) : rien n'a été effacé",
                en: "profile \(profile.name) erases with the drive's firmware, and \(target.name) offers no firmware command (image, virtual disk or USB bridge without pass-through): nothing was erased"))
        }
        let continuation = self.continuation
        return purger.purge(target: target, step: step, seed: options.seed) { continuation.yield(.firmwareProgress($0)) }
    }

    @discardableResult
    private func execute(gate: StartGate? = nil) -> WipeReport {
        let startedAt = Date()
        let continuation = self.continuation
        var plan = plannedPasses
        var runProfile = profile
        var firmware: FirmwarePurgeRecord?
        var gate = gate
        if let step = profile.firmware {
            // The drive's own erase runs at its own pace: nothing to line up with the others.
            gate?.arrive()
            gate = nil
            let record = runFirmwareStep(step)
            firmware = record
            continuation.yield(.firmwareFinished(record))
            switch record.outcome {
            case .purged:
                if !step.finalOverwrite { plan = [] }
            case .overwriteFallback:
                // Overwriting a drive is NIST Clear, whatever the profile hoped for.
                runProfile.nistCategory = .clear
            case .failed:
                plan = []
            }
        }
        let runner = JobRunner(
            profile: runProfile, target: target, options: options, plan: plan, startGate: gate,
            isCancelled: { [self] in isCancelled },
            emit: { continuation.yield($0) })
        var report = runner.run()
        if let firmware {
            report.firmware = firmware
            report.startedAt = min(report.startedAt, startedAt)
            if firmware.outcome == .failed, case .completed = report.status {
                report.status = isCancelled
                    ? .interrupted(WipeStopReason(code: .cancelled, message: LocalizedText(fr: "arrêté avant la fin", en: "stopped before the end")))
                    : .failed(WipeStopReason(code: .firmwareEraseFailed, message: firmware.reason))
            }
        }
        continuation.yield(.jobFinished(report))
        continuation.finish()
        let waiters = state.withLock { state in
            state.report = report
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: report) }
        return report
    }
}

/// Carries a report from a detached task to a blocked thread; written once before the semaphore signal.
private final class ReportBox: @unchecked Sendable {
    var report: WipeReport?
}
