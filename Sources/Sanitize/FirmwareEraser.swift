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
    private let sleep: (UInt32) -> Void
    private let progress: (FirmwareEraseProgress) -> Void
    private let makePassword: () -> AtaPassword
    private(set) var commandCount = 0

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

    private func checkFamily(_ method: FirmwareEraseMethod) throws {
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

    private func send(_ command: ScsiCommand) throws -> ScsiResult {
        commandCount += 1
        do { return try transport.scsi(command) } catch let error as PassthroughError { throw SanitizeError.wrapping(error) }
    }

    private func send(_ command: NvmeAdminCommand, dataOut: [UInt8] = []) throws -> NvmeResult {
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

    private func deviceKey(_ id: AtaIdentify) -> String { "ata:\(id.model):\(id.serialNumber)" }

    private func context(_ method: FirmwareEraseMethod, _ model: String, _ serial: String) -> String {
        "\(method.rawValue) on \(model) (serial \(serial))"
    }

    private func commandFailed(_ what: String, _ ctx: String, _ registers: AtaStatusReturn?) -> SanitizeError {
        let detail = registers.map { " (status \(Hex.fixed(UInt64($0.status), width: 2)), error \(Hex.fixed(UInt64($0.error), width: 2)))" } ?? ""
        return SanitizeError(.commandFailed, context: ctx, message: .init(fr: "le disque a refusé \(what)\(detail)", en: "the drive rejected \(what)\(detail)"))
    }

    /// Refuses when the security state forbids erasing (ACS-3 §4.18.11 state table).
    private func checkSecurityState(_ id: AtaIdentify, _ ctx: String, allowEnabledWithRecord: Bool) throws {
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

    // MARK: - ATA SECURITY ERASE UNIT

    private func ataSecurityErase(enhanced: Bool, options: FirmwareEraseOptions) throws -> FirmwareEraseResult {
        let method: FirmwareEraseMethod = enhanced ? .ataSecurityEraseEnhanced : .ataSecurityErase
        var id = try ataIdentify()
        let ctx = context(method, id.model, id.serialNumber)
        guard id.security.supported else {
            throw SanitizeError(.unsupported, context: ctx, message: .init(fr: "le disque n'a pas le jeu de commandes ATA Security", en: "the drive does not implement the ATA Security feature set"))
        }
        if enhanced && !id.security.enhancedEraseSupported {
            throw SanitizeError(.unsupported, context: ctx, message: .init(fr: "le disque ne propose pas l'effacement sécurisé amélioré (mot 128 bit 5)", en: "the drive does not offer the enhanced security erase (word 128 bit 5)"))
        }
        let key = deviceKey(id)
        let recorded = try secretStore.temporaryPassword(forDevice: key)
        try checkSecurityState(id, ctx, allowEnabledWithRecord: recorded != nil)
        let hidden = try ataHiddenAreas(id, restore: options.restoreHiddenArea, ctx: ctx)
        if hidden.restored { id = try ataIdentify() }

        let password: AtaPassword
        if id.security.enabled, let recorded {
            // Ours from an interrupted run: reuse it, do not set a new one.
            password = recorded
        } else {
            password = makePassword()
            // The password is durable BEFORE the drive knows it: a crash after SET PASSWORD
            // always leaves a way back (`recover`).
            try secretStore.saveTemporaryPassword(password, forDevice: key)
            let set = try ata(AtaCommands.securitySetPassword(password))
            if set.failed {
                try? secretStore.removeTemporaryPassword(forDevice: key)
                throw commandFailed("SECURITY SET PASSWORD", ctx, set.registers)
            }
            // Some bridges accept the command but drop the payload: check it took.
            let check = try ataIdentify()
            guard check.security.enabled else {
                try? secretStore.removeTemporaryPassword(forDevice: key)
                throw SanitizeError(.commandFailed, context: ctx, message: .init(
                    fr: "SECURITY SET PASSWORD accepté mais la sécurité n'est pas activée (l'adaptateur perd-il les données ?) ; rien n'a été effacé",
                    en: "SECURITY SET PASSWORD was accepted but security is not enabled (does the adapter drop the data?); nothing was erased"))
            }
        }

        let minutes = (enhanced ? id.security.enhancedEraseTimeMinutes : id.security.eraseTimeMinutes)
        let timeoutMs = FirmwareEraser.securityEraseTimeoutMs(estimateMinutes: minutes)
        progress(FirmwareEraseProgress(method: method, fraction: nil, message: .init(
            fr: "effacement en cours (estimation du disque : \(minutes.map { "\($0) min" } ?? "non fournie"), délai maximal \(timeoutMs / 60_000) min)",
            en: "erasing (drive estimate: \(minutes.map { "\($0) min" } ?? "not reported"), time limit \(timeoutMs / 60_000) min)")))
        // ERASE PREPARE must immediately precede ERASE UNIT (ACS-3 §7.45.4): nothing in between.
        let prepare = try ata(AtaCommands.securityErasePrepare())
        if prepare.failed { throw commandFailed("SECURITY ERASE PREPARE", ctx, prepare.registers) }
        let eraseReply: AtaReply
        do {
            eraseReply = try ata(AtaCommands.securityEraseUnit(password, enhanced: enhanced, timeoutMs: timeoutMs))
        } catch let error as SanitizeError {
            throw SanitizeError(error.code, context: ctx, errno: error.errno, message: .init(
                fr: "\(error.message.french) — l'effacement est interrompu ; le disque peut rester verrouillé : le mot de passe temporaire est conservé, lancez `ardoise sanitize --recover` après l'avoir rebranché.",
                en: "\(error.message.english) — the erase was interrupted; the drive may stay locked: the temporary password is kept, run `ardoise sanitize --recover` after re-plugging it."))
        }
        if eraseReply.failed { throw commandFailed("SECURITY ERASE UNIT", ctx, eraseReply.registers) }

        // ACS-3 §7.45.5: a successful erase leaves security disabled (user password cleared).
        var after = try ataIdentify()
        if after.security.enabled {
            let disable = try ata(AtaCommands.securityDisablePassword(password))
            after = try ataIdentify()
            if disable.failed || after.security.enabled {
                throw SanitizeError(.verificationFailed, context: ctx, message: .init(
                    fr: "après l'effacement la sécurité est toujours active ; le mot de passe temporaire est conservé (`ardoise sanitize --recover`)",
                    en: "security is still enabled after the erase; the temporary password is kept (`ardoise sanitize --recover`)"))
            }
        }
        try secretStore.removeTemporaryPassword(forDevice: key)
        var report = hidden
        if report.hiddenSectorsExisted { report.hiddenSectorsErased = report.restored }
        return FirmwareEraseResult(method: method, nistCategory: method.nistCategory, model: id.model, serialNumber: id.serialNumber,
                                   commandCount: commandCount, hiddenArea: report, appliesToAllNamespaces: nil, notes: [])
    }

    /// SG_IO timeout for SECURITY ERASE UNIT: twice the drive's estimate (words 89/90) plus
    /// 30 minutes; 24 hours when the drive gives no estimate; capped at UInt32.max ms.
    public static func securityEraseTimeoutMs(estimateMinutes: Int?) -> UInt32 {
        guard let minutes = estimateMinutes, minutes > 0 else { return 24 * 3_600_000 }
        let ms = (UInt64(minutes) * 2 + 30) * 60_000
        return UInt32(min(ms, UInt64(UInt32.max)))
    }

    // MARK: - Recover

    /// The outcome of `recover`.
    public struct RecoveryResult: Sendable, Codable {
        public var model: String
        public var serialNumber: String
        public var wasLocked: Bool
        public var securityDisabled: Bool
    }

    /// Unlocks (if locked) and disables security with the recorded temporary password, then
    /// deletes the record. For a drive left locked by an interrupted security erase.
    public func recover() throws -> RecoveryResult {
        let id = try ataIdentify()
        let ctx = "recover on \(id.model) (serial \(id.serialNumber))"
        let key = deviceKey(id)
        guard id.security.enabled || id.security.locked else {
            try? secretStore.removeTemporaryPassword(forDevice: key)
            return RecoveryResult(model: id.model, serialNumber: id.serialNumber, wasLocked: false, securityDisabled: true)
        }
        guard let password = try secretStore.temporaryPassword(forDevice: key) else {
            throw SanitizeError(.noRecordedPassword, context: ctx, message: .init(
                fr: "aucun mot de passe temporaire Ardoise n'est enregistré pour ce disque : il a été verrouillé par quelqu'un d'autre",
                en: "no Ardoise temporary password is recorded for this drive: someone else locked it"))
        }
        if id.security.countExpired {
            throw SanitizeError(.countExpired, context: ctx, message: .init(fr: "compteur d'essais épuisé : éteignez et rallumez le disque, puis relancez --recover", en: "attempt counter expired: power-cycle the drive, then run --recover again"))
        }
        if id.security.frozen {
            throw SanitizeError(.frozen, context: ctx, message: SanitizeError.frozenAdvice)
        }
        if id.security.locked {
            let unlock = try ata(AtaCommands.securityUnlock(password))
            if unlock.failed { throw commandFailed("SECURITY UNLOCK", ctx, unlock.registers) }
        }
        let disable = try ata(AtaCommands.securityDisablePassword(password))
        if disable.failed { throw commandFailed("SECURITY DISABLE PASSWORD", ctx, disable.registers) }
        let after = try ataIdentify()
        guard !after.security.enabled, !after.security.locked else {
            throw SanitizeError(.verificationFailed, context: ctx, message: .init(fr: "la sécurité est toujours active après DISABLE PASSWORD", en: "security is still enabled after DISABLE PASSWORD"))
        }
        try secretStore.removeTemporaryPassword(forDevice: key)
        return RecoveryResult(model: id.model, serialNumber: id.serialNumber, wasLocked: id.security.locked, securityDisabled: true)
    }

    // MARK: - Hidden areas (HPA / AMA / DCO)

    /// Detects an active HPA or Accessible Max Address limit and a DCO restriction; with
    /// `restore`, makes the native capacity addressable again (non-volatile).
    public func detectHiddenAreas(restore: Bool) throws -> HiddenAreaReport {
        let id = try ataIdentify()
        return try ataHiddenAreas(id, restore: restore, ctx: "hidden areas on \(id.model) (serial \(id.serialNumber))")
    }

    func ataHiddenAreas(_ id: AtaIdentify, restore: Bool, ctx: String) throws -> HiddenAreaReport {
        let accessible = id.userAddressableSectors
        var report = HiddenAreaReport(accessibleSectors: accessible, nativeSectors: nil, dcoSectors: nil, method: "none",
                                      hpaPresent: false, dcoPresent: false, restored: false, hiddenSectorsErased: nil)
        guard id.supports48Bit, deviceType != .sat12, !id.security.locked else { return report }
        // ACS-3 drives with Accessible Max Address Configuration answer 78h; older ones 27h.
        if id.supportsAccessibleMaxAddress {
            let reply = try ata(AtaCommands.getNativeMaxAddressExt())
            if !reply.failed, let r = reply.registers, !r.lbaUpperUnknown { report.nativeSectors = r.lba + 1; report.method = "get-native-max-ext" }
        } else if id.supportsHPA {
            let reply = try ata(AtaCommands.readNativeMaxAddressExt())
            // A fixed-format answer without LBA 47:24 leaves the native max unknown: not checked.
            if !reply.failed, let r = reply.registers, !r.lbaUpperUnknown { report.nativeSectors = r.lba + 1; report.method = "read-native-max-ext" }
        }
        if let native = report.nativeSectors { report.hpaPresent = native > accessible }
        if id.supportsDCO && !id.supportsAccessibleMaxAddress {
            let reply = try ata(AtaCommands.dcoIdentify())
            // Checksum as IDENTIFY's word 255 (ACS-2 §7.9.4.2); a bad one means "not checked".
            if !reply.failed, reply.data.count == 512, reply.data[510] != 0xA5 || reply.data.reduce(UInt8(0), &+) == 0 {
                // DCO IDENTIFY words 3-6: maximum LBA the DCO allows (ACS-2 §7.9.4.2).
                let maxLBA = reply.data.le64(6)
                report.dcoSectors = maxLBA + 1
                report.dcoPresent = maxLBA + 1 > (report.nativeSectors ?? accessible)
            }
        }
        guard restore, report.hiddenSectorsExisted else { return report }
        if report.hpaPresent, let native = report.nativeSectors {
            if id.supportsAccessibleMaxAddress {
                let set = try ata(AtaCommands.setAccessibleMaxAddressExt(maxLBA: native - 1))
                if set.failed { throw commandFailed("SET ACCESSIBLE MAX ADDRESS EXT", ctx, set.registers) }
            } else {
                // SET MAX ADDRESS EXT must immediately follow READ NATIVE MAX ADDRESS EXT (ACS-2 §7.51).
                let read = try ata(AtaCommands.readNativeMaxAddressExt())
                if read.failed { throw commandFailed("READ NATIVE MAX ADDRESS EXT", ctx, read.registers) }
                let set = try ata(AtaCommands.setMaxAddressExt(maxLBA: native - 1, nonVolatile: true))
                if set.failed { throw commandFailed("SET MAX ADDRESS EXT", ctx, set.registers) }
            }
        }
        if report.dcoPresent {
            let restoreReply = try ata(AtaCommands.dcoRestore())
            if restoreReply.failed { throw commandFailed("DEVICE CONFIGURATION RESTORE", ctx, restoreReply.registers) }
        }
        let after = try ataIdentify()
        let target = max(report.nativeSectors ?? accessible, report.dcoPresent ? (report.dcoSectors ?? 0) : 0)
        guard after.userAddressableSectors >= target else {
            throw SanitizeError(.verificationFailed, context: ctx, message: .init(
                fr: "la capacité native n'a pas été rétablie (\(after.userAddressableSectors) secteurs au lieu de \(target))",
                en: "the native capacity was not restored (\(after.userAddressableSectors) sectors instead of \(target))"))
        }
        report.restored = true
        return report
    }

    // MARK: - ATA SANITIZE

    /// Reads SANITIZE STATUS EXT (ACS-3 §7.36.6).
    func ataSanitizeStatus(clearFailure: Bool = false) throws -> AtaSanitizeStatus {
        let reply = try ata(AtaCommands.sanitizeStatusExt(clearFailure: clearFailure))
        guard let registers = reply.registers else {
            throw SanitizeError(.transport, context: "SANITIZE STATUS EXT", message: .init(
                fr: "l'adaptateur ne renvoie pas les registres ATA (CK_COND) : impossible de suivre le sanitize",
                en: "the adapter does not return the ATA registers (CK_COND): cannot follow the sanitize"))
        }
        // The status bits live in COUNT 15:12: fixed-format sense cannot carry them.
        if !registers.isError && registers.countUpperUnknown {
            throw SanitizeError(.transport, context: "SANITIZE STATUS EXT", message: .init(
                fr: "l'adaptateur renvoie les registres ATA en format de sense fixe, sans COUNT 15:8 : impossible de suivre le sanitize ; branchez le disque en SATA direct",
                en: "the adapter returns the ATA registers in fixed-format sense, without COUNT 15:8: cannot follow the sanitize; connect the drive directly over SATA"))
        }
        return AtaSanitizeStatus.decode(registers)
    }

    private func ataSanitize(_ method: FirmwareEraseMethod, options: FirmwareEraseOptions) throws -> FirmwareEraseResult {
        var id = try ataIdentify()
        let ctx = context(method, id.model, id.serialNumber)
        let s = id.sanitize
        let supported: Bool
        switch method {
        case .ataSanitizeCrypto: supported = s.supported && s.cryptoScramble
        case .ataSanitizeBlock: supported = s.supported && s.blockErase
        default: supported = s.supported && s.overwrite
        }
        guard supported else {
            throw SanitizeError(.unsupported, context: ctx, message: .init(
                fr: "le disque ne propose pas \(method.label.french) (IDENTIFY mot 59)", en: "the drive does not offer \(method.label.english) (IDENTIFY word 59)"))
        }
        guard deviceType != .sat12 else {
            throw SanitizeError(.unsupported, context: ctx, message: .init(fr: "SANITIZE est une commande 48 bits : ATA PASS-THROUGH(12) ne peut pas la transmettre", en: "SANITIZE is a 48-bit command: ATA PASS-THROUGH(12) cannot carry it"))
        }
        // A locked drive aborts SANITIZE (ACS-3 §4.18.11, SEC4). An expired password counter
        // only blocks the password commands, and a security freeze does not cover SANITIZE.
        if id.security.locked {
            var lockedOnly = id
            lockedOnly.security.countExpired = false
            lockedOnly.security.frozen = false
            try checkSecurityState(lockedOnly, ctx, allowEnabledWithRecord: true)
        }
        let before = try ataSanitizeStatus()
        if before.frozen {
            throw SanitizeError(.frozen, context: ctx, message: SanitizeError.frozenAdvice)
        }
        // A previous failed sanitize (reason 1) is not an obstacle: a new successful
        // sanitize is exactly what clears that state (ACS-3 §4.17.6).
        let hidden = try ataHiddenAreas(id, restore: options.restoreHiddenArea, ctx: ctx)
        if hidden.restored { id = try ataIdentify() }
        let command: AtaCommand
        switch method {
        case .ataSanitizeCrypto: command = AtaCommands.sanitizeCryptoScrambleExt(failureMode: options.allowUnrestrictedExit)
        case .ataSanitizeBlock: command = AtaCommands.sanitizeBlockEraseExt(failureMode: options.allowUnrestrictedExit)
        default:
            let passes = options.overwritePasses
            guard (1...16).contains(passes) else {
                throw SanitizeError(.invalidRequest, context: ctx, message: .init(fr: "ATA OVERWRITE accepte 1 à 16 passes", en: "ATA OVERWRITE takes 1 to 16 passes"))
            }
            command = AtaCommands.sanitizeOverwriteExt(pattern: options.overwritePattern, passes: passes == 16 ? 0 : passes,
                                                       invert: options.invertBetweenPasses, failureMode: options.allowUnrestrictedExit)
        }
        let start = try ata(command)
        if start.failed {
            let reason = start.registers.map { $0.lba & 0xFF } ?? 0
            if reason == 3 { throw SanitizeError(.frozen, context: ctx, message: SanitizeError.frozenAdvice) }
            if reason == 2 { throw SanitizeError(.unsupported, context: ctx, message: .init(fr: "le disque refuse cette commande SANITIZE", en: "the drive rejects this SANITIZE command")) }
            throw commandFailed("SANITIZE (\(method.rawValue))", ctx, start.registers)
        }
        try poll(method: method, options: options, ctx: ctx) {
            let status = try self.ataSanitizeStatus()
            if let reason = status.errorReason {
                throw SanitizeError(.commandFailed, context: ctx, message: .init(
                    fr: "le sanitize a échoué (raison \(reason)) ; le disque reste en mode échec : relancez un sanitize, rien n'est certifié",
                    en: "the sanitize failed (reason \(reason)); the drive stays in failure mode: run a sanitize again, nothing is certified"))
            }
            if status.inProgress { return status.progressFraction ?? 0 }
            guard status.completedWithoutError else {
                throw SanitizeError(.verificationFailed, context: ctx, message: .init(fr: "le sanitize s'est arrêté sans confirmer sa réussite", en: "the sanitize stopped without confirming success"))
            }
            return nil
        }
        var report = hidden
        if report.hiddenSectorsExisted { report.hiddenSectorsErased = report.restored }
        return FirmwareEraseResult(method: method, nistCategory: method.nistCategory, model: id.model, serialNumber: id.serialNumber,
                                   commandCount: commandCount, hiddenArea: report, appliesToAllNamespaces: nil, notes: [])
    }

    /// Polls `check` (returns the fraction done while running, nil when finished) until done,
    /// sleeping `pollIntervalMs` between polls; `.timedOut` after `maxWaitMs`.
    private func poll(method: FirmwareEraseMethod, options: FirmwareEraseOptions, ctx: String, _ check: () throws -> Double?) throws {
        let maxPolls = max(1, options.maxWaitMs / UInt64(max(1, options.pollIntervalMs)))
        var polls: UInt64 = 0
        while true {
            guard let fraction = try check() else {
                progress(FirmwareEraseProgress(method: method, fraction: 1, message: .init(fr: "terminé", en: "done")))
                return
            }
            progress(FirmwareEraseProgress(method: method, fraction: fraction, message: .init(
                fr: "en cours : \(Int(fraction * 100)) %", en: "in progress: \(Int(fraction * 100))%")))
            polls += 1
            if polls >= maxPolls {
                throw SanitizeError(.timedOut, context: ctx, message: .init(
                    fr: "l'opération n'est pas terminée après \(options.maxWaitMs / 60_000) min ; elle continue dans le disque (même après une coupure) — relancez le suivi plus tard",
                    en: "the operation has not finished after \(options.maxWaitMs / 60_000) min; it goes on inside the drive (even across power loss) — check again later"))
            }
            sleep(options.pollIntervalMs)
        }
    }

    // MARK: - NVMe

    func nvmeIdentifyController() throws -> NvmeControllerIdentity {
        let r = try send(NvmeCommands.identifyController())
        guard r.isSuccess else { throw nvmeFailure("Identify Controller", "", r) }
        return try NvmeControllerIdentity.parse(r.dataIn)
    }

    func nvmeIdentifyNamespace(_ nsid: UInt32) throws -> NvmeNamespaceIdentity {
        let r = try send(NvmeCommands.identifyNamespace(nsid: nsid))
        guard r.isSuccess else { throw nvmeFailure("Identify Namespace", "", r) }
        return try NvmeNamespaceIdentity.parse(r.dataIn)
    }

    func nvmeSanitizeLog() throws -> NvmeSanitizeStatusLog {
        let r = try send(NvmeCommands.sanitizeStatusLog())
        guard r.isSuccess else { throw nvmeFailure("Get Log Page 81h", "", r) }
        return try NvmeSanitizeStatusLog.parse(r.dataIn)
    }

    private func nvmeFailure(_ what: String, _ ctx: String, _ r: NvmeResult) -> SanitizeError {
        let status = "SCT \(r.statusCodeType) SC \(Hex.fixed(UInt64(r.statusCode), width: 2))"
        if r.statusCodeType == 0 && (r.statusCode == 0x01 || r.statusCode == 0x02) {
            return SanitizeError(.unsupported, context: ctx, message: .init(fr: "le contrôleur refuse \(what) (\(status) : commande ou champ non pris en charge)", en: "the controller rejects \(what) (\(status): command or field not supported)"))
        }
        if r.statusCodeType == 0 && r.statusCode == 0x1D {
            return SanitizeError(.commandFailed, context: ctx, message: .init(fr: "un sanitize est déjà en cours (\(status)) ; attendez sa fin", en: "a sanitize is already in progress (\(status)); wait for it to finish"))
        }
        return SanitizeError(.commandFailed, context: ctx, message: .init(fr: "le contrôleur a refusé \(what) (\(status))", en: "the controller rejected \(what) (\(status))"))
    }

    private func nvmeFormat(_ method: FirmwareEraseMethod, options: FirmwareEraseOptions) throws -> FirmwareEraseResult {
        let ctrl = try nvmeIdentifyController()
        let ctx = context(method, ctrl.model, ctrl.serialNumber)
        guard ctrl.supportsFormat else {
            throw SanitizeError(.unsupported, context: ctx, message: .init(fr: "le contrôleur ne propose pas Format NVM (OACS bit 1)", en: "the controller does not offer Format NVM (OACS bit 1)"))
        }
        let crypto = method == .nvmeFormatCrypto
        if crypto && !ctrl.formatCryptoEraseSupported {
            throw SanitizeError(.unsupported, context: ctx, message: .init(fr: "le contrôleur ne propose pas l'effacement cryptographique par Format (FNA bit 2)", en: "the controller does not offer cryptographic erase by Format (FNA bit 2)"))
        }
        let nsid = options.namespaceID ?? 1
        if nsid == 0xFFFF_FFFF && ctrl.formatBroadcastUnsupported {
            throw SanitizeError(.unsupported, context: ctx, message: .init(fr: "le contrôleur refuse Format sur tous les espaces de noms (FNA bit 3) ; indiquez un espace de noms", en: "the controller refuses Format on all namespaces (FNA bit 3); give a namespace"))
        }
        let ns = try nvmeIdentifyNamespace(nsid == 0xFFFF_FFFF ? 1 : nsid)
        let command = NvmeCommands.formatNVM(nsid: nsid, secureErase: crypto ? .cryptographic : .userData, lbaFormat: ns.lbaFormatIndex,
                                             metadataSettings: ns.extendedMetadata, protectionInformation: ns.protectionType,
                                             protectionLocation: ns.protectionFirst)
        progress(FirmwareEraseProgress(method: method, fraction: nil, message: .init(fr: "Format NVM en cours (sans indication de progression)", en: "Format NVM running (no progress reported)")))
        let r = try send(command)
        guard r.isSuccess else { throw nvmeFailure("Format NVM", ctx, r) }
        let all = nsid == 0xFFFF_FFFF || ctrl.secureEraseAppliesToAllNamespaces || ctrl.formatAppliesToAllNamespaces
        var notes: [LocalizedText] = []
        if all {
            notes.append(.init(fr: "Le contrôleur applique cet effacement à TOUS ses espaces de noms (FNA) : les \(ctrl.namespaceCount) espace(s) de noms sont effacés.",
                               en: "The controller applies this erase to ALL its namespaces (FNA): all \(ctrl.namespaceCount) namespace(s) are erased."))
        }
        return FirmwareEraseResult(method: method, nistCategory: method.nistCategory, model: ctrl.model, serialNumber: ctrl.serialNumber,
                                   commandCount: commandCount, hiddenArea: nil, appliesToAllNamespaces: all, notes: notes)
    }

    private func nvmeSanitize(_ method: FirmwareEraseMethod, options: FirmwareEraseOptions) throws -> FirmwareEraseResult {
        let ctrl = try nvmeIdentifyController()
        let ctx = context(method, ctrl.model, ctrl.serialNumber)
        let action: NvmeCommands.SanitizeAction
        let supported: Bool
        switch method {
        case .nvmeSanitizeCrypto: action = .cryptoErase; supported = ctrl.sanitizeCryptoErase
        case .nvmeSanitizeBlock: action = .blockErase; supported = ctrl.sanitizeBlockErase
        default: action = .overwrite; supported = ctrl.sanitizeOverwrite
        }
        guard supported else {
            throw SanitizeError(.unsupported, context: ctx, message: .init(fr: "le contrôleur ne propose pas \(method.label.french) (SANICAP)", en: "the controller does not offer \(method.label.english) (SANICAP)"))
        }
        if action == .overwrite && !(1...16).contains(options.overwritePasses) {
            throw SanitizeError(.invalidRequest, context: ctx, message: .init(fr: "NVMe Sanitize Overwrite accepte 1 à 16 passes", en: "NVMe Sanitize Overwrite takes 1 to 16 passes"))
        }
        let before = try nvmeSanitizeLog()
        if before.status == .inProgress {
            throw SanitizeError(.commandFailed, context: ctx, message: .init(fr: "un sanitize est déjà en cours ; attendez sa fin", en: "a sanitize is already in progress; wait for it to finish"))
        }
        let command = NvmeCommands.sanitize(action, ause: options.allowUnrestrictedExit, overwritePasses: options.overwritePasses == 16 ? 0 : options.overwritePasses,
                                            invertBetweenPasses: options.invertBetweenPasses, overwritePattern: options.overwritePattern)
        let r = try send(command)
        guard r.isSuccess else { throw nvmeFailure("Sanitize", ctx, r) }
        try poll(method: method, options: options, ctx: ctx) {
            let log = try self.nvmeSanitizeLog()
            switch log.status {
            case .inProgress: return log.progressFraction ?? 0
            case .succeeded, .succeededNoDeallocate: return nil
            case .failed:
                throw SanitizeError(.commandFailed, context: ctx, message: .init(
                    fr: "le sanitize a échoué (journal 81h, SSTAT=3) ; le contrôleur reste en mode échec jusqu'à un sanitize réussi — rien n'est certifié",
                    en: "the sanitize failed (log 81h, SSTAT=3); the controller stays in failure mode until a sanitize succeeds — nothing is certified"))
            case .neverSanitized:
                throw SanitizeError(.verificationFailed, context: ctx, message: .init(fr: "le journal de sanitize n'indique aucune opération", en: "the sanitize log shows no operation"))
            }
        }
        return FirmwareEraseResult(method: method, nistCategory: method.nistCategory, model: ctrl.model, serialNumber: ctrl.serialNumber,
                                   commandCount: commandCount, hiddenArea: nil, appliesToAllNamespaces: true,
                                   notes: [.init(fr: "Sanitize s'applique à tout le sous-système NVM (tous les espaces de noms).", en: "Sanitize applies to the whole NVM subsystem (all namespaces).")])
    }

    // MARK: - SCSI

    private func scsiErase(_ method: FirmwareEraseMethod, options: FirmwareEraseOptions) throws -> FirmwareEraseResult {
        let identity = try scsiIdentify()
        let model = "\(identity.inquiry.vendor) \(identity.inquiry.product)"
        let serial = identity.serialNumber ?? ""
        let ctx = context(method, model, serial)
        // Refuse before sending when the drive says so; when it cannot say (nil), try and read
        // the answer (ILLEGAL REQUEST → unsupported).
        let listed: Bool?
        switch method {
        case .scsiSanitizeOverwrite: listed = identity.sanitizeOverwrite
        case .scsiSanitizeBlock: listed = identity.sanitizeBlockErase
        case .scsiSanitizeCrypto: listed = identity.sanitizeCryptographicErase
        default: listed = nil
        }
        if listed == false {
            throw SanitizeError(.unsupported, context: ctx, message: .init(
                fr: "le disque ne propose pas \(method.label.french) (REPORT SUPPORTED OPERATION CODES)",
                en: "the drive does not offer \(method.label.english) (REPORT SUPPORTED OPERATION CODES)"))
        }
        let command: ScsiCommand
        let busyQualifier: UInt8
        switch method {
        case .scsiSanitizeOverwrite:
            guard (1...31).contains(options.overwritePasses) else {
                throw SanitizeError(.invalidRequest, context: ctx, message: .init(fr: "SCSI SANITIZE OVERWRITE accepte 1 à 31 passes", en: "SCSI SANITIZE OVERWRITE takes 1 to 31 passes"))
            }
            let p = options.overwritePattern
            let pattern: [UInt8] = [UInt8(p >> 24), UInt8(p >> 16 & 0xFF), UInt8(p >> 8 & 0xFF), UInt8(p & 0xFF)]
            command = ScsiCommands.sanitize(.overwrite, ause: options.allowUnrestrictedExit,
                                            parameterList: ScsiCommands.overwriteParameterList(passes: options.overwritePasses, pattern: pattern, invert: options.invertBetweenPasses))
            busyQualifier = 0x1B
        case .scsiSanitizeBlock:
            command = ScsiCommands.sanitize(.blockErase, ause: options.allowUnrestrictedExit); busyQualifier = 0x1B
        case .scsiSanitizeCrypto:
            command = ScsiCommands.sanitize(.cryptographicErase, ause: options.allowUnrestrictedExit); busyQualifier = 0x1B
        default:
            command = ScsiCommands.formatUnitSecurityInitialize(); busyQualifier = 0x04
        }
        let start = try send(command)
        if start.status != 0 {
            let sense = SenseData.decode(start.sense)
            if let sense, sense.senseKey == 0x5 {
                throw SanitizeError(.unsupported, context: ctx, message: .init(
                    fr: "le disque refuse \(method.label.french) (ILLEGAL REQUEST \(Hex.fixed(UInt64(sense.additionalSenseCode), width: 2))/\(Hex.fixed(UInt64(sense.additionalSenseCodeQualifier), width: 2)))",
                    en: "the drive rejects \(method.label.english) (ILLEGAL REQUEST \(Hex.fixed(UInt64(sense.additionalSenseCode), width: 2))/\(Hex.fixed(UInt64(sense.additionalSenseCodeQualifier), width: 2)))"))
            }
            if let sense, sense.senseKey == 0x2, sense.additionalSenseCode == 0x04 {
                throw SanitizeError(.commandFailed, context: ctx, message: .init(fr: "une opération est déjà en cours sur le disque ; attendez sa fin", en: "an operation is already running on the drive; wait for it to finish"))
            }
            throw SanitizeError(.commandFailed, context: ctx, message: .init(fr: "le disque a refusé \(method.label.french) (statut \(Hex.fixed(UInt64(start.status), width: 2)))", en: "the drive rejected \(method.label.english) (status \(Hex.fixed(UInt64(start.status), width: 2)))"))
        }
        try poll(method: method, options: options, ctx: ctx) {
            let reply = try self.send(ScsiCommands.requestSense())
            guard reply.status == 0, let sense = SenseData.decode(reply.dataIn) else {
                throw SanitizeError(.commandFailed, context: ctx, message: .init(fr: "REQUEST SENSE sans réponse exploitable", en: "REQUEST SENSE gave no usable answer"))
            }
            if sense.senseKey == 0x2 && sense.additionalSenseCode == 0x04 && sense.additionalSenseCodeQualifier == busyQualifier {
                return sense.progressFraction ?? 0
            }
            if sense.senseKey == 0x3 && sense.additionalSenseCode == 0x31 {
                throw SanitizeError(.commandFailed, context: ctx, message: .init(
                    fr: "l'effacement a échoué (MEDIUM ERROR 31h/\(Hex.fixed(UInt64(sense.additionalSenseCodeQualifier), width: 2))) ; rien n'est certifié",
                    en: "the erase failed (MEDIUM ERROR 31h/\(Hex.fixed(UInt64(sense.additionalSenseCodeQualifier), width: 2))); nothing is certified"))
            }
            if sense.senseKey == 0x0 || sense.senseKey == 0x1 { return nil }
            throw SanitizeError(.commandFailed, context: ctx, message: .init(fr: "état inattendu du disque (clé \(sense.senseKey), \(Hex.fixed(UInt64(sense.additionalSenseCode), width: 2))/\(Hex.fixed(UInt64(sense.additionalSenseCodeQualifier), width: 2)))", en: "unexpected drive state (key \(sense.senseKey), \(Hex.fixed(UInt64(sense.additionalSenseCode), width: 2))/\(Hex.fixed(UInt64(sense.additionalSenseCodeQualifier), width: 2)))"))
        }
        return FirmwareEraseResult(method: method, nistCategory: method.nistCategory, model: model, serialNumber: serial,
                                   commandCount: commandCount, hiddenArea: nil, appliesToAllNamespaces: nil, notes: [])
    }
}
