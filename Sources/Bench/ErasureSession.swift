import ArdoiseSupport
import Certificates
import Diagnostics
import DeviceKit
import ErasureRecords
import Foundation
import Journal
import StoreClient
import Synchronization
import WipeEngine

/// Who erases, for whom, and where records go: the bench's side of every job.
public struct ErasureContext: Sendable {
    public var benchID: String
    public var organisation: Organisation
    public var technician: String
    public var donor: String?
    public var lot: String?
    public var destination: Destination
    public var journal: JournalDatabase
    public var issuer: CertificateIssuer
    public var bufferSize: Int
    /// The store's address for donors (`[store] public-url`, else `url`): each certificate
    /// names its verification page there, and its QR code opens it. Nil without a store.
    public var verificationBaseURL: String?
    /// Where a test holds the job (`JobPauseHooks`); nil (no pause point) in the shipped program.
    public var pauseHooks: (any JobPauseHooks)?

    public init(benchID: String, organisation: Organisation, technician: String, donor: String?, lot: String?,
                destination: Destination, journal: JournalDatabase, issuer: CertificateIssuer,
                bufferSize: Int = WipeOptions.defaultBufferSize) {
        self.benchID = benchID
        self.organisation = organisation
        self.technician = technician
        self.donor = donor
        self.lot = lot
        self.destination = destination
        self.journal = journal
        self.issuer = issuer
        self.bufferSize = bufferSize
    }
}

extension ErasureContext {
    /// The context a configuration describes. `technicianFallback` names the technician when
    /// the configuration has none (the daemon: "-"; a one-shot wipe: the sudo user).
    public init(config: BenchConfig, journal: JournalDatabase, issuer: CertificateIssuer, technicianFallback: String) {
        self.init(
            benchID: config.benchID,
            organisation: Organisation(name: config.organisationName.isEmpty ? "-" : config.organisationName,
                                       address: config.organisationAddress.isEmpty ? nil : config.organisationAddress),
            technician: config.technician.isEmpty ? technicianFallback : config.technician,
            donor: config.donor, lot: config.lot,
            destination: Destination(rawValue: config.destination.replacingOccurrences(of: "-", with: "_")) ?? .externalReuse,
            journal: journal, issuer: issuer, bufferSize: config.bufferSize)
        verificationBaseURL = config.store?.donorBaseURL
    }
}

/// What is known about the medium before the job: printed on the certificate.
public struct MediumDescription: Sendable, Equatable {
    public var path: String
    public var vendor: String?
    public var model: String
    public var serial: String
    public var wwn: String?
    public var firmware: String?
    public var type: MediaType
    public var sizeInBytes: UInt64
    public var transport: String
    public var logicalSectorSize: Int
    public var physicalSectorSize: Int
    public var diskSequence: UInt64?
    public var deviceNumber: String?
    /// True when `serial` names this medium beyond the current boot (a real serial number, or
    /// a loop device's backing file): only such a drive may resume an interrupted job.
    public var hasStableIdentity = false

    /// From the scan of a block device. A drive that reports no serial (some USB bridges) is
    /// named by its kernel disk sequence number, which is unique per boot only. A loop device
    /// is named by its backing file (filesystem and inode), which survives a detach and
    /// re-attach of the same file, as a serial number survives a re-plug.
    public init(device: BlockDeviceInfo) {
        path = device.path
        vendor = device.vendor.flatMap { $0 == "ATA" ? nil : $0 }
        if device.transport == .loop {
            model = "Loop device" + (device.backingFile.map { " (\(($0 as NSString).lastPathComponent))" } ?? "")
        } else {
            model = device.model ?? "?"
        }
        if let serial = device.serial {
            self.serial = serial
            hasStableIdentity = true
        } else if device.transport == .loop, let file = device.backingFile,
                  let attributes = try? FileManager.default.attributesOfItem(atPath: file),
                  let filesystem = (attributes[.systemNumber] as? NSNumber)?.uint64Value,
                  let inode = (attributes[.systemFileNumber] as? NSNumber)?.uint64Value {
            serial = "loop-\(filesystem)-\(inode)"
            hasStableIdentity = true
        } else {
            serial = "diskseq-\(device.diskSequence.map(String.init) ?? "?")"
        }
        wwn = device.wwn
        firmware = device.firmwareRevision
        type = device.transport == .loop ? .unknown : device.rotational ? .magnetic : .flash
        sizeInBytes = device.sizeInBytes
        transport = device.transport.rawValue
        logicalSectorSize = device.logicalSectorSize
        physicalSectorSize = device.physicalSectorSize
        diskSequence = device.diskSequence
        deviceNumber = device.deviceNumber.description
    }

    /// For a regular image file (`ardoise wipe --image`).
    public init(imagePath: String, sizeInBytes: UInt64, logicalSectorSize: Int) {
        path = imagePath
        model = "Disk image"
        serial = (imagePath as NSString).lastPathComponent
        type = .unknown
        self.sizeInBytes = sizeInBytes
        transport = "file"
        self.logicalSectorSize = logicalSectorSize
        physicalSectorSize = logicalSectorSize
    }
}

/// How a session ended, with its records.
public struct ErasureOutcome: Sendable {
    public var jobID: UUID
    public var report: WipeReport
    public var jobStatus: JobStatus
    public var certificate: IssuedCertificate?
    /// Why no certificate could be written, if so.
    public var certificateError: String?
}

/// One drive's job from start to certificate: journal records, the engine's passes on the
/// job's own thread, then a signed certificate whose status follows from what really ran.
public final class ErasureSession: Sendable {
    public let jobID = UUID()
    public let medium: MediumDescription
    public let job: WipeJob
    private let context: ErasureContext
    private let removed = Atomic<Bool>(false)
    /// The result of `prepare` once it ran.
    private let prepared = Mutex<Result<Void, any Error>?>(nil)
    /// False for read-only profiles (`verify-zero`): a check is journaled, but an erasure
    /// certificate for a job that wrote nothing would only ever say "not erased".
    public let issuesCertificate: Bool
    /// Set when this job continues an interrupted one: its seed, and the passes already done.
    public let resume: ResumePoint?
    /// The drive's health read before the job: journaled with it and carried on the certificate.
    public let health: HealthReport?
    /// The claimed drive the job writes to, when its target is one (closed by `releaseDrive`).
    private let claimed: ClaimedDrive?
    /// The context's pause points (inert without test hooks).
    private let pause: TestPause

    /// - Parameters:
    ///   - firmware: builds the firmware step's runner for profiles with `[firmware]` (given
    ///     this job's id and journal, so its audit trace and temporary ATA password are
    ///     journaled); without it such a profile fails cleanly (nothing certified).
    ///   - resume: continues an interrupted job of the same drive (`ResumePoint.find`): the
    ///     profile runs from `resume.firstPass` with the earlier job's seed, so every pass writes
    ///     what it would have written in the earlier job.
    public init(medium: MediumDescription, target: any WipeTarget, profile: WipeProfile, context: ErasureContext,
                firmware: FirmwarePurgerFactory? = nil, resume: ResumePoint? = nil, health: HealthReport? = nil) throws(WipeEngineError) {
        self.medium = medium
        self.context = context
        self.resume = resume
        self.health = health
        claimed = target as? ClaimedDrive
        issuesCertificate = !profile.isReadOnly
        let pause = TestPause(context.pauseHooks)
        self.pause = pause
        var options = WipeOptions(bufferSize: context.bufferSize, seed: resume?.seed, firstPass: resume?.firstPass ?? 1)
        options.passHook = pause.passHook
        if profile.firmware != nil, let firmware {
            options.firmwarePurger = firmware(jobID, context.journal)
        }
        job = try WipeJob(profile: profile, target: pause.wrap(target), options: options)
    }

    /// A job on a claimed drive: the passes write through `claim`, and a profile's firmware
    /// step sends its commands through the same claim (`DriveFirmwarePurger.forClaim`), so
    /// nothing in the job reopens the drive by path. Used by `ardoise wipe` and the daemon.
    public convenience init(medium: MediumDescription, claim: ClaimedDrive, profile: WipeProfile, context: ErasureContext,
                            resume: ResumePoint? = nil, health: HealthReport? = nil) throws(WipeEngineError) {
        try self.init(medium: medium, target: claim, profile: profile, context: context,
                      firmware: DriveFirmwarePurger.journaled(claim: claim), resume: resume, health: health)
    }

    /// Stops the job; it ends interrupted and its certificate says "not erased".
    public func cancel() { job.cancel() }

    /// Closes the claimed drive (its `O_EXCL` claim ends) once `run` has returned; nothing
    /// for a target that is not a claimed drive. Calling it again does nothing.
    public func releaseDrive() { claimed?.close() }

    /// The drive was pulled (or swapped): stop, and say so on the record.
    public func driveRemoved() {
        removed.store(true, ordering: .relaxed)
        job.cancel()
    }

    /// Records the drive and the job in the journal: what must be durable before the job's
    /// first write. Done once; `run` does it if nobody did. `WipeRun` prepares every drive
    /// first, so that their erasures start together instead of one journal commit apart
    /// (sixteen drives were ~0.25 s apart at their first write).
    public func prepare() async throws {
        if let done = prepared.withLock({ $0 }) { return try done.get() }
        let journal = context.journal
        let result = await BlockingWork.run("ardoise-journal") { [medium, context, jobID, job, resume, health] in
            Result { () throws -> Void in
                let record = try journal.recordDrive(DriveRecord(
                    model: medium.model, serial: medium.serial, wwn: medium.wwn, sizeInBytes: Int64(medium.sizeInBytes),
                    diskseq: medium.diskSequence.map(Int64.init), devnum: medium.deviceNumber, transport: medium.transport,
                    firmware: medium.firmware))
                // The seed is journaled so that a later job can resume this one.
                try journal.startJob(JobRecord(id: jobID, driveID: record.id, profile: job.profile.name,
                                               technician: context.technician, donor: context.donor, lot: context.lot),
                                     seed: job.options.seed,
                                     resuming: resume.map { JobResumptionRecord(jobID: jobID, resumedFromJobID: $0.fromJobID,
                                                                                firstPassIndex: $0.firstPass - 1) })
                if let health {
                    _ = try journal.appendEvent(kind: JournalEventKind.driveHealth, jobID: jobID,
                                                payload: HealthEvent(device: medium.path, serial: medium.serial, action: "erase", report: health))
                }
            }
        }
        prepared.withLock { $0 = result }
        try result.get()
    }

    /// Runs the job and returns once its certificate is written (or failed to be).
    /// `onEvent` sees every engine event, for progress displays. `gate`: shared by the jobs
    /// started together (`StartGate`); this one counts itself in even if it never starts.
    public func run(gate: StartGate? = nil, onEvent: @escaping @Sendable (WipeEvent) -> Void = { _ in }) async throws -> ErasureOutcome {
        let journal = context.journal
        do {
            try await prepare()
        } catch {
            gate?.arrive()
            throw error
        }
        job.start(gate: gate)
        var report: WipeReport?
        for await event in job.events {
            onEvent(event)
            switch event {
            case .passFinished(let pass):
                let jobID = self.jobID
                await BlockingWork.run("ardoise-journal") { Self.recordPass(pass, jobID: jobID, journal: journal) }
            case .firmwareFinished(let record):
                let jobID = self.jobID
                await BlockingWork.run("ardoise-journal") { Self.recordFirmware(record, jobID: jobID, journal: journal) }
            case .jobFinished(let finished):
                report = finished
            default:
                break
            }
        }
        let final = await job.report
        return await finish(report ?? final)
    }

    private func finish(_ report: WipeReport) async -> ErasureOutcome {
        let status = Self.jobStatus(report, skippedPasses: (resume?.firstPass ?? 1) - 1)
        let reason = Self.reason(report, removed: removed.load(ordering: .relaxed))
        let input = certificateInput(report)
        let (context, jobID, certify, pause) = (self.context, self.jobID, issuesCertificate, self.pause)
        return await BlockingWork.run("ardoise-certificate") {
            // The job row is closed before the certificate: a crash in between leaves a
            // finished job without certificate, never a certificate for a running job.
            try? context.journal.finishJob(id: jobID, status: status, reason: reason)
            pause.point("certificate")
            guard certify else { return ErasureOutcome(jobID: jobID, report: report, jobStatus: status, certificate: nil) }
            do {
                let certificate = try context.issuer.issue(input)
                return ErasureOutcome(jobID: jobID, report: report, jobStatus: status, certificate: certificate)
            } catch {
                return ErasureOutcome(jobID: jobID, report: report, jobStatus: status, certificate: nil,
                                      certificateError: "\(error)")
            }
        }
    }

    /// `skippedPasses`: passes a resumed job did not run because its earlier job completed them.
    static func jobStatus(_ report: WipeReport, skippedPasses: Int = 0) -> JobStatus {
        var report = report
        report.plannedPassCount -= skippedPasses
        return switch report.status {
        case .completed: report.succeeded ? .completed : .completedWithExceptions
        case .completedWithExceptions: .completedWithExceptions
        case .failed: .failed
        case .interrupted: .interrupted
        }
    }

    static func reason(_ report: WipeReport, removed: Bool) -> String? {
        switch report.status {
        case .completed, .completedWithExceptions: return nil
        case .failed(let why): return why.message.english
        case .interrupted(let why):
            if removed || why.code == .vanished { return "drive removed" }
            return why.message.english
        }
    }

    private static func recordPass(_ pass: PassRecord, jobID: UUID, journal: JournalDatabase) {
        _ = try? journal.recordPass(pass, jobID: jobID)
    }

    private static func recordFirmware(_ record: FirmwarePurgeRecord, jobID: UUID, journal: JournalDatabase) {
        _ = try? journal.appendEvent(kind: JournalEventKind.firmwareFinished, jobID: jobID, payload: record)
        if let verification = record.verification {
            _ = try? journal.recordFirmwareVerification(verification, jobID: jobID)
        }
    }

    /// The facts of the job for the certificate; its status is derived there from them.
    func certificateInput(_ report: WipeReport) -> CertificateInput {
        let current = report.passes.filter(\.writes)
        // A resumed job's certificate covers the earlier job's passes too, and says which job ran what.
        let passes = (resume?.certificatePasses ?? []) + current
        // The closing verification is this job's own: an earlier job's read-back predates the pull.
        let final = report.passes.last(where: { $0.verification != nil && $0.verification?.result != .notRun })?.verification
            ?? report.firmware?.verification
        let outcome: CertificateInput.Outcome
        switch report.status {
        case .completed, .completedWithExceptions: outcome = .completed
        case .failed(let why): outcome = .failed(reason: why.message.english)
        case .interrupted(let why):
            outcome = removed.load(ordering: .relaxed) || why.code == .vanished ? .driveRemoved : .interrupted(reason: why.message.english)
        }
        let certificateID = UUID()
        return CertificateInput(
            id: certificateID, jobID: jobID, benchID: context.benchID, organisation: context.organisation,
            technician: Person(name: context.technician), donor: context.donor, lot: context.lot,
            media: Media(manufacturer: medium.vendor, model: medium.model, serial: medium.serial, wwn: medium.wwn,
                         firmware: medium.firmware, type: medium.type, capacityBytes: medium.sizeInBytes,
                         transport: medium.transport, logicalSectorSize: medium.logicalSectorSize,
                         physicalSectorSize: medium.physicalSectorSize),
            hiddenAreas: report.firmware?.hiddenArea.map {
                HiddenAreas(detected: $0.detected, erased: $0.erased, kinds: $0.kinds, hiddenBytes: $0.hiddenBytes)
            },
            category: report.nistCategory == .purge ? .purge : .clear,
            profile: report.profileName, passes: passes,
            firmwareOperations: (report.firmware?.operations ?? []).map {
                FirmwareOperation(command: $0.command, succeeded: $0.succeeded, durationSeconds: $0.durationSeconds,
                                  detail: $0.detail ?? "\($0.method), \($0.commandCount) commands")
            },
            finalVerification: final,
            tool: Tool(version: ArdoiseVersion.string), outcome: outcome,
            startedAt: resume?.startedAt ?? report.startedAt, endedAt: report.endedAt, destination: context.destination,
            additionalExceptions: resume.map { [$0.certificateException(thisJob: jobID, thisJobStartedAt: report.startedAt)] } ?? [],
            health: health.map(DriveHealth.init(report:)),
            verificationURL: context.verificationBaseURL.map {
                StoreSettings.verificationURL(base: $0, certificateID: certificateID.uuidString.lowercased())
            })
    }
}

/// The journal's `drive.health` event: which drive, what the bench did, and the full report.
public struct HealthEvent: Codable, Sendable {
    public var device: String
    public var serial: String
    /// `erase` (the job runs) or `skip` (a `discard` drive left unerased, for destruction).
    public var action: String
    public var report: HealthReport
}

/// The journal's `job.cancelled` event: a job the technician cancelled before its erasure
/// began (no job row exists for it: nothing ran).
public struct CancelledBeforeErasureEvent: Codable, Sendable {
    public var device: String
    public var serial: String
    public var model: String
    /// Where the job was: `health-check` (its SMART reading) or `before-claim`.
    public var stage: String
    /// The health verdict read before the cancel took effect, when there was one.
    public var healthVerdict: String?
}
