import ArdoiseSupport
import DeviceKit
import Foundation
import Journal
import Sanitize
import WipeEngine

/// The bench's firmware step for profiles with `[firmware]` (`nist-800-88-purge`): identify
/// the drive over pass-through, choose the method (`PurgePlanner` for `auto`), seed NIST
/// samples with known data through the block device, run the erase (`FirmwareEraser`), then
/// read the samples back and apply the method's `PurgeVerificationRule`.
///
/// Used by one job on its own thread; the transport and secret store it makes are touched
/// only there (hence `@unchecked Sendable`).
public final class DriveFirmwarePurger: FirmwarePurging, @unchecked Sendable {
    /// Opens the pass-through path to the drive the job's target writes to, and says how to
    /// talk to it (`.auto` is resolved by probing).
    public typealias TransportFactory = () throws -> (transport: PassthroughTransport, deviceType: PassthroughDeviceType)

    private let makeTransport: TransportFactory
    private let secretStore: SecretStore
    private let trace: (TraceRecord) -> Void
    private let sleep: (UInt32) -> Void
    private let eraseOptions: FirmwareEraseOptions
    private let sampleLength: Int

    /// - Parameters:
    ///   - trace: every command line and its outcome, in the audit grammar (to the journal).
    ///   - sleep: waits between progress polls (tests pass a no-op).
    ///   - sampleLength: bytes per verification sample (rounded to sectors).
    public init(makeTransport: @escaping TransportFactory, secretStore: SecretStore,
                eraseOptions: FirmwareEraseOptions = FirmwareEraseOptions(), sampleLength: Int = 4096,
                sleep: @escaping (UInt32) -> Void = { Thread.sleep(forTimeInterval: Double($0) / 1000) },
                trace: @escaping (TraceRecord) -> Void = { _ in }) {
        self.makeTransport = makeTransport
        self.secretStore = secretStore
        self.eraseOptions = eraseOptions
        self.sampleLength = sampleLength
        self.sleep = sleep
        self.trace = trace
    }

    /// For the job's claimed drive: SG_IO / NVMe admin ioctls on the claim's own descriptor
    /// (the one the passes write through), each after an identity re-check; the node is never
    /// reopened by path.
    public static func forClaim(_ drive: ClaimedDrive, deviceType: PassthroughDeviceType = .auto, secretStore: SecretStore,
                                eraseOptions: FirmwareEraseOptions = FirmwareEraseOptions(),
                                trace: @escaping (TraceRecord) -> Void = { _ in }) -> DriveFirmwarePurger {
        DriveFirmwarePurger(makeTransport: {
            let transport = drive.passthrough()
            let type = deviceType == .auto ? FirmwareEraser.detectDeviceType(path: drive.path, transport: transport) : deviceType
            return (transport, type)
        }, secretStore: secretStore, eraseOptions: eraseOptions, trace: trace)
    }

    public func purge(target: any WipeTarget, step: FirmwareStep, seed: [UInt8],
                      progress: @escaping @Sendable (FirmwarePurgeProgress) -> Void) -> FirmwarePurgeRecord {
        let clock = ContinuousClock()
        let start = clock.now
        func elapsed() -> Double { (clock.now - start).seconds }
        func failed(_ reason: LocalizedText, code: String, operations: [FirmwarePurgeRecord.Operation] = []) -> FirmwarePurgeRecord {
            .failed(reason, operations: operations, durationSeconds: elapsed(), code: code)
        }

        // 1. Reach the drive and ask what it is (read-only commands).
        let tracing: TracingTransport
        let eraser: FirmwareEraser
        let identification: DriveIdentification
        do {
            let (transport, type) = try makeTransport()
            tracing = TracingTransport(wrapping: transport, sink: trace)
            eraser = FirmwareEraser(transport: tracing, deviceType: type, secretStore: secretStore, sleep: sleep, progress: { p in
                progress(FirmwarePurgeProgress(fraction: p.fraction, message: p.message))
            })
            identification = try eraser.identify()
        } catch {
            return failed(Self.describe(error, fr: "le disque ne répond pas aux commandes firmware (pont USB sans pass-through ?)",
                                        en: "the drive does not answer firmware commands (USB bridge without pass-through?)"),
                          code: Self.code(error, otherwise: .transport))
        }

        // 2. Choose.
        let method: FirmwareEraseMethod
        let reason: LocalizedText
        if step.method == FirmwareEraseMethod.auto.rawValue {
            switch PurgePlanner.plan(identification) {
            case .firmware(let chosen, let why):
                method = chosen
                reason = why
            case .overwritePasses(let why):
                guard step.overwriteFallback else {
                    return failed(LocalizedText(fr: "\(why.french) ; le profil n'autorise pas de repli sur la réécriture",
                                                en: "\(why.english); the profile allows no overwrite fallback"),
                                  code: Self.noFirmwarePurge)
                }
                return FirmwarePurgeRecord(outcome: .overwriteFallback, reason: why, driveModel: identification.model,
                                           driveSerial: identification.serialNumber, durationSeconds: elapsed())
            case .cannotPurge(let why):
                return failed(why, code: SanitizeError.Code.unsupported.rawValue)
            }
        } else if let named = FirmwareEraseMethod(rawValue: step.method) {
            method = named
            reason = LocalizedText(fr: "méthode imposée par le profil", en: "method named by the profile")
        } else {
            return failed(LocalizedText(fr: "méthode firmware inconnue : \(step.method)", en: "unknown firmware method: \(step.method)"),
                          code: SanitizeError.Code.invalidRequest.rawValue)
        }
        progress(FirmwarePurgeProgress(fraction: 0, message: LocalizedText(fr: "\(method.label.french) — \(reason.french)",
                                                                          en: "\(method.label.english) — \(reason.english)")))

        // A frozen or locked drive is refused before anything is written.
        do {
            try eraser.preflight(method)
        } catch {
            let message = Self.describe(error, fr: "le disque refuse l'effacement", en: "the drive refuses the erase")
            return failed(message, code: Self.code(error, otherwise: .commandFailed), operations: [FirmwarePurgeRecord.Operation(
                command: method.label.english, method: method.rawValue, succeeded: false, durationSeconds: 0,
                commandCount: 0, detail: message.english)])
        }

        // 3. Seed the samples with known data, so the read-back after the erase proves a change
        //    even where the drive held zeroes or deallocated blocks.
        let plan = SampledBlocks.plan(for: step.verification, target: target, sampleLength: sampleLength, seed: seed)
        do {
            try SampledBlocks.write(plan, to: target) { SampledBlocks.seedContent(seed: seed, index: $0, length: plan.sampleLength) }
        } catch {
            return failed(LocalizedText(fr: "écriture des échantillons de contrôle impossible avant l'effacement : \(error)",
                                        en: "cannot write the check samples before the erase: \(error)"),
                          code: SanitizeError.Code.transport.rawValue)
        }

        // 4. The erase. Nothing is certified unless the drive confirmed it.
        var options = eraseOptions
        options.restoreHiddenArea = step.restoreHiddenArea
        let eraseStart = clock.now
        let commandsBefore = tracing.commandLines.count
        let result: FirmwareEraseResult
        do {
            result = try eraser.erase(method, options: options)
        } catch {
            let message = Self.describe(error, fr: "échec de l'effacement", en: "erase failed")
            let operation = FirmwarePurgeRecord.Operation(
                command: method.label.english, method: method.rawValue, succeeded: false,
                durationSeconds: (clock.now - eraseStart).seconds,
                commandCount: tracing.commandLines.count - commandsBefore, detail: message.english)
            return failed(message, code: Self.code(error, otherwise: .commandFailed), operations: [operation])
        }
        var operation = FirmwarePurgeRecord.Operation(
            command: method.label.english, method: method.rawValue, succeeded: true,
            durationSeconds: (clock.now - eraseStart).seconds, commandCount: tracing.commandLines.count - commandsBefore)
        if result.appliesToAllNamespaces == true {
            operation.detail = "applies to all namespaces of the controller"
        }

        // 5. Read the samples back.
        let rule = PurgeVerificationRule.rule(for: method, options: options)
        let verifyStart = clock.now
        var failedOffsets: [UInt64] = []
        var failedCount = 0
        var compared: UInt64 = 0
        var readError: WipeTargetError?
        do {
            try SampledBlocks.read(plan, from: target) { index, offset, bytes in
                let before = SampledBlocks.seedContent(seed: seed, index: index, length: bytes.count)
                compared += UInt64(bytes.count)
                if !rule.check(before: [before], after: [Array(bytes)]).passed {
                    failedCount += 1
                    if failedOffsets.count < 16 { failedOffsets.append(offset) }
                }
            }
        } catch {
            readError = error
        }
        let passed = readError == nil && failedCount == 0
        let verification = VerificationRecord(
            mode: step.verification.description, result: readError != nil ? .incomplete : passed ? .passed : .failed,
            bytesCompared: compared, sampleCount: plan.ranges.count, sampleLength: plan.sampleLength,
            sampleDescription: plan.description + "; samples seeded with known data before the erase; rule: \(Self.describe(rule))",
            sampleOffsets: plan.ranges.count <= 10_000 ? plan.ranges.map(\.start) : nil,
            firstBadOffsets: failedOffsets, durationSeconds: (clock.now - verifyStart).seconds)

        var hidden: FirmwarePurgeRecord.HiddenArea?
        if let h = result.hiddenArea {
            var kinds: [String] = []
            if h.hpaPresent { kinds.append(h.method == "get-native-max-ext" ? "ama" : "hpa") }
            if h.dcoPresent { kinds.append("dco") }
            let top = max(h.nativeSectors ?? h.accessibleSectors, h.dcoSectors ?? 0)
            let hiddenBytes = top > h.accessibleSectors ? (top - h.accessibleSectors) * UInt64(target.logicalSectorSize) : nil
            hidden = .init(detected: h.hiddenSectorsExisted, erased: h.hiddenSectorsErased, kinds: kinds, hiddenBytes: hiddenBytes)
        }
        let outcomeReason: LocalizedText
        if let readError {
            outcomeReason = LocalizedText(fr: "effacement fait, mais relecture des échantillons impossible : \(readError)",
                                          en: "erase done, but the samples cannot be read back: \(readError)")
        } else if !passed {
            outcomeReason = LocalizedText(fr: "\(failedCount) échantillon(s) sur \(plan.ranges.count) ne sont pas effacés comme attendu : rien n'est certifié",
                                          en: "\(failedCount) of \(plan.ranges.count) sample(s) are not erased as expected: nothing is certified")
        } else {
            outcomeReason = reason
        }
        return FirmwarePurgeRecord(
            outcome: passed ? .purged : .failed, reason: outcomeReason, driveModel: result.model, driveSerial: result.serialNumber,
            operations: [operation], hiddenArea: hidden, verification: verification,
            notes: result.notes, durationSeconds: elapsed(),
            failureCode: passed ? nil : SanitizeError.Code.verificationFailed.rawValue)
    }

    /// `FirmwarePurgeRecord.failureCode` when the drive has no firmware purge and the step
    /// allows no overwrite fallback (`ardoise sanitize --method auto` on a hard disk).
    public static let noFirmwarePurge = "noFirmwarePurge"

    private static func code(_ error: Error, otherwise: SanitizeError.Code) -> String {
        ((error as? SanitizeError)?.code ?? otherwise).rawValue
    }

    private static func describe(_ rule: PurgeVerificationRule) -> String {
        switch rule {
        case .noBlockEqualsBefore: "no sample may still hold its seeded content"
        case .allBytes(let byte): "every byte reads " + Hex.fixed(UInt64(byte), width: 2)
        case .uniformAndChanged: "every sample reads one repeated byte (the erased state)"
        case .pattern(let bytes): "every sample reads the pattern " + Hex.encode(bytes)
        }
    }

    private static func describe(_ error: Error, fr: String, en: String) -> LocalizedText {
        if let error = error as? SanitizeError { return error.message }
        return LocalizedText(fr: "\(fr) : \(error)", en: "\(en): \(error)")
    }
}

/// Builds a job's firmware step runner from the job's id and journal.
public typealias FirmwarePurgerFactory = @Sendable (_ jobID: UUID, _ journal: JournalDatabase) -> any FirmwarePurging

extension DriveFirmwarePurger {
    /// The bench's runner for a block device: temporary ATA passwords and every command line
    /// (with its outcome) go to the journal under the job.
    /// `eraseOptions`: overwrite passes and pattern, NVMe namespace (`ardoise sanitize`'s
    /// options); `restoreHiddenArea` comes from the profile's step.
    /// `echo` also sees every trace record (`ardoise sanitize` prints them).
    public static func journaled(claim drive: ClaimedDrive, deviceType: PassthroughDeviceType = .auto,
                                 eraseOptions: FirmwareEraseOptions = FirmwareEraseOptions(),
                                 echo: (@Sendable (TraceRecord) -> Void)? = nil) -> FirmwarePurgerFactory {
        { jobID, journal in
            let journaling = journalTrace(journal, jobID: jobID)
            return forClaim(drive, deviceType: deviceType, secretStore: JournalSecretStore(journal: journal, jobID: jobID),
                            eraseOptions: eraseOptions, trace: { record in
                                journaling(record)
                                echo?(record)
                            })
        }
    }

    /// Appends each trace record to the journal as a `firmware.command` event.
    public static func journalTrace(_ journal: JournalDatabase, jobID: UUID?) -> (TraceRecord) -> Void {
        { record in
            _ = try? journal.appendEvent(kind: JournalEventKind.firmwareCommand, jobID: jobID,
                                         payload: ["kind": record.kind.rawValue, "line": record.text])
        }
    }
}

/// Temporary ATA passwords kept in the journal (table `firmware_secrets`) from before SECURITY
/// SET PASSWORD until the erase is confirmed, so `ardoise sanitize --recover` can always unlock
/// a drive left locked. `save` returns after the SQLite commit (WAL, synchronous), so the
/// record is durable before the password reaches the drive.
public final class JournalSecretStore: SecretStore {
    public let journal: JournalDatabase
    /// The job that saves; nil for a store that only looks up and clears (recovery).
    public let jobID: UUID?

    public init(journal: JournalDatabase, jobID: UUID?) {
        self.journal = journal
        self.jobID = jobID
    }

    public func saveTemporaryPassword(_ password: AtaPassword, forDevice deviceKey: String) throws {
        guard let jobID else {
            throw SanitizeError(.secretStore, context: deviceKey, message: .init(fr: "aucune tâche à laquelle rattacher le mot de passe temporaire", en: "no job to attach the temporary password to"))
        }
        do {
            try journal.storeFirmwareSecret(FirmwareSecretRecord(jobID: jobID, deviceSerial: deviceKey,
                                                                 temporaryPassword: Hex.bytes(password.bytes).replacingOccurrences(of: " ", with: "")))
        } catch {
            throw SanitizeError(.secretStore, context: deviceKey, message: .init(fr: "enregistrement du mot de passe temporaire dans le journal impossible : \(error)",
                                                                                 en: "cannot record the temporary password in the journal: \(error)"))
        }
    }

    public func temporaryPassword(forDevice deviceKey: String) throws -> AtaPassword? {
        let pending: [FirmwareSecretRecord]
        do { pending = try journal.pendingFirmwareSecrets() } catch {
            throw SanitizeError(.secretStore, context: deviceKey, message: .init(fr: "lecture du journal impossible : \(error)", en: "cannot read the journal: \(error)"))
        }
        guard let record = pending.last(where: { $0.deviceSerial == deviceKey }), let hex = record.temporaryPassword else { return nil }
        guard let bytes = Hex.parse(hex), let password = AtaPassword(bytes: bytes) else {
            throw SanitizeError(.secretStore, context: "journal firmware_secrets #\(record.id ?? 0)",
                                message: .init(fr: "mot de passe temporaire illisible dans le journal", en: "unreadable temporary password in the journal"))
        }
        return password
    }

    public func removeTemporaryPassword(forDevice deviceKey: String) throws {
        do {
            for job in Set(try journal.pendingFirmwareSecrets().filter { $0.deviceSerial == deviceKey }.map(\.jobID)) {
                try journal.clearFirmwareSecrets(jobID: job)
            }
        } catch {
            throw SanitizeError(.secretStore, context: deviceKey, message: .init(fr: "effacement du mot de passe temporaire du journal impossible : \(error)",
                                                                                 en: "cannot clear the temporary password from the journal: \(error)"))
        }
    }
}
