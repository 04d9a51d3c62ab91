import ArdoiseSupport
import Foundation

/// The one-word answer for a technician: may this drive go back into a PC?
public enum HealthVerdict: String, Sendable, Codable, CaseIterable {
    /// Nothing found against it.
    case reuse
    /// Reusable with a warning (wear, a few remapped sectors, a cable problem…).
    case caution
    /// Do not reuse: physical destruction.
    case discard
    /// SMART could not be read: nothing can be said, so never "reuse".
    case unknown

    /// The words the dashboard and the text report show.
    public var label: LocalizedText {
        switch self {
        case .reuse: LocalizedText(fr: "réemploi", en: "reuse")
        case .caution: LocalizedText(fr: "à surveiller", en: "caution")
        case .discard: LocalizedText(fr: "à détruire", en: "discard")
        case .unknown: LocalizedText(fr: "santé inconnue", en: "health unknown")
        }
    }

    /// Worst first: discard, unknown, caution, reuse (the order for a summary over drives).
    public var gravity: Int {
        switch self {
        case .reuse: 0
        case .caution: 1
        case .unknown: 2
        case .discard: 3
        }
    }
}

/// A number or a word, as a reason's `value` and `threshold` carry them in JSON.
public enum HealthValue: Sendable, Equatable, Codable, CustomStringConvertible {
    case integer(Int64)
    case text(String)
    case flag(Bool)

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int64.self) { self = .integer(value) }
        else if let value = try? container.decode(Bool.self) { self = .flag(value) }
        else { self = .text(try container.decode(String.self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .integer(let value): try container.encode(value)
        case .text(let value): try container.encode(value)
        case .flag(let value): try container.encode(value)
        }
    }

    public var description: String {
        switch self {
        case .integer(let value): String(value)
        case .text(let value): value
        case .flag(let value): String(value)
        }
    }

    static func count(_ value: UInt64) -> HealthValue { .integer(Int64(clamping: value)) }
}

/// Why the verdict is what it is: one rule that fired, with the value that made it fire.
public struct HealthReason: Sendable, Equatable, Codable {
    /// Stable code, the same in every language (`ata_reallocated_sectors`, `smart_status_failed`…).
    public var code: String
    /// What this reason alone makes of the drive: `caution`, `discard` or `unknown`.
    public var severity: String
    /// The ATA attribute concerned (`5 Reallocated_Sector_Ct`), for attribute rules.
    public var attribute: String?
    /// The smartctl JSON member (or surface-scan figure) read, for other rules.
    public var field: String?
    public var value: HealthValue?
    public var threshold: HealthValue?
    /// A plain detail from the source (smartctl's message, an errno), not localized.
    public var detail: String?

    public init(code: String, severity: String, attribute: String? = nil, field: String? = nil,
                value: HealthValue? = nil, threshold: HealthValue? = nil, detail: String? = nil) {
        self.code = code
        self.severity = severity
        self.attribute = attribute
        self.field = field
        self.value = value
        self.threshold = threshold
        self.detail = detail
    }
}

/// The facts behind a verdict, as the drive reported them.
public struct HealthFacts: Sendable, Equatable, Codable {
    public var model: String?
    public var serial: String?
    public var firmware: String?
    public var capacityBytes: UInt64?
    /// `hdd`, `ssd`, `nvme` or `unknown`.
    public var mediaType: String
    /// `ATA`, `NVMe` or `SCSI`, as smartctl names the protocol.
    public var protocolName: String?
    public var powerOnHours: Int?
    public var temperatureCelsius: Int?
    /// Raw counters the policy read, by stable name (`ata_5_raw`, `nvme_media_errors`…).
    public var counters: [String: UInt64]

    public init(mediaType: String = "unknown") {
        self.mediaType = mediaType
        counters = [:]
    }
}

/// Where the SMART data came from.
public struct HealthSource: Sendable, Equatable, Codable {
    /// `device` (smartctl ran now) or `file` (`--smart-from`).
    public var kind: String
    public var path: String
    /// The `-d` type passed to smartctl (nil: smartctl chose) or read back from its output.
    public var deviceType: String?
    public var smartctlExitStatus: Int?
    /// Names of the exit-status bits that were set (`disk_failing`, `self_test_log_has_errors`…).
    public var smartctlExitBits: [String]

    public init(kind: String, path: String, deviceType: String? = nil, smartctlExitStatus: Int? = nil) {
        self.kind = kind
        self.path = path
        self.deviceType = deviceType
        self.smartctlExitStatus = smartctlExitStatus
        smartctlExitBits = smartctlExitStatus.map { SmartctlExitStatus(rawValue: $0).names } ?? []
    }
}

/// The health of one drive: verdict, reasons, facts, and the policy that judged them.
public struct HealthReport: Sendable, Equatable, Codable {
    public var verdict: HealthVerdict
    public var reasons: [HealthReason]
    public var facts: HealthFacts
    public var source: HealthSource
    public var policyName: String
    public var policyVersion: String
    public var surface: SurfaceScanReport?
    public var selfTest: SelfTestOutcome?
    public var checkedAt: Date

    /// Pretty JSON with sorted keys and ISO 8601 dates (what `--json` prints).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self)
    }
}

/// The result of a self-test run by `--self-test`.
public struct SelfTestOutcome: Sendable, Equatable, Codable {
    /// `short` or `long`.
    public var kind: String
    /// `passed`, `failed`, `aborted`, `not_supported` or `timed_out`.
    public var result: String
    public var detail: String?

    public init(kind: String, result: String, detail: String? = nil) {
        self.kind = kind
        self.result = result
        self.detail = detail
    }
}
