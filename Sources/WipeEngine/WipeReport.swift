import ArdoiseSupport
// The pass and verification records are shared with the journal and the certificates; every
// user of the engine sees them as before.
@_exported import ErasureRecords
import Foundation

extension [ByteRange] {
    /// Appends `range`, merging it with the last range when they touch (ranges come in order).
    mutating func appendMerging(_ range: ByteRange) {
        if let last = self.last, last.end == range.start {
            self[count - 1].end = range.end
        } else {
            append(range)
        }
    }

    func firstContaining(_ offset: UInt64) -> ByteRange? { first { $0.contains(offset) } }
}

/// Why a job stopped before its end.
public struct WipeStopReason: Codable, Sendable, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Codable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The operator or the program cancelled the job.
        public static let cancelled = Code(rawValue: "cancelled")
        /// The device disappeared (ENODEV, ENXIO, ENOMEDIUM).
        public static let vanished = Code(rawValue: "vanished")
        /// Too many consecutive I/O errors: the drive is treated as gone.
        public static let repeatedIOErrors = Code(rawValue: "repeated-io-errors")
        /// Another medium answers on the node: the job never writes again.
        public static let identityChanged = Code(rawValue: "identity-changed")
        /// Sectors could not be written or read and the profile says abort.
        public static let ioErrorAbort = Code(rawValue: "io-error-abort")
        /// Read-back data differs from what the pass wrote.
        public static let verificationMismatch = Code(rawValue: "verification-mismatch")
        /// The cache flush at the end of a pass failed: durability is unknown.
        public static let flushFailed = Code(rawValue: "flush-failed")
        /// The profile's firmware erase was refused, failed, or did not verify.
        public static let firmwareEraseFailed = Code(rawValue: "firmware-erase-failed")
    }

    public var code: Code
    public var message: LocalizedText
    /// 1-based pass during which the job stopped, if any.
    public var pass: Int?
    /// The offset concerned, if any.
    public var offset: UInt64?

    public init(code: Code, message: LocalizedText, pass: Int? = nil, offset: UInt64? = nil) {
        self.code = code
        self.message = message
        self.pass = pass
        self.offset = offset
    }

    public var description: String { "\(code): \(message.text(in: CurrentLanguage.value))" }
}

/// How a job ended.
public enum WipeStatus: Codable, Sendable, Equatable {
    /// Every pass wrote every sector and every verification asked for passed.
    case completed
    /// The job ran to its end but some sectors could not be written or read (see the passes' ranges).
    case completedWithExceptions
    /// The job stopped on an error the profile does not tolerate, or a verification failed.
    case failed(WipeStopReason)
    /// The job was stopped from outside or lost its drive; nothing was written after that.
    case interrupted(WipeStopReason)

    /// A stable word for records: `completed`, `completed-with-exceptions`, `failed`, `interrupted`.
    public var code: String {
        switch self {
        case .completed: "completed"
        case .completedWithExceptions: "completed-with-exceptions"
        case .failed: "failed"
        case .interrupted: "interrupted"
        }
    }

    /// Why the job stopped early, for `failed` and `interrupted`.
    public var reason: WipeStopReason? {
        switch self {
        case .completed, .completedWithExceptions: nil
        case .failed(let reason), .interrupted(let reason): reason
        }
    }

    private enum CodingKeys: String, CodingKey { case code, reason }

    /// Encoded flat, `{"code": "interrupted", "reason": {…}}`, so JSON readers need no Swift enum layout.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(code, forKey: .code)
        try container.encodeIfPresent(reason, forKey: .reason)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let code = try container.decode(String.self, forKey: .code)
        switch code {
        case "completed": self = .completed
        case "completed-with-exceptions": self = .completedWithExceptions
        case "failed": self = .failed(try container.decode(WipeStopReason.self, forKey: .reason))
        case "interrupted": self = .interrupted(try container.decode(WipeStopReason.self, forKey: .reason))
        default:
            throw DecodingError.dataCorruptedError(forKey: .code, in: container, debugDescription: "unknown status '\(code)'")
        }
    }

    public var label: LocalizedText {
        switch self {
        case .completed: LocalizedText(fr: "effacé", en: "erased")
        case .completedWithExceptions: LocalizedText(fr: "effacé avec exceptions", en: "erased with exceptions")
        case .failed: LocalizedText(fr: "échec", en: "failed")
        case .interrupted: LocalizedText(fr: "interrompu", en: "interrupted")
        }
    }
}

/// Everything a journal entry or a certificate needs about one wipe job.
public struct WipeReport: Codable, Sendable, Equatable {
    public var targetName: String
    public var targetSizeInBytes: UInt64
    public var logicalSectorSize: Int
    public var profileName: String
    public var profileTitle: LocalizedText
    public var standard: String
    public var reading: String?
    public var nistCategory: NISTCategory
    public var onError: ErrorPolicy
    public var status: WipeStatus
    public var passes: [PassRecord]
    /// Passes the profile asked for (some may not have run if the job stopped).
    public var plannedPassCount: Int
    public var startedAt: Date
    public var endedAt: Date
    public var totalBytesWritten: UInt64
    public var totalBytesVerified: UInt64
    /// Bytes written and read back per second of wall time.
    public var averageBytesPerSecond: Double
    /// SHA-256 (hex) of the job's seed.
    public var seedSHA256: String
    public var bufferSize: Int
    /// The profile's firmware step, when it has one.
    public var firmware: FirmwarePurgeRecord?

    /// True only if the job completed, every planned pass ran, wrote every sector and passed
    /// every verification the profile asks for.
    /// With a firmware step: the erase completed and its sampled verification passed (or the
    /// drive has none and the overwrite passes ran instead), and any passes succeeded too.
    public var succeeded: Bool {
        if let firmware {
            switch firmware.outcome {
            case .failed: return false
            case .purged: if firmware.verification?.result != .passed { return false }
            case .overwriteFallback: if plannedPassCount == 0 { return false }
            }
        }
        return status == .completed && passes.count == plannedPassCount && passes.allSatisfy(\.isClean)
            && passes.allSatisfy { !$0.writes || $0.bytesWritten == targetSizeInBytes }
    }

    public var durationSeconds: Double { endedAt.timeIntervalSince(startedAt) }
}
