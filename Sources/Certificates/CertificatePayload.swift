import Foundation

/// The signed content of a certificate (schema v1, documented in docs/certificate.md and
/// docs/certificate.schema.json). Field names are the JSON member names.
///
/// There is no public memberwise initializer: a payload is made from a `CertificateInput`
/// (`CertificatePayload(input:)`), which derives the status, so "erased" cannot be claimed
/// for a drive whose every sector was not written and verified. Decoding exists to read
/// signed documents.
public struct CertificatePayload: Codable, Sendable, Equatable {
    public static let schemaURI = "https://ardoise.example/certificate/v1"
    public static let currentSchemaVersion = 1

    public let schema: String
    public let schemaVersion: Int
    /// Lowercase UUID.
    public let id: String
    public let issuedAt: Date
    /// The bench that erased and signed (its key's thumbprint is in the JWS header).
    public let benchID: String
    public let organisation: Organisation
    public let technician: Person
    public let validator: Person?
    public let donor: String?
    public let lot: String?
    public let media: Media
    public let sourceHost: SourceHost?
    public let hiddenAreas: HiddenAreas?
    public let sanitization: Sanitization
    public let verification: VerificationSummary
    public let tool: Tool
    public let result: ErasureResult
    public let timing: Timing
    public let destination: Destination
    /// The drive's health as judged before erasure (`ardoise health`); absent on certificates
    /// issued without a health check, and on every certificate made before it existed.
    public let health: DriveHealth?
    /// The page where anyone checks this certificate: the network store's `/c/{id}`
    /// (`[store] public-url`). The QR code opens it with `?h=<sha256 of the signed JSON>`;
    /// absent when the bench sends to no store (the QR then holds `ARDOISE1;id;sha256`).
    public let verificationURL: String?
}

/// A drive's health verdict as a certificate carries it (docs/health.md): the verdict, the
/// rules that fired, and the policy version that judged them.
public struct DriveHealth: Codable, Sendable, Equatable {
    /// `reuse`, `caution`, `discard` or `unknown`.
    public var verdict: String
    public var reasons: [Reason]
    public var powerOnHours: Int?
    public var policyVersion: String?
    public var checkedAt: Date

    public init(verdict: String, reasons: [Reason], powerOnHours: Int? = nil, policyVersion: String? = nil, checkedAt: Date) {
        self.verdict = verdict
        self.reasons = reasons
        self.powerOnHours = powerOnHours
        self.policyVersion = policyVersion
        self.checkedAt = wholeSeconds(checkedAt)
    }

    /// One rule that fired: a stable code, what was read and the threshold it reached.
    public struct Reason: Codable, Sendable, Equatable {
        public var code: String
        public var severity: String?
        public var attribute: String?
        public var field: String?
        public var value: Figure?
        public var threshold: Figure?

        public init(code: String, severity: String? = nil, attribute: String? = nil, field: String? = nil,
                    value: Figure? = nil, threshold: Figure? = nil) {
            self.code = code
            self.severity = severity
            self.attribute = attribute
            self.field = field
            self.value = value
            self.threshold = threshold
        }
    }

    /// A JSON number or string (a counter, or a word such as `"bit 2"`).
    public enum Figure: Codable, Sendable, Equatable {
        case number(Int64)
        case text(String)

        public init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Int64.self) { self = .number(value) }
            else if let value = try? container.decode(Bool.self) { self = .text(String(value)) }
            else { self = .text(try container.decode(String.self)) }
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .number(let value): try container.encode(value)
            case .text(let value): try container.encode(value)
            }
        }
    }
}

/// The organisation performing the erasure (from the bench configuration).
public struct Organisation: Codable, Sendable, Equatable {
    public var name: String
    public var address: String?
    public var contact: String?
    public init(name: String, address: String? = nil, contact: String? = nil) {
        self.name = name; self.address = address; self.contact = contact
    }
}

/// A technician or validator (NIST SP 800-88 App. G "performed by", "validated by").
public struct Person: Codable, Sendable, Equatable {
    public var name: String
    public var title: String?
    public init(name: String, title: String? = nil) { self.name = name; self.title = title }
}

public enum MediaType: String, Codable, Sendable, CaseIterable {
    case magnetic, flash, hybrid, unknown
}

/// The erased medium, as identified before the job (the identity the job was pinned to).
public struct Media: Codable, Sendable, Equatable {
    public var manufacturer: String?
    public var model: String
    public var serial: String
    public var wwn: String?
    public var firmware: String?
    /// Asset tag / property number, when the workshop labels drives.
    public var assetTag: String?
    public var type: MediaType
    public var capacityBytes: UInt64
    /// `sata`, `sas`, `nvme`, `usb`…
    public var transport: String?
    public var logicalSectorSize: Int
    public var physicalSectorSize: Int

    public init(manufacturer: String? = nil, model: String, serial: String, wwn: String? = nil, firmware: String? = nil,
                assetTag: String? = nil, type: MediaType, capacityBytes: UInt64, transport: String? = nil,
                logicalSectorSize: Int = 512, physicalSectorSize: Int = 512) {
        self.manufacturer = manufacturer; self.model = model; self.serial = serial; self.wwn = wwn
        self.firmware = firmware; self.assetTag = assetTag; self.type = type; self.capacityBytes = capacityBytes
        self.transport = transport; self.logicalSectorSize = logicalSectorSize; self.physicalSectorSize = physicalSectorSize
    }
}

/// The computer the drive came from (DMI), when known.
public struct SourceHost: Codable, Sendable, Equatable {
    public var vendor: String?
    public var model: String?
    public var serial: String?
    public init(vendor: String? = nil, model: String? = nil, serial: String? = nil) {
        self.vendor = vendor; self.model = model; self.serial = serial
    }
}

/// Host protected area / device configuration overlay state (ACS-3 HPA, DCO; AMA).
public struct HiddenAreas: Codable, Sendable, Equatable {
    public var detected: Bool
    /// nil when nothing was detected or the bench could not tell.
    public var erased: Bool?
    /// `hpa`, `dco`, `ama`.
    public var kinds: [String]
    /// Sectors hidden before the job.
    public var hiddenBytes: UInt64?
    public init(detected: Bool, erased: Bool?, kinds: [String] = [], hiddenBytes: UInt64? = nil) {
        self.detected = detected; self.erased = erased; self.kinds = kinds; self.hiddenBytes = hiddenBytes
    }
}

/// NIST SP 800-88 sanitization category.
public enum NISTCategory: String, Codable, Sendable, CaseIterable {
    case clear, purge
}

public enum SanitizationMethod: String, Codable, Sendable {
    case overwrite
    case firmware
    case firmwareAndOverwrite = "firmware_and_overwrite"
    /// Nothing ran to completion.
    case none
}

public enum PassKind: String, Codable, Sendable {
    /// A repeated fixed pattern.
    case pattern
    /// A seeded PRNG stream.
    case random
}

public enum VerificationMode: String, Codable, Sendable {
    case full, sampled, none
}

public enum VerificationOutcome: String, Codable, Sendable {
    case passed, failed
    case notPerformed = "not_performed"
}

/// A verification as recorded in the certificate.
public struct PassVerification: Codable, Sendable, Equatable {
    public var mode: VerificationMode
    /// Number of samples read (sampled mode) or blocks compared (full mode).
    public var samples: UInt64?
    public var result: VerificationOutcome
    public init(mode: VerificationMode, samples: UInt64? = nil, result: VerificationOutcome) {
        self.mode = mode; self.samples = samples; self.result = result
    }
}

/// One overwrite pass as executed.
public struct ExecutedPass: Codable, Sendable, Equatable {
    public let index: Int
    public let kind: PassKind
    /// Lowercase hex of the repeated pattern; absent for random passes.
    public let pattern: String?
    public let prngAlgorithm: String?
    public let bytesWritten: UInt64
    public let unwrittenBytes: UInt64
    public let ioErrors: Int
    public let durationSeconds: Double
    public let throughputBytesPerSecond: Double
    public let verification: PassVerification?
}

/// A firmware command (ATA SECURITY ERASE UNIT, SANITIZE, NVMe Format/Sanitize…).
public struct FirmwareOperation: Codable, Sendable, Equatable {
    /// The command as the standard names it, e.g. "ATA SANITIZE BLOCK ERASE EXT".
    public var command: String
    public var succeeded: Bool
    public var durationSeconds: Double?
    public var detail: String?
    public init(command: String, succeeded: Bool, durationSeconds: Double? = nil, detail: String? = nil) {
        self.command = command; self.succeeded = succeeded; self.durationSeconds = durationSeconds; self.detail = detail
    }
}

public struct Sanitization: Codable, Sendable, Equatable {
    public let category: NISTCategory
    public let method: SanitizationMethod
    /// The profile name (`Profiles/<name>.toml`).
    public let profile: String
    public let passes: [ExecutedPass]
    public let firmwareOperations: [FirmwareOperation]?
}

/// The verification that supports the result (the last one run).
public struct VerificationSummary: Codable, Sendable, Equatable {
    public let method: VerificationMode
    public let samples: UInt64?
    public let result: VerificationOutcome
}

public struct Tool: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    public init(name: String = "ardoise", version: String) { self.name = name; self.version = version }
}

public enum ErasureStatus: String, Codable, Sendable, CaseIterable {
    case erased
    case erasedWithExceptions = "erased_with_exceptions"
    case notErased = "not_erased"
}

/// Why a drive is not plainly "erased".
public struct ErasureException: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case unwrittenSectors = "unwritten_sectors"
        case incompleteCoverage = "incomplete_coverage"
        case verificationFailed = "verification_failed"
        case verificationNotPerformed = "verification_not_performed"
        case hiddenAreaNotErased = "hidden_area_not_erased"
        case firmwareCommandFailed = "firmware_command_failed"
        case jobInterrupted = "job_interrupted"
        case jobFailed = "job_failed"
        case driveRemoved = "drive_removed"
        case other
    }

    public var kind: Kind
    public var detail: String
    public var passIndex: Int?
    /// Bytes concerned, when countable.
    public var bytes: UInt64?

    public init(kind: Kind, detail: String, passIndex: Int? = nil, bytes: UInt64? = nil) {
        self.kind = kind; self.detail = detail; self.passIndex = passIndex; self.bytes = bytes
    }
}

public struct ErasureResult: Codable, Sendable, Equatable {
    public let status: ErasureStatus
    public let exceptions: [ErasureException]
}

public struct Timing: Codable, Sendable, Equatable {
    public let startedAt: Date
    public let endedAt: Date
    public let durationSeconds: Double
    /// Sum over passes.
    public let bytesWritten: UInt64
    /// bytesWritten / total pass time.
    public let throughputBytesPerSecond: Double
}

/// Post-sanitization destination (NIST SP 800-88 App. G).
public enum Destination: String, Codable, Sendable, CaseIterable {
    case internalReuse = "internal_reuse"
    case externalReuse = "external_reuse"
    case recycling
    case manufacturer
    case other
}
