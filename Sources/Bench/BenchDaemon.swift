import ArdoiseSupport
import Certificates
import DeviceKit
import Diagnostics
import Foundation
import Journal
import StoreClient
import Synchronization
import WipeEngine

/// The bench: sees drives come and go, classifies them, erases the wipeable ones per policy
/// (each job on its own thread, up to the concurrency limit) and certifies the result.
///
/// Every hot-plug event means "look at this node again": the node's medium is compared with
/// what the slot knew (diskseq and serial), so a removal, a re-plug and a swap on the same
/// node are told apart whatever action the kernel announced.
public actor BenchDaemon {
    public private(set) var config: BenchConfig
    private let configPath: String?
    private var library: ProfileLibrary
    let journal: JournalDatabase
    let key: BenchKey
    let scanner: DeviceScanner
    private var slots: [String: Slot] = [:]
    private var queue: [String] = []
    private var running = 0
    private var generation: UInt64 = 0
    private let progress = ProgressBoard()
    private var stopping = false
    /// The health policy when `[health] check` is on (the default): each drive's health is read
    /// before its job.
    var healthPolicy: HealthPolicy?
    /// Sends the outbox to the store in the background (nil without `[store]`).
    private let outboxSender: OutboxSender?
    /// What the screen says about the outbox, refreshed after each round and each job.
    private var outboxStatus: OutboxStatus?

    struct Slot {
        var info: BlockDeviceInfo
        var status: SlotStatus
        var generation: UInt64
        var session: ErasureSession?
        var graceTask: Task<Void, Never>?
        var removed = false
        /// Where an interrupted job of this drive can go on (re-plug), when it can.
        var resume: ResumePoint?
        /// Whether the next job on this slot resumes (`resume`) or starts the profile over.
        var useResume = false
    }

    /// What the journal says about a drive that arrives: did its last job on this bench stop
    /// before the end, and can that job be resumed.
    struct Replug: Sendable {
        var unfinished = false
        var resume: ResumePoint?
    }

    /// Takes the data directory's owner lock, opens the journal (jobs left running by a dead
    /// process become interrupted), the bench key and the profiles. Blocking: call before serving.
    /// - Throws: `JournalError` `.ownedByAnotherProcess` when another process owns the journal.
    public init(config: BenchConfig, configPath: String?, scanner: DeviceScanner = DeviceScanner()) throws {
        self.config = config
        self.configPath = configPath
        self.scanner = scanner
        try DataDirectory.prepare(config.dataDirectory)
        // One owner per journal: a second daemon (or a running `ardoise wipe`) makes this throw
        // `.ownedByAnotherProcess`; the lock lives as long as the journal, i.e. the daemon.
        let owner = try JournalOwnerLock.acquire(dataDirectory: config.dataDirectory, role: .daemon)
        journal = try JournalDatabase(dataDirectory: config.dataDirectory, owner: owner)
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
        log("sending the outbox to the store")
        await outboxSender.run(idlePoll: idlePoll) { [weak self] _ in
            Task { await self?.refreshOutboxStatus() }
        }
    }

    /// Whether `[store]` was configured at start (the sender runs).
    public nonisolated var sendsOutbox: Bool { outboxSender != nil }

    /// Closes the sender's connections (at shutdown).
    public func stopOutboxSender() async { await outboxSender?.shutdown() }

    func refreshOutboxStatus() async {
        let (journal, configured) = (journal, outboxSender != nil)
        outboxStatus = await BlockingWork.run("ardoise-journal") { Self.outboxStatus(journal: journal, storeConfigured: configured) }
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
        let known = slots[name]?.info
        let (journal, library, action) = (journal, library, config.onReplug)
        let (info, replug) = await BlockingWork.run("ardoise-scan") { [scanner] () -> (BlockDeviceInfo?, Replug) in
            let info = scanner.scan(policy: policy, probing: [name]).first { $0.name == name }
            guard let info, info.sizeInBytes > 0, !(known.map { Self.sameMedium($0, info) } ?? false) else { return (info, Replug()) }
            return (info, Self.replugCheck(info, journal: journal, library: library, action: action))
        }
        let present = info.map { $0.sizeInBytes > 0 } ?? false
        if let slot = slots[name] {
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
        generation += 1
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
        slots[info.name] = Slot(info: info, status: status, generation: generation, resume: replug.resume,
                                useResume: replug.resume != nil && config.onReplug == .resume)
        log("\(info.path): \(status.state.rawValue)\(status.reason.map { " (\($0))" } ?? "") diskseq=\(info.diskSequence.map(String.init) ?? "-") serial=\(info.serial ?? "-")")
        guard status.state == .waiting else { return }
        if config.policy == .auto && !(config.onReplug == .ask && replug.unfinished) {
            scheduleGrace(info.name, generation: generation)
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
        guard var slot = slots[name], slot.status.state == .waiting, case .protected(let reasons) = info.verdict else { return }
        slot.graceTask?.cancel()
        slot.status.state = .protected
        slot.status.reason = reasons.map { $0.message.text(in: config.language) }.joined(separator: ", ")
        slot.status.reasonCodes = reasons.map(\.key)
        slot.info = info
        slots[name] = slot
        queue.removeAll { $0 == name }
    }

    /// What a removed slot says of its job: the job's final state and its reason, without
    /// saying "drive removed" a second time beside the state "removed".
    static func reasonAfterRemoval(state: SlotState, reason: String?, language: Language) -> String {
        let removal = LocalizedText(fr: "disque retiré", en: "drive removed").text(in: language)
        return [state.label.text(in: language), reason == removal ? nil : reason].compactMap { $0 }.joined(separator: " — ")
    }

    private func mediumLeft(_ name: String) {
        // A detach brings several uevents: the first one settles the slot.
        guard var slot = slots[name], !slot.removed else { return }
        slot.graceTask?.cancel()
        queue.removeAll { $0 == name }
        slot.removed = true
        if let session = slot.session {
            log("\(slot.info.path): drive removed during the job, stopping it")
            session.driveRemoved()
            slot.status.state = .interrupted
            slot.status.reason = LocalizedText(fr: "disque retiré", en: "drive removed").text(in: config.language)
        } else if slot.status.state.isFinal && slot.status.state != .protected {
            slot.status.reason = Self.reasonAfterRemoval(state: slot.status.state, reason: slot.status.reason, language: config.language)
            slot.status.state = .removed
        } else {
            slot.status.state = .removed
            slot.status.reason = nil
        }
        slot.status.graceSecondsLeft = nil
        slots[name] = slot
        log("\(slot.info.path): removed")
    }

    // MARK: Scheduling

    private func scheduleGrace(_ name: String, generation: UInt64) {
        let grace = config.graceSeconds
        let deadline = Date().addingTimeInterval(grace)
        slots[name]?.status.graceSecondsLeft = grace
        slots[name]?.graceTask = Task { [weak self] in
            while !Task.isCancelled {
                let left = deadline.timeIntervalSinceNow
                if left <= 0 { break }
                await self?.updateGrace(name, generation: generation, left: left)
                try? await Task.sleep(for: .milliseconds(Int(min(left, 0.5) * 1000)))
            }
            guard !Task.isCancelled else { return }
            await self?.enqueue(name, generation: generation)
        }
    }

    private func updateGrace(_ name: String, generation: UInt64, left: Double) {
        guard slots[name]?.generation == generation else { return }
        slots[name]?.status.graceSecondsLeft = left
    }

    private func enqueue(_ name: String, generation: UInt64) {
        guard var slot = slots[name], slot.generation == generation, slot.status.state == .waiting else { return }
        slot.status.graceSecondsLeft = nil
        slot.status.state = .queued
        slots[name] = slot
        queue.append(name)
        pump()
    }

    private func pump() {
        while running < config.maxConcurrentJobs, !queue.isEmpty, !stopping {
            let name = queue.removeFirst()
            guard let slot = slots[name], slot.status.state == .queued else { continue }
            running += 1
            slots[name]?.status.state = .erasing
            let generation = slot.generation
            Task { await self.runJob(name, generation: generation) }
        }
    }

    private func runJob(_ name: String, generation: UInt64) async {
        defer {
            running -= 1
            pump()
        }
        guard let slot = slots[name], slot.generation == generation, let profileName = slot.status.profile else { return }
        let context: ErasureContext
        let profile: WipeProfile
        // The journal is read again now: what was resumable at the plug may not be any more.
        var resume: ResumePoint?
        if slot.useResume {
            let (medium, journal, library) = (MediumDescription(device: slot.info), journal, library)
            resume = await BlockingWork.run("ardoise-journal") {
                (try? ResumePoint.find(for: medium, journal: journal, library: library)) ?? nil
            }
            if resume == nil { log("\(slot.info.path): nothing to resume any more, the profile starts over") }
        }
        if slots[name]?.generation == generation {
            slots[name]?.useResume = false
            slots[name]?.status.resumable = nil
        }
        do {
            profile = try library.requireProfile(named: resume?.profileName ?? profileName)
            context = makeContext()
        } catch {
            finish(name, generation: generation, state: .failed, reason: "\(error)", certificate: nil)
            return
        }
        let info = slot.info
        // Health first, read-only (smartctl): recorded with the job, or instead of it.
        var health: HealthReport?
        if let healthPolicy {
            let check = HealthCheck(policy: healthPolicy, runner: SmartctlRunner(executable: config.smartctlPath))
            // Up to smartctl's timeout on a hung bridge: the screen says what the bench is doing.
            let reading = LocalizedText(fr: "lecture de la santé (SMART)…", en: "reading health (SMART)…").text(in: config.language)
            if slots[name]?.generation == generation { slots[name]?.status.reason = reading }
            health = await BlockingWork.run("ardoise-health") { try? check.run(device: info.path) }
            if slots[name]?.generation == generation {
                slots[name]?.status.health = health?.verdict.rawValue
                if slots[name]?.status.reason == reading { slots[name]?.status.reason = nil }
            }
            if let health {
                log("\(info.path): health \(health.verdict.rawValue)" + (health.reasons.isEmpty ? "" : " (\(health.reasons.map(\.code).joined(separator: ", ")))"))
            }
            if let health, health.verdict == .discard, config.onDiscard == .skipAndMark {
                let (journal, medium) = (journal, MediumDescription(device: info))
                await BlockingWork.run("ardoise-journal") {
                    _ = try? journal.appendEvent(kind: JournalEventKind.driveHealth, jobID: nil,
                                                 payload: HealthEvent(device: medium.path, serial: medium.serial, action: "skip", report: health))
                }
                // Never erased, never certified: marked for physical destruction.
                finish(name, generation: generation, state: .failed,
                       reason: LocalizedText(fr: "non effacé : à détruire (santé)", en: "not erased: to destroy (health)").text(in: config.language),
                       certificate: nil)
                log("\(info.path): not erased, marked for destruction (health discard, on-discard = skip-and-mark)")
                return
            }
        }
        let policy = safetyPolicy
        let opened: Result<BlockDeviceHandle, DeviceError> = await BlockingWork.run("ardoise-open") { [scanner] in
            Result { () throws(DeviceError) -> BlockDeviceHandle in
                try DriveAccess.openForWriting(info.path, policy: policy, expected: info.identity, scanner: scanner)
            }
        }
        let handle: BlockDeviceHandle
        switch opened {
        case .success(let value): handle = value
        case .failure(let error):
            let state: SlotState
            switch error.code {
            case .vanished, .identityChanged: state = .interrupted
            default: state = .failed
            }
            finish(name, generation: generation, state: state, reason: error.message.text(in: config.language), certificate: nil)
            return
        }
        defer { handle.close() }
        let session: ErasureSession
        do {
            session = try ErasureSession(medium: MediumDescription(device: info), claim: handle, profile: profile, context: context,
                                         resume: resume, health: health)
        } catch {
            finish(name, generation: generation, state: .failed, reason: error.text(in: config.language), certificate: nil)
            return
        }
        guard slots[name]?.generation == generation, slots[name]?.removed == false else {
            finish(name, generation: generation, state: .interrupted, reason: nil, certificate: nil)
            return
        }
        slots[name]?.session = session
        slots[name]?.status.jobID = session.jobID.uuidString.lowercased()
        slots[name]?.status.profile = profile.name
        slots[name]?.status.resumedFromJob = resume?.fromJobID.uuidString.lowercased()
        slots[name]?.status.reason = resume.map { Self.resumeText($0.offer, action: .resume).text(in: config.language) }
        log("\(info.path): erasing with \(profile.name), job \(session.jobID.uuidString.lowercased())"
            + (resume.map { ", resuming job \($0.fromJobID.uuidString.lowercased()) at pass \($0.firstPass)/\($0.passCount)" } ?? ""))
        let board = progress
        let key = "\(name)#\(generation)"
        do {
            let outcome = try await session.run { event in board.record(key, event) }
            let (state, reason) = Self.slotState(outcome, language: config.language)
            finish(name, generation: generation, state: state, reason: reason, certificate: outcome.certificate?.jsonPath)
            log("\(info.path): \(state.rawValue)\(reason.map { " (\($0))" } ?? "")\(outcome.certificate.map { ", certificate \($0.jsonPath)" } ?? "")")
        } catch {
            finish(name, generation: generation, state: .failed, reason: "\(error)", certificate: nil)
            log("\(info.path): failed to record the job: \(error)")
        }
    }

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

    private func finish(_ name: String, generation: UInt64, state: SlotState, reason: String?, certificate: String?) {
        // A finished job may have queued a certificate: count it, and send it now.
        outboxSender?.wake()
        Task { await refreshOutboxStatus() }
        guard var slot = slots[name], slot.generation == generation else { return }
        slot.session = nil
        if slot.removed && slot.status.state == .removed { slots[name] = slot; return }
        slot.status.state = slot.removed && state != .done ? .interrupted : state
        if slot.removed && state != .done {
            slot.status.reason = LocalizedText(fr: "disque retiré", en: "drive removed").text(in: config.language)
        } else {
            slot.status.reason = reason
        }
        slot.status.certificate = certificate
        slots[name] = slot
        progress.clear("\(name)#\(generation)")
    }

    private func makeContext() -> ErasureContext {
        ErasureContext(config: config, journal: journal,
                       issuer: CertificateIssuer(key: key, outputDirectory: config.outputDirectory, journal: journal, language: config.language),
                       technicianFallback: "-")
    }

    // MARK: Control

    public func handle(_ request: ControlRequest) async -> ControlResponse {
        switch request.command {
        case .status:
            return ControlResponse(ok: true, snapshot: snapshot())
        case .start:
            guard let name = slotName(request.device) else { return unknownDevice(request.device) }
            guard let seen = slots[name] else { return unknownDevice(request.device) }
            // Explicit resume: only if the journal has something to resume for this very drive.
            var point: ResumePoint?
            if request.resume == true {
                let (medium, journal, library) = (MediumDescription(device: seen.info), journal, library)
                point = await BlockingWork.run("ardoise-journal") {
                    (try? ResumePoint.find(for: medium, journal: journal, library: library)) ?? nil
                }
                guard point != nil, slots[name]?.generation == seen.generation else {
                    return ControlResponse(ok: false, error: LocalizedText(
                        fr: "\(seen.info.path) : aucune tâche interrompue à reprendre pour ce disque",
                        en: "\(seen.info.path): no interrupted job to resume for this drive").text(in: config.language))
                }
            }
            guard var slot = slots[name] else { return unknownDevice(request.device) }
            switch slot.status.state {
            case .waiting, .interrupted, .failed, .done, .doneWithExceptions:
                guard slot.status.profile != nil, !slot.removed else { fallthrough }
                if let point {
                    slot.resume = point
                    slot.useResume = true
                } else if request.resume == false {
                    slot.useResume = false
                }
                slot.graceTask?.cancel()
                slot.status.graceSecondsLeft = nil
                slot.status.state = .queued
                slot.status.reason = nil
                slot.status.certificate = nil
                slot.status.resumable = nil
                slots[name] = slot
                queue.append(name)
                pump()
                return ControlResponse(ok: true, snapshot: snapshot())
            default:
                return ControlResponse(ok: false, error: LocalizedText(
                    fr: "\(slot.info.path) ne peut pas être lancé (\(slot.status.state.label.french))",
                    en: "\(slot.info.path) cannot be started (\(slot.status.state.label.english))").text(in: config.language))
            }
        case .cancel:
            guard let name = slotName(request.device), var slot = slots[name] else { return unknownDevice(request.device) }
            if let session = slot.session {
                session.cancel()
            } else if slot.status.state == .waiting || slot.status.state == .queued {
                slot.graceTask?.cancel()
                slot.status.graceSecondsLeft = nil
                slot.status.state = .waiting
                slot.status.reason = LocalizedText(fr: "annulé, en attente du technicien", en: "cancelled, waiting for the technician")
                    .text(in: config.language)
                queue.removeAll { $0 == name }
                slots[name] = slot
            }
            return ControlResponse(ok: true, snapshot: snapshot())
        case .set:
            if let technician = request.technician { config.technician = technician }
            if let donor = request.donor { config.donor = donor.isEmpty ? nil : donor }
            if let lot = request.lot { config.lot = lot.isEmpty ? nil : lot }
            _ = try? journal.appendEvent(kind: "session.changed", payload: ["technician": config.technician,
                                                                             "donor": config.donor ?? "", "lot": config.lot ?? ""])
            return ControlResponse(ok: true, snapshot: snapshot())
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
        let statuses = slots.keys.sorted { $0.compare($1, options: .numeric) == .orderedAscending }.compactMap { name -> SlotStatus? in
            guard let slot = slots[name] else { return nil }
            var status = slot.status
            if slot.session != nil, let live = progress.value("\(name)#\(slot.generation)") {
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
                                     slots: statuses)
        snapshot.outbox = outboxStatus
        return snapshot
    }

    // MARK: Configuration and shutdown

    /// Re-reads the configuration file (SIGHUP). A bad file keeps the running configuration
    /// and says why. The data directory and the socket only change at restart.
    @discardableResult
    public func reload() -> String {
        guard let configPath else { return "no configuration file" }
        do {
            let loaded = try BenchConfig.loadChecked(path: configPath)
            var newConfig = loaded.config
            let newLibrary = loaded.library
            newConfig.dataDirectory = config.dataDirectory
            newConfig.controlSocket = config.controlSocket
            // The health policy is read again too; an invalid one keeps the whole old configuration.
            let newHealthPolicy = newConfig.healthCheck ? try HealthPolicy.loadStandard(explicitPath: newConfig.healthPolicyPath) : nil
            config = newConfig
            library = newLibrary
            healthPolicy = newHealthPolicy
            log("configuration reloaded from \(configPath)")
            return "reloaded"
        } catch {
            log("configuration NOT reloaded, keeping the previous one: \(error)")
            return "\(error)"
        }
    }

    /// Stops every job (they end interrupted and are recorded) and waits for them.
    public func shutdown() async {
        stopping = true
        for slot in slots.values {
            slot.graceTask?.cancel()
            slot.session?.cancel()
        }
        while running > 0 { try? await Task.sleep(for: .milliseconds(100)) }
    }

    public var runningJobs: Int { running }

    nonisolated func log(_ message: String) {
        FileHandle.standardError.write(Data("ardoise-daemon: \(message)\n".utf8))
    }
}

/// Latest progress per running job, written by the jobs' event callbacks without hopping
/// onto the actor, read by `snapshot()`.
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

    private let entries = Mutex<[String: Entry]>([:])

    func record(_ key: String, _ event: WipeEvent) {
        guard case .progress(let progress) = event else { return }
        entries.withLock {
            $0[key] = Entry(pass: progress.pass, passCount: progress.passCount, verifying: progress.phase == .verifying,
                            fraction: progress.overallFraction, currentRate: progress.currentBytesPerSecond,
                            averageRate: progress.averageBytesPerSecond, eta: progress.overallETASeconds)
        }
    }

    func value(_ key: String) -> Entry? { entries.withLock { $0[key] } }
    func clear(_ key: String) { _ = entries.withLock { $0.removeValue(forKey: key) } }
}
