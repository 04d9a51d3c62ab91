import ArdoiseSupport
import DeviceKit
import Foundation

/// What a drive said about itself.
public enum DriveIdentification: Sendable, Codable {
    case ata(AtaIdentify)
    case nvme(controller: NvmeControllerIdentity, namespace: NvmeNamespaceIdentity?)
    case scsi(ScsiIdentity)

    public var model: String {
        switch self {
        case .ata(let id): return id.model
        case .nvme(let c, _): return c.model
        case .scsi(let s): return "\(s.inquiry.vendor) \(s.inquiry.product)"
        }
    }

    public var serialNumber: String {
        switch self {
        case .ata(let id): return id.serialNumber
        case .nvme(let c, _): return c.serialNumber
        case .scsi(let s): return s.serialNumber ?? ""
        }
    }
}

/// Runs firmware erase flows over a `PassthroughTransport`.
///
/// Every method blocks until the drive is done (minutes to hours); call it from the drive's
/// dedicated thread, never from the concurrency pool. Each flow reads the drive's capabilities
/// first and refuses (`SanitizeError`) with a French/English reason when the method is
/// unsupported or the drive is frozen, locked, or expired. Nothing is reported as erased
/// unless the drive confirmed it.
public final class FirmwareEraser {
    public let transport: PassthroughTransport
    /// `.sat`, `.sat12`, `.scsi` or `.nvme` (resolve `.auto` before).
    public let deviceType: PassthroughDeviceType
    public let secretStore: SecretStore
    let sleep: (UInt32) -> Void
    let progress: (FirmwareEraseProgress) -> Void
    let makePassword: () -> AtaPassword
    var commandCount = 0

    /// - Parameters:
    ///   - sleep: waits the given milliseconds between polls (tests pass a no-op).
    ///   - progress: called on this thread at each poll.
    ///   - makePassword: source of the temporary ATA password (random by default).
    public init(transport: PassthroughTransport, deviceType: PassthroughDeviceType, secretStore: SecretStore,
                sleep: @escaping (UInt32) -> Void = { Thread.sleep(forTimeInterval: Double($0) / 1000) },
                progress: @escaping (FirmwareEraseProgress) -> Void = { _ in },
                makePassword: @escaping () -> AtaPassword = { var g = SystemRandomNumberGenerator(); return AtaPassword.random(using: &g) }) {
        self.transport = transport
        self.deviceType = deviceType
        self.secretStore = secretStore
        self.sleep = sleep
        self.progress = progress
        self.makePassword = makePassword
    }

    // MARK: - Identify

    /// Reads the drive's identity with read-only commands (IDENTIFY DEVICE, Identify
    /// Controller + Namespace, or INQUIRY).
    public func identify() throws -> DriveIdentification {
        switch deviceType {
        case .sat, .sat12, .auto:
            return .ata(try ataIdentify())
        case .nvme:
            let controller = try nvmeIdentifyController()
            let namespace = try? nvmeIdentifyNamespace(1)
            return .nvme(controller: controller, namespace: namespace)
        case .scsi:
            return .scsi(try scsiIdentify())
        }
    }

    /// INQUIRY (required), then best effort: VPD 80h serial, READ CAPACITY (16), and REPORT
    /// SUPPORTED OPERATION CODES for SANITIZE service actions 01h-03h. All read-only.
    func scsiIdentify() throws -> ScsiIdentity {
        let result = try send(ScsiCommands.inquiry())
        guard result.status == 0 else {
            throw SanitizeError(.commandFailed, context: "INQUIRY", message: .init(fr: "le disque refuse INQUIRY", en: "the drive rejects INQUIRY"))
        }
        var identity = ScsiIdentity(inquiry: try ScsiInquiry.decode(result.dataIn))
        let vpd = try send(ScsiCommands.inquiry(vpdPage: 0x80, allocationLength: 252))
        if vpd.status == 0 { identity.serialNumber = ScsiIdentity.decodeSerial(vpd.dataIn) }
        let capacity = try send(ScsiCommands.readCapacity16())
        if capacity.status == 0, let c = ScsiIdentity.decodeCapacity(capacity.dataIn) {
            identity.logicalBlocks = c.blocks
            identity.logicalBlockSize = c.blockSize
        }
        func supports(_ action: ScsiCommands.SanitizeAction) throws -> Bool? {
            let r = try send(ScsiCommands.reportSupportedOperationCode(0x48, serviceAction: UInt16(action.rawValue)))
            return r.status == 0 ? ScsiIdentity.decodeSupport(r.dataIn) : nil
        }
        identity.sanitizeOverwrite = try supports(.overwrite)
        if identity.sanitizeOverwrite != nil {
            identity.sanitizeBlockErase = try supports(.blockErase)
            identity.sanitizeCryptographicErase = try supports(.cryptographicErase)
        }
        return identity
    }

    // MARK: - Dispatch

    /// Runs one concrete method (not `.auto`: ask `PurgePlanner` first).
    public func erase(_ method: FirmwareEraseMethod, options: FirmwareEraseOptions = FirmwareEraseOptions()) throws -> FirmwareEraseResult {
        try checkFamily(method)
        commandCount = 0
        switch method {
        case .ataSecurityErase: return try ataSecurityErase(enhanced: false, options: options)
        case .ataSecurityEraseEnhanced: return try ataSecurityErase(enhanced: true, options: options)
        case .ataSanitizeCrypto, .ataSanitizeBlock, .ataSanitizeOverwrite: return try ataSanitize(method, options: options)
        case .nvmeFormatUserData, .nvmeFormatCrypto: return try nvmeFormat(method, options: options)
        case .nvmeSanitizeBlock, .nvmeSanitizeCrypto, .nvmeSanitizeOverwrite: return try nvmeSanitize(method, options: options)
        case .scsiSanitizeOverwrite, .scsiSanitizeBlock, .scsiSanitizeCrypto, .scsiFormatSecure: return try scsiErase(method, options: options)
        case .auto:
            throw SanitizeError(.invalidRequest, context: "auto", message: .init(fr: "« auto » doit d'abord passer par PurgePlanner", en: "'auto' must be resolved by PurgePlanner first"))
        }
    }

    /// The read-only checks the flow of `method` makes before it changes anything (ATA freeze
    /// lock, locked drive, expired password counter, sanitize frozen), so a caller can refuse
    /// before writing anything of its own (the bench's check samples). The flow repeats them.
    public func preflight(_ method: FirmwareEraseMethod) throws {
        try checkFamily(method)
        guard method.family == .ata else { return }
        let id = try ataIdentify()
        let ctx = context(method, id.model, id.serialNumber)
        switch method {
        case .ataSecurityErase, .ataSecurityEraseEnhanced:
            let recorded = try secretStore.temporaryPassword(forDevice: deviceKey(id))
            try checkSecurityState(id, ctx, allowEnabledWithRecord: recorded != nil)
        default:
            if id.security.locked {
                var lockedOnly = id
                lockedOnly.security.countExpired = false
                lockedOnly.security.frozen = false
                try checkSecurityState(lockedOnly, ctx, allowEnabledWithRecord: true)
            }
            guard deviceType != .sat12 else { return }
            if try ataSanitizeStatus().frozen {
                throw SanitizeError(.frozen, context: ctx, message: SanitizeError.frozenAdvice)
            }
        }
    }

    func checkFamily(_ method: FirmwareEraseMethod) throws {
        let ok: Bool
        switch method.family {
        case .ata: ok = deviceType == .sat || deviceType == .sat12
        case .nvme: ok = deviceType == .nvme
        case .scsi: ok = deviceType == .scsi || deviceType == .sat
        case .any: ok = true
        }
        guard ok else {
            throw SanitizeError(.invalidRequest, context: "\(method.rawValue) on device type \(deviceType.rawValue)",
                                message: .init(fr: "la méthode \(method.rawValue) ne s'applique pas à un périphérique de type \(deviceType.rawValue)",
                                               en: "method \(method.rawValue) does not apply to a \(deviceType.rawValue) device"))
        }
    }

    // MARK: - Transport helpers

    func send(_ command: ScsiCommand) throws -> ScsiResult {
        commandCount += 1
        do { return try transport.scsi(command) } catch let error as PassthroughError { throw SanitizeError.wrapping(error) }
    }

    func send(_ command: NvmeAdminCommand, dataOut: [UInt8] = []) throws -> NvmeResult {
        commandCount += 1
        do { return try transport.nvmeAdmin(command, dataOut: dataOut) } catch let error as PassthroughError { throw SanitizeError.wrapping(error) }
    }

    /// The answer of one ATA command through the SATL.
    struct AtaReply {
        var registers: AtaStatusReturn?
        var data: [UInt8]
        var failed: Bool
        var sense: SenseData?
    }

    /// Sends an ATA command as PASS-THROUGH(16) or (12) and interprets the SCSI answer:
    /// GOOD → success; CHECK CONDITION with the ATA Status Return descriptor → the ATA status
    /// decides (with CK_COND that is the normal success path, SAT-4 §12.2.2.1); CHECK
    /// CONDITION ILLEGAL REQUEST / INVALID COMMAND OPERATION CODE on the pass-through opcode
    /// itself → the bridge does not pass ATA commands.
    func ata(_ command: AtaCommand) throws -> AtaReply {
        let result = try send(try command.scsiCommand(twelveByte: deviceType == .sat12))
        let sense = SenseData.decode(result.sense)
        if result.status == 0 {
            return AtaReply(registers: sense?.ataStatus, data: result.dataIn, failed: false, sense: sense)
        }
        guard result.status == 0x02, let sense else {
            return AtaReply(registers: nil, data: [], failed: true, sense: nil)
        }
        if let registers = sense.ataStatus {
            return AtaReply(registers: registers, data: result.dataIn, failed: registers.isError, sense: sense)
        }
        if sense.senseKey == 0x5 && sense.additionalSenseCode == 0x20 {
            throw SanitizeError(.transport, context: "ATA PASS-THROUGH",
                                message: .init(fr: "l'adaptateur (pont USB ?) ne transmet pas les commandes ATA ; essayez --device-type sat12 ou branchez le disque en SATA direct",
                                               en: "the adapter (USB bridge?) does not pass ATA commands through; try --device-type sat12 or connect the drive directly over SATA"))
        }
        let ok = sense.senseKey == 0x0 || sense.senseKey == 0x1
        return AtaReply(registers: nil, data: result.dataIn, failed: !ok, sense: sense)
    }

    func ataIdentify() throws -> AtaIdentify {
        let reply = try ata(AtaCommands.identifyDevice())
        guard !reply.failed else {
            throw SanitizeError(.commandFailed, context: "IDENTIFY DEVICE", message: .init(fr: "le disque refuse IDENTIFY DEVICE", en: "the drive rejects IDENTIFY DEVICE"))
        }
        return try AtaIdentify.parse(reply.data)
    }

    func deviceKey(_ id: AtaIdentify) -> String { "ata:\(id.model):\(id.serialNumber)" }

    func context(_ method: FirmwareEraseMethod, _ model: String, _ serial: String) -> String {
        "\(method.rawValue) on \(model) (serial \(serial))"
    }

    func commandFailed(_ what: String, _ ctx: String, _ registers: AtaStatusReturn?) -> SanitizeError {
        let detail = registers.map { " (status \(Hex.fixed(UInt64($0.status), width: 2)), error \(Hex.fixed(UInt64($0.error), width: 2)))" } ?? ""
        return SanitizeError(.commandFailed, context: ctx, message: .init(fr: "le disque a refusé \(what)\(detail)", en: "the drive rejected \(what)\(detail)"))
    }

    /// Refuses when the security state forbids erasing (ACS-3 §4.18.11 state table).
    func checkSecurityState(_ id: AtaIdentify, _ ctx: String, allowEnabledWithRecord: Bool) throws {
        let s = id.security
        if s.countExpired {
            throw SanitizeError(.countExpired, context: ctx, message: .init(
                fr: "trop de mots de passe erronés : le disque refuse tout essai jusqu'à sa remise sous tension. Éteignez-le puis rallumez-le (débranchez l'alimentation), puis relancez.",
                en: "too many wrong passwords: the drive refuses further attempts until it is power-cycled. Power it off and on (unplug power), then try again."))
        }
        if s.locked {
            throw SanitizeError(.locked, context: ctx, message: .init(
                fr: "le disque est verrouillé par un mot de passe. Si un effacement Ardoise a été interrompu, lancez `ardoise sanitize --recover` ; sinon le mot de passe du propriétaire est nécessaire.",
                en: "the drive is locked by a password. If an Ardoise erase was interrupted, run `ardoise sanitize --recover`; otherwise the owner's password is needed."))
        }
        if s.frozen {
            throw SanitizeError(.frozen, context: ctx, message: SanitizeError.frozenAdvice)
        }
        if s.enabled && !allowEnabledWithRecord {
            throw SanitizeError(.locked, context: ctx, message: .init(
                fr: "un mot de passe utilisateur inconnu est déjà posé sur le disque ; il faut ce mot de passe (ou le mot de passe maître) pour l'effacer.",
                en: "an unknown user password is already set on the drive; that password (or the master password) is needed to erase it."))
        }
    }
}
