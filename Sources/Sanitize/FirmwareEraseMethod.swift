import ArdoiseSupport

/// The firmware erase methods, named as on the command line and in profiles.
public enum FirmwareEraseMethod: String, Sendable, CaseIterable, Codable {
    case ataSecurityErase = "ata-security-erase"
    case ataSecurityEraseEnhanced = "ata-security-erase-enhanced"
    case ataSanitizeCrypto = "ata-sanitize-crypto"
    case ataSanitizeBlock = "ata-sanitize-block"
    case ataSanitizeOverwrite = "ata-sanitize-overwrite"
    case nvmeFormatUserData = "nvme-format-user-data"
    case nvmeFormatCrypto = "nvme-format-crypto"
    case nvmeSanitizeBlock = "nvme-sanitize-block"
    case nvmeSanitizeCrypto = "nvme-sanitize-crypto"
    case nvmeSanitizeOverwrite = "nvme-sanitize-overwrite"
    case scsiSanitizeOverwrite = "scsi-sanitize-overwrite"
    case scsiSanitizeBlock = "scsi-sanitize-block"
    case scsiSanitizeCrypto = "scsi-sanitize-crypto"
    case scsiFormatSecure = "scsi-format-secure"
    /// Let `PurgePlanner` choose.
    case auto

    public enum Family: String, Sendable, Codable { case ata, nvme, scsi, any }

    public var family: Family {
        switch self {
        case .ataSecurityErase, .ataSecurityEraseEnhanced, .ataSanitizeCrypto, .ataSanitizeBlock, .ataSanitizeOverwrite: return .ata
        case .nvmeFormatUserData, .nvmeFormatCrypto, .nvmeSanitizeBlock, .nvmeSanitizeCrypto, .nvmeSanitizeOverwrite: return .nvme
        case .scsiSanitizeOverwrite, .scsiSanitizeBlock, .scsiSanitizeCrypto, .scsiFormatSecure: return .scsi
        case .auto: return .any
        }
    }

    /// NIST SP 800-88 Rev. 1 category (Appendix A): every firmware method here is a Purge
    /// technique for the media it targets.
    public var nistCategory: String { "purge" }

    /// A cryptographic erase: verification must show no sampled block equal to its prior content.
    public var isCryptographic: Bool {
        [.ataSanitizeCrypto, .nvmeFormatCrypto, .nvmeSanitizeCrypto, .scsiSanitizeCrypto].contains(self)
    }

    public var label: LocalizedText {
        switch self {
        case .ataSecurityErase: return .init(fr: "ATA SECURITY ERASE UNIT (normal)", en: "ATA SECURITY ERASE UNIT (normal)")
        case .ataSecurityEraseEnhanced: return .init(fr: "ATA SECURITY ERASE UNIT (amélioré)", en: "ATA SECURITY ERASE UNIT (enhanced)")
        case .ataSanitizeCrypto: return .init(fr: "ATA SANITIZE CRYPTO SCRAMBLE", en: "ATA SANITIZE CRYPTO SCRAMBLE")
        case .ataSanitizeBlock: return .init(fr: "ATA SANITIZE BLOCK ERASE", en: "ATA SANITIZE BLOCK ERASE")
        case .ataSanitizeOverwrite: return .init(fr: "ATA SANITIZE OVERWRITE", en: "ATA SANITIZE OVERWRITE")
        case .nvmeFormatUserData: return .init(fr: "NVMe Format NVM, effacement des données (SES=1)", en: "NVMe Format NVM, user data erase (SES=1)")
        case .nvmeFormatCrypto: return .init(fr: "NVMe Format NVM, effacement cryptographique (SES=2)", en: "NVMe Format NVM, cryptographic erase (SES=2)")
        case .nvmeSanitizeBlock: return .init(fr: "NVMe Sanitize, effacement de blocs", en: "NVMe Sanitize, block erase")
        case .nvmeSanitizeCrypto: return .init(fr: "NVMe Sanitize, effacement cryptographique", en: "NVMe Sanitize, crypto erase")
        case .nvmeSanitizeOverwrite: return .init(fr: "NVMe Sanitize, réécriture", en: "NVMe Sanitize, overwrite")
        case .scsiSanitizeOverwrite: return .init(fr: "SCSI SANITIZE OVERWRITE", en: "SCSI SANITIZE OVERWRITE")
        case .scsiSanitizeBlock: return .init(fr: "SCSI SANITIZE BLOCK ERASE", en: "SCSI SANITIZE BLOCK ERASE")
        case .scsiSanitizeCrypto: return .init(fr: "SCSI SANITIZE CRYPTOGRAPHIC ERASE", en: "SCSI SANITIZE CRYPTOGRAPHIC ERASE")
        case .scsiFormatSecure: return .init(fr: "SCSI FORMAT UNIT avec initialisation sécurisée", en: "SCSI FORMAT UNIT with security initialize")
        case .auto: return .init(fr: "choix automatique (purge NIST)", en: "automatic choice (NIST purge)")
        }
    }
}

/// Tunables of an erase.
public struct FirmwareEraseOptions: Sendable {
    /// Overwrite passes for the overwrite methods (ATA 1-16, NVMe 1-16, SCSI 1-31).
    public var overwritePasses = 1
    /// 32-bit overwrite pattern (ATA LBA 31:0, NVMe OVRPAT, SCSI 4-byte pattern, big-endian).
    public var overwritePattern: UInt32 = 0
    /// Invert the pattern between passes.
    public var invertBetweenPasses = false
    /// Restore the native capacity (remove HPA/AMA, DCO) before erasing.
    public var restoreHiddenArea = false
    /// NVMe namespace for Format NVM (nil: 1; FFFFFFFFh: all namespaces).
    public var namespaceID: UInt32?
    /// Allow Unrestricted Sanitize Exit (NVMe AUSE / SCSI AUSE / ATA FAILURE MODE).
    public var allowUnrestrictedExit = false
    /// Delay between progress polls.
    public var pollIntervalMs: UInt32 = 2_000
    /// Give up polling after this long (default 48 h).
    public var maxWaitMs: UInt64 = 48 * 3_600_000

    public init() {}
}

/// Progress of a running erase.
public struct FirmwareEraseProgress: Sendable, Hashable {
    public var method: FirmwareEraseMethod
    /// 0…1 when the drive reports it.
    public var fraction: Double?
    public var message: LocalizedText
}

/// What was found, and done, about sectors hidden from the host (ACS-3 §4.11 HPA, §4.9 DCO,
/// ACS-3 §4.3 Accessible Max Address).
public struct HiddenAreaReport: Sendable, Hashable, Codable {
    /// Sectors the host could address when the job started.
    public var accessibleSectors: UInt64
    /// Native max + 1 (READ NATIVE MAX ADDRESS EXT or GET NATIVE MAX ADDRESS EXT); nil if not checked.
    public var nativeSectors: UInt64?
    /// Maximum from DEVICE CONFIGURATION IDENTIFY + 1; nil if not checked/unsupported.
    public var dcoSectors: UInt64?
    /// How the native max was read: "get-native-max-ext" (78h), "read-native-max-ext" (27h), or "none".
    public var method: String
    public var hpaPresent: Bool
    public var dcoPresent: Bool
    /// The native capacity was restored before the erase.
    public var restored: Bool
    /// Hidden sectors existed.
    public var hiddenSectorsExisted: Bool { hpaPresent || dcoPresent }
    /// Set after the erase: true only when hidden sectors existed and were restored (made
    /// addressable) before the erase; nil when none existed. A sanitize may reach them anyway,
    /// but a certificate must not assume it.
    public var hiddenSectorsErased: Bool?
}

/// The result of a completed firmware erase.
public struct FirmwareEraseResult: Sendable, Codable {
    public var method: FirmwareEraseMethod
    public var nistCategory: String
    public var model: String
    public var serialNumber: String
    /// Commands sent to the drive by the flow.
    public var commandCount: Int
    public var hiddenArea: HiddenAreaReport?
    /// NVMe Format: the erase may have applied to all namespaces (FNA bits 0/1).
    public var appliesToAllNamespaces: Bool?
    public var notes: [LocalizedText]
}
