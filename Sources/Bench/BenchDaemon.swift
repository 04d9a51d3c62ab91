import ArdoiseSupport
import Certificates
import DeviceKit
import Diagnostics
import Foundation
import Journal
import Logging
import StoreClient
import Synchronization
import WipeEngine

/// The bench: sees drives come and go, classifies them, erases the wipeable ones per policy
/// (each job on its own thread, up to the concurrency limit) and certifies the result.
///
/// Made of small parts: the `SlotTable` (what is on each node, its identity, state and job),
/// the `JobScheduler` (grace periods, queue, concurrency limit), the `JournalWriter` (SQLite
/// off the actor) and the `ChangeFeed` (who watches the bench). The actor applies hot-plug
/// events and job outcomes to them.
///
/// Every hot-plug event means "look at this node again": the node's medium is compared with
/// what the slot knew (diskseq and serial), so a removal, a re-plug and a swap on the same
/// node are told apart whatever action the kernel announced.
public actor BenchDaemon {
    public private(set) var config: BenchConfig
    private let configPath: String?
    private var library: ProfileLibrary
    let journal: JournalDatabase
    let writer: JournalWriter
    let key: BenchKey
    let scanner: DeviceScanner
    private(set) var table: SlotTable
    private(set) var scheduler: JobScheduler
    /// The running jobs' sessions, by their slot's generation (set once the drive is claimed).
    private var sessions: [UInt64: ErasureSession] = [:]
    /// Jobs the technician cancelled after they began but before their session existed (health
    /// check, claim): each ends `interrupted` (cancelled) before anything is claimed or written.
    private var cancelledBeforeErasure: Set<UInt64> = []
    /// One timer per grace period: it sleeps until the deadline, then starts the job.
    private var graceTimers: [UInt64: Task<Void, Never>] = [:]
    private let progress: ProgressBoard
    /// Signalled on every change of the bench (control socket `watch`).
    let changes: ChangeFeed
    private var stopping = false
    /// Who waits for the last running job to end (shutdown).
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    /// The health policy when `[health] check` is on (the default): each drive's health is read
    /// before its job.
    var healthPolicy: HealthPolicy?
    /// Sends the outbox to the store in the background (nil without `[store]`).
    private let outboxSender: OutboxSender?
    /// What the screen says about the outbox, refreshed after each round and each job.
    private var outboxStatus: OutboxStatus?
    /// One line per event (journald's format by default, see `JournaldLogHandler`).
    public nonisolated let logger: Logger
    /// Where a test holds the jobs (`JobPauseHooks`); nil in the shipped `ardoise`.
    let pauseHooks: (any JobPauseHooks)?

    /// What the journal says about a drive that arrives: did its last job on this bench stop
    /// before the end, and can that job be resumed.
    struct Replug: Sendable {
        var unfinished = false
        var resume: ResumePoint?
    }

    /// The daemon's default logger: `ardoise-daemon` lines on standard error for journald.
    public static func standardLogger() -> Logger {
        Logger(label: "ardoise-daemon") { JournaldLogHandler(label: $0) }
    }

    /// Takes the data directory's owner lock, opens the journal (jobs left running by a dead
    /// process become interrupted), the bench key and the profiles. Blocking: call before serving.
    /// - Parameter pauseHooks: the jobs' test pause points (`ardoise-testbed` only; the
    ///   shipped program passes none).
    /// - Throws: `JournalError` `.ownedByAnotherProcess` when another process owns the journal.
    public init(config: BenchConfig, configPath: String?, scanner: DeviceScanner = DeviceScanner(),
                logger: Logger = BenchDaemon.standardLogger(), pauseHooks: (any JobPauseHooks)? = nil) throws {
        self.config = config
        self.configPath = configPath
        self.scanner = scanner
        self.logger = logger
        self.pauseHooks = pauseHooks
        table = SlotTable(language: config.language)
        scheduler = JobScheduler(limit: config.maxConcurrentJobs)
        let feed = ChangeFeed()
        changes = feed
        progress = ProgressBoard(changes: feed)
        try DataDirectory.prepare(config.dataDirectory)
        // One owner per journal: a second daemon (or a running `ardoise wipe`) makes this throw
        // `.ownedByAnotherProcess`; the lock lives as long as the journal, i.e. the daemon.
        let owner = try JournalOwnerLock.acquire(dataDirectory: config.dataDirectory, role: .daemon)
        journal = try JournalDatabase(dataDirectory: config.dataDirectory, owner: owner)
        writer = JournalWriter(journal: journal)
        key = try BenchKey.loadOrCreate(dataDirectory: config.dataDirectory)
        library = try config.profileLibrary()
        // An invalid health policy stops the start-up with its file:line:field, like the profiles.
        healthPolicy = config.healthCheck ? try HealthPolicy.loadStandard(explicitPath: config.healthPolicyPath) : nil
        if let store = config.store {
            outboxSender = OutboxSender(journal: journal, transport: try HTTPStoreTransport(settings: store),
                                        tokenFile: store.tokenFile, retryPolicy: store.retryPolicy, language: config.language)
        } else {
            outboxSender = nil
        }
        outboxStatus = Self.outboxStatus(journal: journal, storeConfigured: config.store != nil)
    }

    // MARK: Outbox

    /// Runs the outbox sender until the task is cancelled; returns at once without `[store]`.
    public nonisolated func runOutboxSender(idlePoll: Duration = .seconds(30)) async {
        guard let outboxSender else { return }
        logger.info("sending the outbox to the store")
        await outboxSender.run(idlePoll: idlePoll) { [weak self] _ in
            Task { await self?.refreshOutboxStatus() }
        }
    }

    /// Whether `[store]` was configured at start (the sender runs).
    public nonisolated var sendsOutbox: Bool { outboxSender != nil }

    /// Closes the sender's connections (at shutdown).
    public func stopOutboxSender() async { await outboxSender?.shutdown() }

    func refreshOutboxStatus() async {
        let configured = outboxSender != nil
        let status = await writer.run { Self.outboxStatus(journal: $0, storeConfigured: configured) }
        if status != outboxStatus {
            outboxStatus = status
            changes.signal()
        }
    }

    static func outboxStatus(journal: JournalDatabase, storeConfigured: Bool) -> OutboxStatus? {
        guard let summary = try? journal.outboxSummary(), let parked = try? journal.parkedOutbox() else { return nil }
        return OutboxStatus(storeConfigured: storeConfigured, pending: summary.pending, parkedCount: summary.parked,
                            lastErrorCode: summary.lastErrorCode, lastError: summary.lastError, nextAttemptAt: summary.nextAttemptAt,
                            parked: parked.prefix(20).map {
                                OutboxStatus.Parked(kind: $0.kind.rawValue, recordID: $0.recordID.uuidString.lowercased(),
                                                    httpStatus: $0.parkedHTTPStatus, code: $0.parkedCode, message: $0.parkedMessage)
                            })
    }

    /// Names of the profiles the bench knows (to validate a configuration).
    public var profileNames: Set<String> { Set(library.profiles.map(\.name)) }

    // MARK: Hot-plug

    /// Looks at every whole disk once (start-up: drives still attached after a crash are
    /// handled per policy like new ones).
    public func initialScan() async {
        let names = await BlockingWork.run("ardoise-scan") { [scanner] in scanner.reader.blockDeviceNames() }
        for name in names { await reconcile(name) }
    }

    /// Re-reads one node and updates its slot: arrival, removal, swap, or nothing.
    public func reconcile(_ name: String) async {
        guard !stopping else { return }
        let policy = safetyPolicy
        // What the journal knows of a new medium is read in the same blocking work as the scan,
        // so the slot is updated from one consistent look at the node.
        let known = table[name]?.info
        let (journal, library, action) = (journal, library, config.onReplug)
        let (info, replug) = await BlockingWork.run("ardoise-scan") { [scanner] () -> (BlockDeviceInfo?, Replug) in
            let info = scanner.scan(policy: policy, probing: [name]).first { $0.name == name }
            guard let info, info.sizeInBytes > 0, !(known.map { Self.sameMedium($0, info) } ?? false) else { return (info, Replug()) }
            return (info, Self.replugCheck(info, journal: journal, library: library, action: action))
        }
        guard !stopping else { return }
        let present = info.map { $0.sizeInBytes > 0 } ?? false
        if let slot = table[name] {
            if let info, present, Self.sameMedium(slot.info, info) {
                refreshVerdict(name, info)
                return
            }
            mediumLeft(name)
        }
        if let info, present { arrived(info, replug: replug) }
    }

    /// Looks the drive up in the journal by identity (serial, model, size: not diskseq, which
    /// changes with every plug). A drive without a stable identity is always new. Blocking.
    static func replugCheck(_ info: BlockDeviceInfo, journal: JournalDatabase, library: ProfileLibrary,
                            action: BenchConfig.ReplugAction) -> Replug {
        guard case .wipeable = info.verdict else { return Replug() }
        let medium = MediumDescription(device: info)
        guard medium.hasStableIdentity else { return Replug() }
        let jobs = (try? journal.jobs(driveSerial: medium.serial, model: medium.model,
                                      sizeInBytes: Int64(medium.sizeInBytes), wwn: medium.wwn)) ?? []
        let unfinished = jobs.last?.status == .interrupted
        guard unfinished, action != .restart else { return Replug(unfinished: unfinished) }
        return Replug(unfinished: true, resume: (try? ResumePoint.find(for: medium, journal: journal, library: library)) ?? nil)
    }

    static func sameMedium(_ old: BlockDeviceInfo, _ new: BlockDeviceInfo) -> Bool {
        old.diskSequence == new.diskSequence && old.serial == new.serial && old.sizeInBytes == new.sizeInBytes
    }

    private var safetyPolicy: SafetyPolicy {
        SafetyPolicy(allowVirtual: config.allowVirtual, dataDirectory: config.dataDirectory,
                     loopBackingDirectory: config.loopBackingDirectory)
    }

    private func arrived(_ info: BlockDeviceInfo, replug: Replug = Replug()) {
        var status = SlotStatus(device: info.path, model: MediumDescription(device: info).model, serial: info.serial, sizeInBytes: info.sizeInBytes,
                                transport: info.transport.rawValue, diskSequence: info.diskSequence, state: .waiting)
        let language = config.language
        if case .protected(let reasons) = info.verdict {
            status.state = .protected
            status.reason = reasons.map { $0.message.text(in: language) }.joined(separator: ", ")
            status.reasonCodes = reasons.map(\.key)
        } else if !transportAllowed(info) {
            status.state = .protected
            status.reasonCodes = ["transport-not-allowed"]
            status.reason = LocalizedText(fr: "transport \(info.transport.rawValue) non autorisé par la configuration",
                                          en: "transport \(info.transport.rawValue) not allowed by the configuration").text(in: language)
        } else {
            status.profile = config.profileName(for: info)
            if let resume = replug.resume {
                status.resumable = resume.offer
                status.reason = Self.resumeText(resume.offer, action: config.onReplug).text(in: language)
            }
        }
        let generation = table.arrive(info, status: status, resume: replug.resume,
                                      useResume: replug.resume != nil && config.onReplug == .resume)
        var metadata: Logger.Metadata = ["device": "\(info.path)", "state": "\(status.state.rawValue)", "slot": "\(generation)",
                                         "diskseq": "\(info.diskSequence.map(String.init) ?? "-")", "serial": "\(info.serial ?? "-")"]
        if let codes = status.reasonCodes { metadata["reasons"] = "\(codes.joined(separator: ","))" }
        if let reason = status.reason { metadata["reason"] = "\(reason)" }
        logger.info("slot arrived", metadata: metadata)
        changes.signal()
        guard status.state == .waiting else { return }
        if config.policy == .auto && !(config.onReplug == .ask && replug.unfinished) {
            startGrace(generation)
        }
    }

    /// The choice a re-plugged drive offers, in the slot's reason.
    static func resumeText(_ offer: ResumeOffer, action: BenchConfig.ReplugAction) -> LocalizedText {
        let next = "\(offer.completedPasses + 1)/\(offer.passCount)"
        let job = String(offer.jobID.prefix(8))
        if action == .resume {
            return LocalizedText(fr: "reprise à la passe \(next) (tâche \(job))", en: "resuming at pass \(next) (job \(job))")
        }
        return LocalizedText(fr: "reprise à la passe \(next) ? start --resume ou --restart",
                             en: "resume at pass \(next)? start --resume or --restart")
    }

    private func transportAllowed(_ info: BlockDeviceInfo) -> Bool {
        config.allowedTransports.contains(info.transport.rawValue) || (info.transport == .loop && config.allowVirtual)
    }

    private func refreshVerdict(_ name: String, _ info: BlockDeviceInfo) {
        guard let slot = table[name], case .protected(let reasons) = info.verdict,
              table.becameProtected(name, info: info, reasons: reasons) else { return }
        withdraw(slot.generation)
        logger.info("slot protected", metadata: ["device": "\(info.path)", "slot": "\(slot.generation)",
                                                 "reasons": "\(reasons.map(\.key).joined(separator: ","))"])
        changes.signal()
    }

    /// What a removed slot says of its job: the job's final state and its reason, without
    /// saying "drive removed" a second time beside the state "removed".
    static func reasonAfterRemoval(state: SlotState, reason: String?, language: Language) -> String {
        let removal = LocalizedText(fr: "disque retiré", en: "drive removed").text(in: language)
        return [state.label.text(in: language), reason == removal ? nil : reason].compactMap { $0 }.joined(separator: " — ")
    }

    private func mediumLeft(_ name: String) {
        // A detach brings several uevents: the first one settles the slot.
        let path = table[name]?.info.path ?? name
        switch table.mediumLeft(name) {
        case .nothing:
            return
        case .removed(let generation):
            withdraw(generation)
            logger.info("slot removed", metadata: ["device": "\(path)", "slot": "\(generation)"])
        case .stopJob(let generation):
            // The job stops at its next I/O or identity check and ends interrupted.
            sessions[generation]?.driveRemoved()
            logger.notice("drive removed during its job, stopping it", metadata: ["device": "\(path)", "slot": "\(generation)"])
        }
        changes.signal()
    }

    // MARK: Scheduling

    /// Starts the grace period: one timer sleeps until its end, then the job is accepted.
    private func startGrace(_ generation: UInt64) {
        let seconds = config.graceSeconds
        scheduler.startGrace(generation, seconds: seconds, now: Date())
        graceTimers[generation]?.cancel()
        graceTimers[generation] = Task { [weak self] in
            try? await Task.sleep(for: .seconds(seconds))
            guard !Task.isCancelled else { return }
            await self?.graceEnded(generation)
        }
    }

    private func graceEnded(_ generation: UInt64) {
        graceTimers[generation] = nil
        guard scheduler.endGrace(generation), let name = table.name(of: generation) else { return }
        _ = accept(name, generation: generation)
    }

    /// Forgets a job that has not started: its timer, grace period and queue place.
    private func withdraw(_ generation: UInt64) {
        graceTimers.removeValue(forKey: generation)?.cancel()
        scheduler.withdraw(generation)
    }

    /// Accepts the slot's job (queued) and starts what the limit allows.
    private func accept(_ name: String, generation: UInt64) -> Bool {
        graceTimers.removeValue(forKey: generation)?.cancel()
        guard !stopping, table.accept(name, generation: generation) else { return false }
        scheduler.enqueue(generation)
        changes.signal()
        pump()
        return true
    }

    private func pump() {
        while true {
            let batch = scheduler.jobsToStart()
            guard !batch.isEmpty else { return }
            for generation in batch {
                guard table.begin(generation: generation) else {
                    scheduler.finished(generation)
                    continue
                }
                changes.signal()
                Task { await self.runJob(generation) }
            }
        }
    }

    /// A job's end, whatever it was: its place is free, and a shutdown may be waiting for it.
    private func jobEnded(_ generation: UInt64) {
        sessions[generation] = nil
        cancelledBeforeErasure.remove(generation)
        progress.clear(generation)
        scheduler.finished(generation)
        changes.signal()
        if scheduler.isIdle {
            let waiters = idleWaiters
            idleWaiters.removeAll()
            for waiter in waiters { waiter.resume() }
        }
        pump()
    }

    private func runJob(_ generation: UInt64) async {
        defer { jobEnded(generation) }
        guard let name = table.name(of: generation), let slot = table[name], let profileName = slot.status.profile else { return }
        // Pulled between its acceptance and now: interrupted, nothing read or claimed.
        guard !slot.removed, !stopping else {
            finish(generation, state: .interrupted, reason: nil, certificate: nil)
            return
        }
        let context: ErasureContext
        let profile: WipeProfile
        // The journal is read again now: what was resumable at the plug may not be any more.
        var resume: ResumePoint?
        if slot.useResume {
            let (medium, library) = (MediumDescription(device: slot.info), library)
            resume = await writer.run { (try? ResumePoint.find(for: medium, journal: $0, library: library)) ?? nil }
            if resume == nil { logger.info("nothing to resume any more, the profile starts over", metadata: ["device": "\(slot.info.path)"]) }
        }
        table.update(generation: generation) {
            $0.useResume = false
            $0.status.resumable = nil
        }
        do {
            profile = try library.requireProfile(named: resume?.profileName ?? profileName)
            context = makeContext()
        } catch {
            finish(generation, state: .failed, reason: "\(error)", certificate: nil)
            return
        }
        let info = slot.info
        // Health first, read-only (smartctl): recorded with the job, or instead of it.
        var health: HealthReport?
        if let healthPolicy {
            let check = HealthCheck(policy: healthPolicy, runner: SmartctlRunner(executable: config.smartctlPath))
            // Up to smartctl's timeout on a hung bridge: the screen says what the bench is doing.
            let reading = LocalizedText(fr: "lecture de la santé (SMART)…", en: "reading health (SMART)…").text(in: config.language)
            table.update(generation: generation) { $0.status.reason = reading }
            changes.signal()
            let pause = TestPause(pauseHooks)
            health = await BlockingWork.run("ardoise-health") {
                pause.point("health")
                return try? check.run(device: info.path)
            }
            table.update(generation: generation) {
                $0.status.health = health?.verdict.rawValue
                if $0.status.reason == reading { $0.status.reason = nil }
            }
            changes.signal()
            if let health {
                logger.info("drive health", metadata: ["device": "\(info.path)", "verdict": "\(health.verdict.rawValue)",
                                                       "reasons": "\(health.reasons.map(\.code).joined(separator: ","))"])
            }
            if await endIfCancelledBeforeErasure(generation, info: info, stage: "health-check", health: health) { return }
            if let health, health.verdict == .discard, config.onDiscard == .skipAndMark {
                let medium = MediumDescription(device: info)
                await writer.run {
                    _ = try? $0.appendEvent(kind: JournalEventKind.driveHealth, jobID: nil,
                                            payload: HealthEvent(device: medium.path, serial: medium.serial, action: "skip", report: health))
                }
                // Never erased, never certified: marked for physical destruction.
                finish(generation, state: .failed,
                       reason: LocalizedText(fr: "non effacé : à détruire (santé)", en: "not erased: to destroy (health)").text(in: config.language),
                       certificate: nil)
                logger.notice("not erased, marked for destruction", metadata: ["device": "\(info.path)", "health": "discard",
                                                                               "on-discard": "skip-and-mark"])
                return
            }
        }
        // Stopping, or the drive left during the health check: nothing is claimed or started.
        guard !stopping, table.slot(name, generation: generation)?.removed == false else {
            finish(generation, state: .interrupted, reason: nil, certificate: nil)
            return
        }
        if await endIfCancelledBeforeErasure(generation, info: info, stage: "before-claim", health: health) { return }
        let policy = safetyPolicy
        // The same claim and job as `ardoise wipe` (WipeFlow): ErasureSession.claiming.
        let claimed: Result<ErasureSession, any Error> = await BlockingWork.run("ardoise-open") { [scanner, resume, health] in
            Result {
                try ErasureSession.claiming(info.path, policy: policy, expected: info.identity, medium: MediumDescription(device: info),
                                            scanner: scanner, profile: profile, context: context, resume: resume, health: health)
            }
        }
        let session: ErasureSession
        switch claimed {
        case .success(let value): session = value
        case .failure(let error as DeviceError):
            let state: SlotState
            switch error.code {
            case .vanished, .identityChanged: state = .interrupted
            default: state = .failed
            }
            finish(generation, state: state, reason: error.message.text(in: config.language), certificate: nil)
            return
        case .failure(let error as WipeEngineError):
            finish(generation, state: .failed, reason: error.text(in: config.language), certificate: nil)
            return
        case .failure(let error):
            finish(generation, state: .failed, reason: "\(error)", certificate: nil)
            return
        }
        defer { session.releaseDrive() }
        guard table.slot(name, generation: generation)?.removed == false else {
            finish(generation, state: .interrupted, reason: nil, certificate: nil)
            return
        }
        sessions[generation] = session
        // A shutdown that began, or a cancel that came, while the drive was claimed: the job
        // starts and stops at once (journaled as interrupted).
        if stopping || cancelledBeforeErasure.remove(generation) != nil { session.cancel() }
        let resumeReason = resume.map { Self.resumeText($0.offer, action: .resume).text(in: config.language) }
        table.update(generation: generation) {
            $0.status.jobID = session.jobID.uuidString.lowercased()
            $0.status.profile = profile.name
            $0.status.resumedFromJob = resume?.fromJobID.uuidString.lowercased()
            $0.status.reason = resumeReason
        }
        changes.signal()
        var started: Logger.Metadata = ["device": "\(info.path)", "slot": "\(generation)", "profile": "\(profile.name)",
                                        "job": "\(session.jobID.uuidString.lowercased())"]
        if let resume {
            started["resumes"] = "\(resume.fromJobID.uuidString.lowercased())"
            started["from-pass"] = "\(resume.firstPass)/\(resume.passCount)"
        }
        logger.info("job started", metadata: started)
        let board = progress
        do {
            let outcome = try await session.run { event in board.record(generation, event) }
            let (state, reason) = Self.slotState(outcome, language: config.language)
            finish(generation, state: state, reason: reason, certificate: outcome.certificate?.jsonPath)
            var ended: Logger.Metadata = ["device": "\(info.path)", "slot": "\(generation)", "job": "\(session.jobID.uuidString.lowercased())",
                                          "state": "\(state.rawValue)"]
            if let reason { ended["reason"] = "\(reason)" }
            if let certificate = outcome.certificate { ended["certificate"] = "\(certificate.jsonPath)" }
            logger.info("job ended", metadata: ended)
        } catch {
            finish(generation, state: .failed, reason: "\(error)", certificate: nil)
            logger.error("job not recorded", metadata: ["device": "\(info.path)", "slot": "\(generation)", "error": "\(error)"])
        }
    }

    /// Ends a job the technician cancelled before its erasure began (during its health check):
    /// nothing is claimed or written, the slot reads `interrupted` ("cancelled"), and the
    /// journal keeps a `job.cancelled` event (no job row: no job ran). False when not cancelled.
    private func endIfCancelledBeforeErasure(_ generation: UInt64, info: BlockDeviceInfo, stage: String,
                                             health: HealthReport?) async -> Bool {
        guard cancelledBeforeErasure.remove(generation) != nil else { return false }
        let medium = MediumDescription(device: info)
        let event = CancelledBeforeErasureEvent(device: medium.path, serial: medium.serial, model: medium.model,
                                                stage: stage, healthVerdict: health?.verdict.rawValue)
        await writer.run { _ = try? $0.appendEvent(kind: JournalEventKind.jobCancelled, jobID: nil, payload: event) }
        finish(generation, state: .interrupted, reason: Self.cancelledText.text(in: config.language), certificate: nil)
        logger.notice("job cancelled before the erasure, nothing written",
                      metadata: ["device": "\(info.path)", "slot": "\(generation)", "stage": "\(stage)"])
        return true
    }

    static let cancelledText = LocalizedText(fr: "annulé avant l'effacement, rien n'a été écrit",
                                             en: "cancelled before the erasure, nothing written")

    static func slotState(_ outcome: ErasureOutcome, language: Language) -> (SlotState, String?) {
        if let error = outcome.certificateError {
            return (.failed, LocalizedText(fr: "certificat non écrit : \(error)", en: "certificate not written: \(error)").text(in: language))
        }
        switch outcome.certificate?.status {
        case .erased?: return (.done, nil)
        case .erasedWithExceptions?:
            // The certificate's exceptions in the bench's language (their signed details are English).
            return (.doneWithExceptions, outcome.certificate.map { certificate in
                let payload = certificate.signed.payload
                return payload.result.exceptions.map { CertificateSummary.exception($0, payload: payload, language: language) }.joined(separator: "; ")
            })
        default:
            switch outcome.report.status {
            case .interrupted(let why):
                return (.interrupted, why.code == .vanished ? LocalizedText(fr: "disque retiré", en: "drive removed").text(in: language)
                                                             : why.message.text(in: language))
            case .failed(let why): return (.failed, why.message.text(in: language))
            default: return (.failed, LocalizedText(fr: "non effacé", en: "not erased").text(in: language))
            }
        }
    }

    private func finish(_ generation: UInt64, state: SlotState, reason: String?, certificate: String?) {
        // A finished job may have queued a certificate: count it, and send it now.
        outboxSender?.wake()
        Task { await refreshOutboxStatus() }
        table.finish(generation: generation, state: state, reason: reason, certificate: certificate)
        changes.signal()
    }

    private func makeContext() -> ErasureContext {
        var context = ErasureContext(config: config, journal: journal,
                                     issuer: CertificateIssuer(key: key, outputDirectory: config.outputDirectory, journal: journal,
                                                               language: config.language),
                                     technicianFallback: "-")
        context.pauseHooks = pauseHooks
        return context
    }

    // MARK: Control

    public func handle(_ request: ControlRequest) async -> ControlResponse {
        switch request.command {
        case .status, .watch:
            return ControlResponse(ok: true, snapshot: snapshot())
        case .start:
            guard let name = slotName(request.device), let seen = table[name] else { return unknownDevice(request.device) }
            // Explicit resume: only if the journal has something to resume for this very drive.
            var point: ResumePoint?
            if request.resume == true {
                let (medium, library) = (MediumDescription(device: seen.info), library)
                point = await writer.run { (try? ResumePoint.find(for: medium, journal: $0, library: library)) ?? nil }
                guard point != nil, table[name]?.generation == seen.generation else {
                    return ControlResponse(ok: false, error: LocalizedText(
                        fr: "\(seen.info.path) : aucune tâche interrompue à reprendre pour ce disque",
                        en: "\(seen.info.path): no interrupted job to resume for this drive").text(in: config.language))
                }
            }
            guard let slot = table[name] else { return unknownDevice(request.device) }
            let previous = (slot.resume, slot.useResume)
            table.update(generation: slot.generation) {
                if let point {
                    $0.resume = point
                    $0.useResume = true
                } else if request.resume == false {
                    $0.useResume = false
                }
            }
            guard accept(name, generation: slot.generation) else {
                table.update(generation: slot.generation) { ($0.resume, $0.useResume) = previous }
                let state = table[name]?.status.state ?? slot.status.state
                return ControlResponse(ok: false, error: LocalizedText(
                    fr: "\(slot.info.path) ne peut pas être lancé (\(state.label.french))",
                    en: "\(slot.info.path) cannot be started (\(state.label.english))").text(in: config.language))
            }
            return ControlResponse(ok: true, snapshot: snapshot())
        case .cancel:
            guard let name = slotName(request.device), let slot = table[name] else { return unknownDevice(request.device) }
            if let session = sessions[slot.generation] {
                session.cancel()
            } else if slot.job == .running {
                // Still reading its health (or claiming): it ends as soon as that step returns,
                // before anything is claimed or written.
                cancelledBeforeErasure.insert(slot.generation)
                table.update(generation: slot.generation) {
                    $0.status.reason = LocalizedText(fr: "annulation…", en: "cancelling…").text(in: config.language)
                }
                logger.info("cancel asked during the health check", metadata: ["device": "\(slot.info.path)", "slot": "\(slot.generation)"])
                changes.signal()
            } else if slot.job == .queued || slot.status.state == .waiting {
                withdraw(slot.generation)
                table.unqueue(name, reason: LocalizedText(fr: "annulé, en attente du technicien", en: "cancelled, waiting for the technician")
                    .text(in: config.language))
                changes.signal()
            }
            return ControlResponse(ok: true, snapshot: snapshot())
        case .set:
            if let technician = request.technician { config.technician = technician }
            if let donor = request.donor { config.donor = donor.isEmpty ? nil : donor }
            if let lot = request.lot { config.lot = lot.isEmpty ? nil : lot }
            let payload = ["technician": config.technician, "donor": config.donor ?? "", "lot": config.lot ?? ""]
            // Journaled off the actor, in order with the daemon's other journal work.
            writer.submit { _ = try? $0.appendEvent(kind: "session.changed", payload: payload) }
            changes.signal()
            return ControlResponse(ok: true, snapshot: snapshot())
        }
    }

    /// A stream of snapshots: the bench now, then after every change (coalesced: a slow
    /// reader gets the latest). Ends when the daemon stops or the consumer stops reading.
    public nonisolated func snapshots() -> AsyncStream<BenchSnapshot> {
        let changes = self.changes.watch()
        return AsyncStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            let task = Task { [weak self] in
                var last: BenchSnapshot?
                for await _ in changes {
                    guard let self else { break }
                    let snapshot = await self.snapshot()
                    // Only what changed is news (the time of the snapshot alone is not).
                    if var previous = last {
                        previous.takenAt = snapshot.takenAt
                        if previous == snapshot { continue }
                    }
                    last = snapshot
                    continuation.yield(snapshot)
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    private func slotName(_ device: String?) -> String? {
        guard let device else { return nil }
        return (device as NSString).lastPathComponent
    }

    private func unknownDevice(_ device: String?) -> ControlResponse {
        ControlResponse(ok: false, error: LocalizedText(fr: "disque inconnu du banc : \(device ?? "-")",
                                                        en: "drive not on the bench: \(device ?? "-")").text(in: config.language))
    }

    public func snapshot() -> BenchSnapshot {
        let now = Date()
        let statuses = table.names.compactMap { name -> SlotStatus? in
            guard let slot = table[name] else { return nil }
            var status = slot.status
            status.graceSecondsLeft = scheduler.graceLeft(slot.generation, now: now)
            if slot.job == .running, sessions[slot.generation] != nil, let live = progress.value(slot.generation) {
                status.state = live.verifying ? .verifying : .erasing
                status.passIndex = live.pass
                status.passCount = live.passCount
                status.fraction = live.fraction
                status.currentMegabytesPerSecond = live.currentRate / 1_000_000
                status.averageMegabytesPerSecond = live.averageRate / 1_000_000
                status.etaSeconds = live.eta
            }
            return status
        }
        var snapshot = BenchSnapshot(benchID: config.benchID, benchName: config.benchName,
                                     technician: config.technician.isEmpty ? nil : config.technician,
                                     donor: config.donor, lot: config.lot, policy: config.policy.rawValue, language: config.language,
                                     slots: statuses, takenAt: now)
        snapshot.outbox = outboxStatus
        return snapshot
    }

    // MARK: Configuration and shutdown

    /// Re-reads the configuration file (SIGHUP). A bad file keeps the running configuration
    /// and says why. The data directory and the socket only change at restart. The files are
    /// read off the actor; the new configuration is applied at once.
    @discardableResult
    public func reload() async -> String {
        guard let configPath else { return "no configuration file" }
        let loaded = await BlockingWork.run("ardoise-config") { () -> Result<(BenchConfig, ProfileLibrary, HealthPolicy?), any Error> in
            Result {
                let loaded = try BenchConfig.loadChecked(path: configPath)
                // The health policy is read again too; an invalid one keeps the whole old configuration.
                let policy = loaded.config.healthCheck ? try HealthPolicy.loadStandard(explicitPath: loaded.config.healthPolicyPath) : nil
                return (loaded.config, loaded.library, policy)
            }
        }
        switch loaded {
        case .success(let (loadedConfig, newLibrary, newHealthPolicy)):
            var newConfig = loadedConfig
            newConfig.dataDirectory = config.dataDirectory
            newConfig.controlSocket = config.controlSocket
            config = newConfig
            library = newLibrary
            healthPolicy = newHealthPolicy
            table.language = newConfig.language
            scheduler.limit = max(1, newConfig.maxConcurrentJobs)
            logger.notice("configuration reloaded", metadata: ["file": "\(configPath)"])
            changes.signal()
            pump()
            return "reloaded"
        case .failure(let error):
            logger.error("configuration not reloaded, keeping the previous one", metadata: ["file": "\(configPath)", "error": "\(error)"])
            return "\(error)"
        }
    }

    /// Stops every job (they end interrupted and are recorded), and returns once the last one
    /// has ended: woken by the end of that job, no polling. Grace periods and queued jobs are
    /// dropped (nothing was started for them). Then every `snapshots()` stream ends.
    public func shutdown() async {
        stopping = true
        for timer in graceTimers.values { timer.cancel() }
        graceTimers.removeAll()
        scheduler.stop()
        for session in sessions.values { session.cancel() }
        if !scheduler.isIdle {
            logger.notice("stopping: waiting for the running jobs to end", metadata: ["jobs": "\(scheduler.running.count)"])
            await withCheckedContinuation { idleWaiters.append($0) }
        }
        changes.finish()
    }

    public var runningJobs: Int { scheduler.running.count }

    /// One informational line (kept for callers that have only text; prefer `logger`).
    nonisolated func log(_ message: String) {
        logger.info("\(message)")
    }
}

/// Latest progress per running job (by its slot's generation), written by the jobs' event
/// callbacks without hopping onto the actor, read by `snapshot()`; each update tells the
/// bench's watchers.
final class ProgressBoard: Sendable {
    struct Entry: Sendable {
        var pass = 0
        var passCount = 0
        var verifying = false
        var fraction = 0.0
        var currentRate = 0.0
        var averageRate = 0.0
        var eta: Double?
    }

    private let entries = Mutex<[UInt64: Entry]>([:])
    private let changes: ChangeFeed

    init(changes: ChangeFeed) { self.changes = changes }

    func record(_ key: UInt64, _ event: WipeEvent) {
        guard case .progress(let progress) = event else { return }
        entries.withLock {
            $0[key] = Entry(pass: progress.pass, passCount: progress.passCount, verifying: progress.phase == .verifying,
                            fraction: progress.overallFraction, currentRate: progress.currentBytesPerSecond,
                            averageRate: progress.averageBytesPerSecond, eta: progress.overallETASeconds)
        }
        changes.signal()
    }

    func value(_ key: UInt64) -> Entry? { entries.withLock { $0[key] } }
    func clear(_ key: UInt64) { _ = entries.withLock { $0.removeValue(forKey: key) } }
}
