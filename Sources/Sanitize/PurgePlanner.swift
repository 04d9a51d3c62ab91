import ArdoiseSupport

/// What kind of drive a purge is planned for.
public enum DriveKind: String, Sendable, Codable {
    case nvme
    case sataSolidState = "sata-ssd"
    case sataHardDisk = "sata-hdd"
    case scsi
}

/// The capabilities the planner needs, from IDENTIFY / Identify Controller.
public struct PurgeCapabilities: Sendable, Hashable, Codable {
    public var kind: DriveKind
    public var sanitizeCrypto = false
    public var sanitizeBlock = false
    public var sanitizeOverwrite = false
    public var securityErase = false
    public var enhancedSecurityErase = false
    public var formatUserData = false
    public var formatCrypto = false

    public init(kind: DriveKind) { self.kind = kind }

    /// From ATA IDENTIFY DEVICE: word 217 = 1 (non-rotating) → SSD, anything else → HDD.
    public init(ata id: AtaIdentify) {
        kind = id.isSolidState ? .sataSolidState : .sataHardDisk
        sanitizeCrypto = id.sanitize.supported && id.sanitize.cryptoScramble
        sanitizeBlock = id.sanitize.supported && id.sanitize.blockErase
        sanitizeOverwrite = id.sanitize.supported && id.sanitize.overwrite
        securityErase = id.security.supported
        enhancedSecurityErase = id.security.supported && id.security.enhancedEraseSupported
    }

    /// From NVMe Identify Controller: SANICAP bits 2:0, OACS bit 1, FNA bit 2.
    public init(nvme c: NvmeControllerIdentity) {
        kind = .nvme
        sanitizeCrypto = c.sanitizeCryptoErase
        sanitizeBlock = c.sanitizeBlockErase
        sanitizeOverwrite = c.sanitizeOverwrite
        formatUserData = c.supportsFormat
        formatCrypto = c.supportsFormat && c.formatCryptoEraseSupported
    }
}

/// The planner's answer.
public enum PurgeDecision: Sendable, Hashable {
    /// Run this firmware method.
    case firmware(FirmwareEraseMethod, reason: LocalizedText)
    /// No firmware purge for this hard disk: the engine runs overwrite passes (NIST Clear by
    /// overwrite; for HDDs an overwrite reaches every addressable sector).
    case overwritePasses(reason: LocalizedText)
    /// Nothing reaches NIST Purge on this drive (an SSD without sanitize or enhanced erase:
    /// an overwrite cannot reach spare flash).
    case cannotPurge(reason: LocalizedText)

    public var method: FirmwareEraseMethod? {
        if case .firmware(let m, _) = self { return m }
        return nil
    }
}

/// Picks, per drive, the strongest supported NIST SP 800-88 Purge technique — the
/// `nist-800-88-purge` profile's rule (issue 6):
/// NVMe: sanitize crypto, else block, else Format SES=2, else SES=1;
/// SATA SSD: sanitize crypto or block, else enhanced security erase;
/// HDD: sanitize overwrite, else overwrite passes.
/// Capability only: a frozen or locked drive is refused later by the flow, with advice.
public enum PurgePlanner {
    public static func plan(_ c: PurgeCapabilities) -> PurgeDecision {
        switch c.kind {
        case .nvme:
            if c.sanitizeCrypto { return .firmware(.nvmeSanitizeCrypto, reason: .init(fr: "NVMe : sanitize cryptographique disponible", en: "NVMe: crypto-erase sanitize available")) }
            if c.sanitizeBlock { return .firmware(.nvmeSanitizeBlock, reason: .init(fr: "NVMe : sanitize par effacement de blocs", en: "NVMe: block-erase sanitize")) }
            if c.formatCrypto { return .firmware(.nvmeFormatCrypto, reason: .init(fr: "NVMe sans sanitize : Format avec effacement cryptographique (SES=2)", en: "NVMe without sanitize: Format with crypto erase (SES=2)")) }
            if c.formatUserData { return .firmware(.nvmeFormatUserData, reason: .init(fr: "NVMe sans sanitize : Format avec effacement des données (SES=1)", en: "NVMe without sanitize: Format with user data erase (SES=1)")) }
            return .cannotPurge(reason: .init(fr: "ce contrôleur NVMe n'a ni Sanitize ni Format NVM", en: "this NVMe controller has neither Sanitize nor Format NVM"))
        case .sataSolidState:
            if c.sanitizeCrypto { return .firmware(.ataSanitizeCrypto, reason: .init(fr: "SSD SATA : SANITIZE CRYPTO SCRAMBLE", en: "SATA SSD: SANITIZE CRYPTO SCRAMBLE")) }
            if c.sanitizeBlock { return .firmware(.ataSanitizeBlock, reason: .init(fr: "SSD SATA : SANITIZE BLOCK ERASE", en: "SATA SSD: SANITIZE BLOCK ERASE")) }
            if c.enhancedSecurityErase { return .firmware(.ataSecurityEraseEnhanced, reason: .init(fr: "SSD SATA sans sanitize : effacement sécurisé amélioré", en: "SATA SSD without sanitize: enhanced security erase")) }
            return .cannotPurge(reason: .init(fr: "SSD SATA sans sanitize ni effacement amélioré : une réécriture n'atteint pas la flash de réserve (NIST Clear seulement)", en: "SATA SSD with neither sanitize nor enhanced erase: an overwrite cannot reach spare flash (NIST Clear only)"))
        case .sataHardDisk:
            if c.sanitizeOverwrite { return .firmware(.ataSanitizeOverwrite, reason: .init(fr: "disque dur : SANITIZE OVERWRITE", en: "hard disk: SANITIZE OVERWRITE")) }
            return .overwritePasses(reason: .init(fr: "disque dur sans SANITIZE OVERWRITE : passes de réécriture par le moteur", en: "hard disk without SANITIZE OVERWRITE: overwrite passes by the engine"))
        case .scsi:
            if c.sanitizeCrypto { return .firmware(.scsiSanitizeCrypto, reason: .init(fr: "SCSI : SANITIZE CRYPTOGRAPHIC ERASE", en: "SCSI: SANITIZE CRYPTOGRAPHIC ERASE")) }
            if c.sanitizeBlock { return .firmware(.scsiSanitizeBlock, reason: .init(fr: "SCSI : SANITIZE BLOCK ERASE", en: "SCSI: SANITIZE BLOCK ERASE")) }
            if c.sanitizeOverwrite { return .firmware(.scsiSanitizeOverwrite, reason: .init(fr: "SCSI : SANITIZE OVERWRITE", en: "SCSI: SANITIZE OVERWRITE")) }
            return .overwritePasses(reason: .init(fr: "SCSI sans SANITIZE connu : passes de réécriture par le moteur", en: "SCSI without known SANITIZE: overwrite passes by the engine"))
        }
    }

    /// Plans from an identification (SCSI: from REPORT SUPPORTED OPERATION CODES; unknown
    /// counts as unsupported).
    public static func plan(_ identification: DriveIdentification) -> PurgeDecision {
        switch identification {
        case .ata(let id): return plan(PurgeCapabilities(ata: id))
        case .nvme(let c, _): return plan(PurgeCapabilities(nvme: c))
        case .scsi(let s):
            var c = PurgeCapabilities(kind: .scsi)
            c.sanitizeOverwrite = s.sanitizeOverwrite == true
            c.sanitizeBlock = s.sanitizeBlockErase == true
            c.sanitizeCrypto = s.sanitizeCryptographicErase == true
            return plan(c)
        }
    }
}
