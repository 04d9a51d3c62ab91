import ArdoiseSupport
import Certificates
import DeviceKit
import Foundation
import Journal
import Sanitize
import WipeEngine

/// What a technician asked `ardoise sanitize` to do on a real drive (dry runs stay in the
/// command: they send nothing and record nothing).
public struct SanitizeRequest: Sendable {
    public var path: String
    public var method: FirmwareEraseMethod
    public var deviceType: PassthroughDeviceType
    /// Overwrite passes and pattern, NVMe namespace, hidden-area restoration.
    public var options: FirmwareEraseOptions
    /// Suspend to RAM and resume first, to lift a BIOS freeze lock.
    public var unfreeze: Bool

    public init(path: String, method: FirmwareEraseMethod, deviceType: PassthroughDeviceType = .auto,
                options: FirmwareEraseOptions = FirmwareEraseOptions(), unfreeze: Bool = false) {
        self.path = path
        self.method = method
        self.deviceType = deviceType
        self.options = options
        self.unfreeze = unfreeze
    }
}

/// `ardoise sanitize`'s real runs, in Bench: the firmware erase goes through the daemon's
/// firmware step, so a standalone erase is the daemon's purge of one drive: classification
/// and claim (`DriveAccess.claim`), one owner for the journal, an `ErasureSession` whose
/// profile is the firmware step alone (`DriveFirmwarePurger` on the claim: identify, choose,
/// preflight, seeded samples, erase, read-back), the same journal rows (drive, job,
/// `firmware.command` trace, `firmware.finished`, the samples' verification) and the same
/// signed certificate, whose status follows from what the drive did and what was read back.
public enum SanitizeFlow {
    /// The profile of a standalone firmware erase: the daemon's `[firmware]` step with the
    /// named method (`auto`: the strongest purge the drive supports), verified on NIST
    /// samples, with no overwrite passes and no overwrite fallback (that is `ardoise wipe`).
    public static func profile(for method: FirmwareEraseMethod, restoreHiddenArea: Bool) -> WipeProfile {
        WipeProfile(
            name: "sanitize-\(method.rawValue)",
            title: LocalizedText(fr: "Effacement par le firmware : \(method.label.french)", en: "Firmware erase: \(method.label.english)"),
            standard: "NIST SP 800-88 Rev.1 — Purge (firmware)",
            reading: "ardoise sanitize --method \(method.rawValue): the drive's own erase, checked on NIST samples seeded before it",
            nistCategory: .purge, onError: .abort, passes: [],
            firmware: FirmwareStep(method: method.rawValue, verification: .nistSample, restoreHiddenArea: restoreHiddenArea,
                                   finalOverwrite: false, overwriteFallback: false))
    }

    /// Checks and claims the drive, then opens the records and makes the job. Nothing is sent
    /// to the drive yet (except the suspend of `unfreeze`, after the claim).
    ///
    /// The drive is classified and claimed before the data directory is touched: a
    /// protected drive is refused with no lock, journal or file made.
    /// - Parameter echo: also sees every pass-through command line and outcome (the command
    ///   prints them); they always go to the journal.
    /// - Throws: `DeviceError` (protected, vanished…), `SanitizeError` (unfreeze refused),
    ///   `JournalError` (`.ownedByAnotherProcess` beside a daemon or a wipe), `CertificateError`
    ///   (key), `WipeEngineError`.
    public static func start(_ request: SanitizeRequest, config: BenchConfig, technicianFallback: String, language: Language,
                             scanner: DeviceScanner = DeviceScanner(),
                             echo: (@Sendable (TraceRecord) -> Void)? = nil) throws -> SanitizeRun {
        let claim = try DriveAccess.claim(request.path, policy: SafetyPolicy(dataDirectory: config.dataDirectory), scanner: scanner)
        let owner = try JournalOwnerLock.acquire(dataDirectory: config.dataDirectory, role: .sanitize)
        if request.unfreeze {
            // The drive passed the safety classification when it was claimed above.
            try SuspendUnfreezer().suspendAndResume()
        }
        var options = request.options
        if options.namespaceID == nil { options.namespaceID = claim.nvmeNamespaceID() }
        let firmware = DriveFirmwarePurger.journaled(claim: claim, deviceType: request.deviceType, eraseOptions: options, echo: echo)
        return try start(request, medium: MediumDescription(device: claim.info), target: claim, firmware: firmware, config: config,
                         owner: owner, technicianFallback: technicianFallback, language: language)
    }

    /// The same flow on a target the caller has already opened and a firmware step it
    /// supplies (tests: a simulated drive whose media is a regular file).
    public static func start(_ request: SanitizeRequest, medium: MediumDescription, target: any WipeTarget,
                             firmware: @escaping FirmwarePurgerFactory, config: BenchConfig, technicianFallback: String,
                             language: Language) throws -> SanitizeRun {
        let owner = try JournalOwnerLock.acquire(dataDirectory: config.dataDirectory, role: .sanitize)
        return try start(request, medium: medium, target: target, firmware: firmware, config: config, owner: owner,
                         technicianFallback: technicianFallback, language: language)
    }

    private static func start(_ request: SanitizeRequest, medium: MediumDescription, target: any WipeTarget,
                              firmware: @escaping FirmwarePurgerFactory, config: BenchConfig, owner: JournalOwnerLock,
                              technicianFallback: String, language: Language) throws -> SanitizeRun {
        let context = try ErasureContext.opening(config: config, owner: owner, technicianFallback: technicianFallback, language: language)
        let session = try ErasureSession(medium: medium, target: target,
                                         profile: profile(for: request.method, restoreHiddenArea: request.options.restoreHiddenArea),
                                         context: context, firmware: firmware)
        return SanitizeRun(session: session, owner: owner)
    }

    /// `ardoise sanitize`'s exit status (docs/firmware-erase.md): 0 when the drive erased and
    /// the samples read back as its method requires; else the Sanitize code's status (73
    /// unsupported, 74 frozen, 75 locked, 76 timed out, 77 failed or not verified, 78
    /// malformed, 79 transport), 80 when the drive has no firmware purge (use `ardoise wipe`).
    public static func exitStatus(_ outcome: ErasureOutcome) -> Int32 {
        guard let firmware = outcome.report.firmware else { return 77 }
        switch firmware.outcome {
        case .purged where outcome.report.succeeded: return 0
        case .purged, .overwriteFallback: return 77
        case .failed:
            if firmware.failureCode == DriveFirmwarePurger.noFirmwarePurge { return 80 }
            let code = firmware.failureCode.flatMap(SanitizeError.Code.init(rawValue:)) ?? .commandFailed
            return SanitizeError(code, message: firmware.reason).exitCode
        }
    }

    /// Unlocks and disables ATA security with the temporary password recorded for the drive
    /// (in `secretsDirectory`'s files or the bench journal next to it), after an erase left
    /// it locked. Claims the drive first, like an erase. Blocking.
    public static func recover(path: String, deviceType: PassthroughDeviceType, secretsDirectory: String, unfreeze: Bool,
                               scanner: DeviceScanner = DeviceScanner(),
                               trace: @escaping (TraceRecord) -> Void = { _ in },
                               progress: @escaping (FirmwareEraseProgress) -> Void = { _ in }) throws -> FirmwareEraser.RecoveryResult {
        let dataDirectory = (secretsDirectory as NSString).deletingLastPathComponent
        let claim = try DriveAccess.claim(path, policy: SafetyPolicy(dataDirectory: dataDirectory), scanner: scanner)
        let journal = journalBeside(secretsDirectory: secretsDirectory)
        let journalTrace = journal.map { DriveFirmwarePurger.journalTrace($0, jobID: nil) }
        let transport = TracingTransport(wrapping: claim.passthrough()) { record in
            trace(record)
            journalTrace?(record)
        }
        let type = deviceType == .auto ? FirmwareEraser.detectDeviceType(path: path, transport: transport) : deviceType
        let eraser = FirmwareEraser(transport: transport, deviceType: type, secretStore: try secretStore(secretsDirectory: secretsDirectory),
                                    progress: progress)
        if unfreeze {
            // The drive passed the safety classification when it was claimed above.
            try SuspendUnfreezer().suspendAndResume()
        }
        return try withExtendedLifetime(claim) { try eraser.recover() }
    }

    /// Passwords of standalone runs go to files in `secretsDirectory`; lookups (`--recover`)
    /// also search the bench journal next to it, where daemon, `wipe` and `sanitize` jobs keep theirs.
    public static func secretStore(secretsDirectory: String) throws -> SecretStore {
        let files = try FileSecretStore(directory: URL(fileURLWithPath: secretsDirectory))
        guard let journal = journalBeside(secretsDirectory: secretsDirectory) else { return files }
        return ChainedSecretStore(primary: files, lookups: [JournalSecretStore(journal: journal, jobID: nil)])
    }

    /// The bench journal in the data directory that holds `secretsDirectory`, if it exists
    /// (opened as a reader: no owner lock, nothing recovered).
    public static func journalBeside(secretsDirectory: String) -> JournalDatabase? {
        let dataDirectory = (secretsDirectory as NSString).deletingLastPathComponent
        guard FileManager.default.fileExists(atPath: (dataDirectory as NSString).appendingPathComponent(JournalDatabase.fileName)) else { return nil }
        return try? JournalDatabase(dataDirectory: dataDirectory)
    }
}

/// One standalone firmware erase, ready to run.
public final class SanitizeRun: Sendable {
    public let session: ErasureSession
    private let owner: JournalOwnerLock

    init(session: ErasureSession, owner: JournalOwnerLock) {
        self.session = session
        self.owner = owner
    }

    /// Stops the job; it ends interrupted and is never certified "erased".
    public func cancel() { session.cancel() }

    /// Runs the erase and returns once the journal and the certificate are written.
    public func run(onEvent: @escaping @Sendable (WipeEvent) -> Void = { _ in }) async throws -> ErasureOutcome {
        let outcome = try await session.run(onEvent: onEvent)
        session.releaseDrive()
        withExtendedLifetime(owner) {}
        return outcome
    }
}

/// Saves to `primary`; finds a password in `primary` or else the first lookup that has one;
/// removes it everywhere.
public final class ChainedSecretStore: SecretStore {
    public let primary: SecretStore
    public let lookups: [SecretStore]

    public init(primary: SecretStore, lookups: [SecretStore]) {
        self.primary = primary
        self.lookups = lookups
    }

    public func saveTemporaryPassword(_ password: AtaPassword, forDevice deviceKey: String) throws {
        try primary.saveTemporaryPassword(password, forDevice: deviceKey)
    }

    public func temporaryPassword(forDevice deviceKey: String) throws -> AtaPassword? {
        if let found = try primary.temporaryPassword(forDevice: deviceKey) { return found }
        for store in lookups {
            if let found = try store.temporaryPassword(forDevice: deviceKey) { return found }
        }
        return nil
    }

    public func removeTemporaryPassword(forDevice deviceKey: String) throws {
        try primary.removeTemporaryPassword(forDevice: deviceKey)
        for store in lookups { try store.removeTemporaryPassword(forDevice: deviceKey) }
    }
}

/// A drive `ardoise sanitize` erases instead of claiming its path: for test programs only
/// (`ardoise-testbed`'s simulated drive, `ARDOISE_TEST_SIMULATED_DRIVE`). The shipped
/// `ardoise` has none and nothing it reads can give it one. The run is then
/// `SanitizeFlow.start(_:medium:target:firmware:…)`: the same owner lock, job, journal rows
/// and certificate as on a claimed drive.
public struct SanitizeTestDrive: Sendable {
    /// What the certificate prints.
    public var medium: MediumDescription
    /// The media the verification reads back.
    public var target: any WipeTarget
    /// The firmware step's runner (a simulated drive's pass-through).
    public var firmware: FirmwarePurgerFactory

    public init(medium: MediumDescription, target: any WipeTarget, firmware: @escaping FirmwarePurgerFactory) {
        self.medium = medium
        self.target = target
        self.firmware = firmware
    }
}
