import ArdoiseSupport
import DeviceKit
import Foundation

// ATA flows of `FirmwareEraser`: SECURITY ERASE UNIT, recovery of a drive left locked,
// hidden areas (HPA / AMA / DCO), SANITIZE and the progress poll they share.
extension FirmwareEraser {
    // MARK: - ATA SECURITY ERASE UNIT

    func ataSecurityErase(enhanced: Bool, options: FirmwareEraseOptions) throws -> FirmwareEraseResult {
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

    func ataSanitize(_ method: FirmwareEraseMethod, options: FirmwareEraseOptions) throws -> FirmwareEraseResult {
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
    func poll(method: FirmwareEraseMethod, options: FirmwareEraseOptions, ctx: String, _ check: () throws -> Double?) throws {
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
}
