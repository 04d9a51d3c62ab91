import ErasureRecords
import Foundation
import GRDB

// Records are plain Codable structs, one per table, as in GRDB's demo app. Column names are
// the property names; UUIDs are stored as lowercase text so the journal reads well in sqlite3.

/// A drive seen on the bench, by identity (the same fields the job is pinned to).
public struct DriveRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "drives"
    public var id: Int64?
    public var model: String
    public var serial: String
    public var wwn: String?
    public var sizeInBytes: Int64
    /// The kernel's `diskseq` when the drive was seen (changes with every new medium).
    public var diskseq: Int64?
    /// `major:minor` of the block device.
    public var devnum: String?
    public var transport: String?
    public var firmware: String?
    /// SMART summary as JSON text, when diagnostics ran.
    public var smartSummaryJSON: String?
    public var firstSeenAt: Date

    public init(id: Int64? = nil, model: String, serial: String, wwn: String? = nil, sizeInBytes: Int64,
                diskseq: Int64? = nil, devnum: String? = nil, transport: String? = nil, firmware: String? = nil,
                smartSummaryJSON: String? = nil, firstSeenAt: Date = Date()) {
        self.id = id; self.model = model; self.serial = serial; self.wwn = wwn; self.sizeInBytes = sizeInBytes
        self.diskseq = diskseq; self.devnum = devnum; self.transport = transport; self.firmware = firmware
        self.smartSummaryJSON = smartSummaryJSON; self.firstSeenAt = firstSeenAt
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// The life of a job, as stored in `jobs.status`.
public enum JobStatus: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case running
    case completed
    case completedWithExceptions = "completed_with_exceptions"
    case failed
    case interrupted
}

/// One erasure job on one drive.
public struct JobRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "jobs"
    public static func databaseUUIDEncodingStrategy(for column: String) -> DatabaseUUIDEncodingStrategy { .lowercaseString }
    public var id: UUID
    public var driveID: Int64?
    public var profile: String
    public var technician: String
    public var donor: String?
    public var lot: String?
    public var startedAt: Date
    public var endedAt: Date?
    public var status: JobStatus
    /// Why the job failed, was interrupted or has exceptions; nil when completed cleanly.
    public var reason: String?

    public init(id: UUID = UUID(), driveID: Int64?, profile: String, technician: String, donor: String? = nil,
                lot: String? = nil, startedAt: Date = Date(), endedAt: Date? = nil, status: JobStatus = .running,
                reason: String? = nil) {
        self.id = id; self.driveID = driveID; self.profile = profile; self.technician = technician
        self.donor = donor; self.lot = lot; self.startedAt = startedAt; self.endedAt = endedAt
        self.status = status; self.reason = reason
    }
}

/// The `passes` table's row: how the journal stores a `PassRecord` (the shared model, in
/// ErasureRecords). Only passes that completed (written, flushed and, when the profile says so,
/// verified) are recorded, so a job's pass rows are the passes a resumption may skip. The row
/// carries the SHA-256 of the pass key; the job seed itself is kept apart in `job_seeds`
/// (never in events or certificates), for resuming the job with the same streams. Its JSON
/// encoding is also the `pass.finished` event's payload.
struct PassRow: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "passes"
    static func databaseUUIDEncodingStrategy(for column: String) -> DatabaseUUIDEncodingStrategy { .lowercaseString }
    var id: Int64?
    var jobID: UUID
    /// 0-based position in the profile.
    var passIndex: Int
    /// `pattern`, `random` or `firmware`.
    var kind: String
    /// The repeated pattern as lowercase hex (`00`, `924924`), nil for random and firmware passes.
    var patternHex: String?
    var prngAlgorithm: String?
    var seedSHA256: String?
    var bytesWritten: Int64
    var durationSeconds: Double
    var throughputBytesPerSecond: Double
    /// I/O errors as JSON text (array of objects), nil when none.
    var errorsJSON: String?
    /// Unwritten byte ranges as JSON text (`[[offset, length], …]`), nil when none.
    var badRangesJSON: String?
    /// When the pass began and ended (nil in rows written before the v2-resume migration).
    var startedAt: Date?
    var endedAt: Date?

    init(id: Int64? = nil, jobID: UUID, passIndex: Int, kind: String, patternHex: String? = nil,
                prngAlgorithm: String? = nil, seedSHA256: String? = nil, bytesWritten: Int64, durationSeconds: Double,
                throughputBytesPerSecond: Double, errorsJSON: String? = nil, badRangesJSON: String? = nil,
                startedAt: Date? = nil, endedAt: Date? = nil) {
        self.id = id; self.jobID = jobID; self.passIndex = passIndex; self.kind = kind; self.patternHex = patternHex
        self.prngAlgorithm = prngAlgorithm; self.seedSHA256 = seedSHA256; self.bytesWritten = bytesWritten
        self.durationSeconds = durationSeconds; self.throughputBytesPerSecond = throughputBytesPerSecond
        self.errorsJSON = errorsJSON; self.badRangesJSON = badRangesJSON
        self.startedAt = startedAt; self.endedAt = endedAt
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// The `verifications` table's row: how the journal stores a `VerificationRecord` (of one
/// pass, or of a firmware erase at `passIndex` -1 with its mode prefixed `firmware:`). Its
/// JSON encoding is also the `verification.finished` event's payload.
struct VerificationRow: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "verifications"
    static func databaseUUIDEncodingStrategy(for column: String) -> DatabaseUUIDEncodingStrategy { .lowercaseString }
    var id: Int64?
    var jobID: UUID
    var passIndex: Int?
    /// `full` or `sampled`.
    var mode: String
    var samples: Int64
    /// `passed` or `failed`.
    var result: String
    /// First mismatching offsets as JSON text (`[offset, …]`), nil when none.
    var firstBadOffsetsJSON: String?

    init(id: Int64? = nil, jobID: UUID, passIndex: Int?, mode: String, samples: Int64, result: String,
                firstBadOffsetsJSON: String? = nil) {
        self.id = id; self.jobID = jobID; self.passIndex = passIndex; self.mode = mode; self.samples = samples
        self.result = result; self.firstBadOffsetsJSON = firstBadOffsetsJSON
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A certificate issued for a job; the files live in the output directory.
public struct CertificateRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "certificates"
    public static func databaseUUIDEncodingStrategy(for column: String) -> DatabaseUUIDEncodingStrategy { .lowercaseString }
    public var id: UUID
    public var jobID: UUID
    public var jsonPath: String
    public var pdfPath: String?
    /// SHA-256 (lowercase hex) of the signed JSON file, as printed in the QR code.
    public var signedJSONSHA256: String
    /// `erased`, `erased_with_exceptions` or `not_erased`.
    public var status: String
    public var issuedAt: Date

    public init(id: UUID, jobID: UUID, jsonPath: String, pdfPath: String?, signedJSONSHA256: String, status: String,
                issuedAt: Date = Date()) {
        self.id = id; self.jobID = jobID; self.jsonPath = jsonPath; self.pdfPath = pdfPath
        self.signedJSONSHA256 = signedJSONSHA256; self.status = status; self.issuedAt = issuedAt
    }
}

/// A temporary ATA security password set for a firmware erase. It is kept until the erase is
/// confirmed, so a drive left locked by a crash can still be unlocked after restart.
public struct FirmwareSecretRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "firmware_secrets"
    public static func databaseUUIDEncodingStrategy(for column: String) -> DatabaseUUIDEncodingStrategy { .lowercaseString }
    public var id: Int64?
    public var jobID: UUID
    public var deviceSerial: String
    /// Set to nil when cleared.
    public var temporaryPassword: String?
    public var createdAt: Date
    public var clearedAt: Date?

    public init(id: Int64? = nil, jobID: UUID, deviceSerial: String, temporaryPassword: String?, createdAt: Date = Date(),
                clearedAt: Date? = nil) {
        self.id = id; self.jobID = jobID; self.deviceSerial = deviceSerial; self.temporaryPassword = temporaryPassword
        self.createdAt = createdAt; self.clearedAt = clearedAt
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A signed record (certificate or inventory) queued for the traceability store, with what
/// happened to its delivery. A row is exactly one of: pending (neither sent nor parked), sent
/// (`sentAt`), or parked (`parkedAt`: the store refused it; kept, shown, not retried until a
/// technician re-queues it).
public struct OutboxRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "outbox"
    public static func databaseUUIDEncodingStrategy(for column: String) -> DatabaseUUIDEncodingStrategy { .lowercaseString }

    /// What the signed record is; the store reads the same from the payload's `schema`.
    public enum Kind: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        case certificate
        case inventory
    }

    /// Where the row stands in delivery.
    public enum State: String, Codable, Sendable {
        case pending
        case sent
        case parked
    }

    public var id: Int64?
    public var kind: Kind
    /// The record's own id (the payload's `id`), unique per kind.
    public var recordID: UUID
    /// The certificate row, for `kind == .certificate`.
    public var certificateID: UUID?
    /// The signed JSON, byte for byte as it is sent.
    public var payload: String
    public var queuedAt: Date?
    /// Delivery attempts so far (each POST that got an answer or failed on the network).
    public var attempts: Int
    public var sentAt: Date?
    /// What the store answered when it took the record: `stored` or `already_stored`.
    public var storeStatus: String?
    /// Not before this time will the background sender try again (backoff, Retry-After).
    public var nextAttemptAt: Date?
    public var lastAttemptAt: Date?
    /// Stable code of the last transient failure (`store_unreachable`, `rate_limited`, `http_503`…).
    public var lastErrorCode: String?
    /// Its message (the store's, or the sender's in the bench's language).
    public var lastError: String?
    public var parkedAt: Date?
    public var parkedHTTPStatus: Int?
    /// The store's stable error code (`invalid_signature`, `conflicting_record`…).
    public var parkedCode: String?
    /// The store's message.
    public var parkedMessage: String?

    public init(id: Int64? = nil, kind: Kind = .certificate, recordID: UUID, certificateID: UUID? = nil, payload: String,
                queuedAt: Date? = Date(), attempts: Int = 0, sentAt: Date? = nil) {
        self.id = id; self.kind = kind; self.recordID = recordID; self.certificateID = certificateID
        self.payload = payload; self.queuedAt = queuedAt; self.attempts = attempts; self.sentAt = sentAt
    }

    /// A certificate's row: its record id is the certificate's id.
    public init(certificateID: UUID, payload: String, attempts: Int = 0, sentAt: Date? = nil) {
        self.init(kind: .certificate, recordID: certificateID, certificateID: certificateID, payload: payload,
                  attempts: attempts, sentAt: sentAt)
    }

    public var state: State { sentAt != nil ? .sent : parkedAt != nil ? .parked : .pending }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// Counts of the outbox, and why the first pending row is waiting.
public struct OutboxSummary: Codable, Sendable, Equatable {
    public var pending: Int
    public var parked: Int
    public var sent: Int
    /// The oldest pending row's next attempt time, when it is waiting for a backoff.
    public var nextAttemptAt: Date?
    public var lastErrorCode: String?
    public var lastError: String?

    public init(pending: Int = 0, parked: Int = 0, sent: Int = 0, nextAttemptAt: Date? = nil,
                lastErrorCode: String? = nil, lastError: String? = nil) {
        self.pending = pending; self.parked = parked; self.sent = sent; self.nextAttemptAt = nextAttemptAt
        self.lastErrorCode = lastErrorCode; self.lastError = lastError
    }
}

/// One row of the hash-chained event log. See `EventChain` for the hashed encoding.
public struct EventRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "events"
    /// Assigned by the journal: previous id + 1, so ids are dense and part of the hash.
    public var id: Int64
    /// Milliseconds since 1970 (an integer, so the hashed encoding is exact).
    public var timeMilliseconds: Int64
    public var kind: String
    public var jobID: String?
    /// JSON text.
    public var payload: String
    /// Lowercase hex SHA-256 of the previous row (64 zeros for the first row).
    public var prevHash: String
    public var hash: String

    public var time: Date { Date(timeIntervalSince1970: Double(timeMilliseconds) / 1000) }
}

/// The seed of a job (lowercase hex), from which every pass's data derives. Kept so that a
/// resumed job regenerates the same passes; never copied into events or certificates.
public struct JobSeedRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "job_seeds"
    public static func databaseUUIDEncodingStrategy(for column: String) -> DatabaseUUIDEncodingStrategy { .lowercaseString }
    public var jobID: UUID
    public var seedHex: String

    public init(jobID: UUID, seedHex: String) { self.jobID = jobID; self.seedHex = seedHex }
}

/// A job that continues an interrupted one on the same drive: the earlier job's completed
/// passes (`0 ..< firstPassIndex`, from its own chain of jobs) count for this one.
public struct JobResumptionRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "job_resumptions"
    public static func databaseUUIDEncodingStrategy(for column: String) -> DatabaseUUIDEncodingStrategy { .lowercaseString }
    public var jobID: UUID
    public var resumedFromJobID: UUID
    /// 0-based position in the profile of the first pass this job runs.
    public var firstPassIndex: Int

    public init(jobID: UUID, resumedFromJobID: UUID, firstPassIndex: Int) {
        self.jobID = jobID; self.resumedFromJobID = resumedFromJobID; self.firstPassIndex = firstPassIndex
    }
}

// MARK: The shared pass model to and from its rows

extension PassRow {
    init(_ pass: PassRecord, jobID: UUID) {
        let ranges = pass.badRanges.map { [$0.start, $0.count] }
        self.init(jobID: jobID, passIndex: pass.index - 1, kind: pass.kind, patternHex: pass.patternHex,
                  prngAlgorithm: pass.prngAlgorithm, seedSHA256: pass.seedSHA256, bytesWritten: Int64(pass.bytesWritten),
                  durationSeconds: pass.durationSeconds, throughputBytesPerSecond: pass.bytesPerSecond,
                  errorsJSON: pass.ioErrorCount > 0 ? "[{\"count\":\(pass.ioErrorCount)}]" : nil,
                  badRangesJSON: ranges.isEmpty ? nil : String(decoding: (try? JSONEncoder().encode(ranges)) ?? Data(), as: UTF8.self),
                  startedAt: pass.startedAt, endedAt: pass.endedAt)
    }

    /// The shared model of this row. Text the journal cannot parse never reads as clean: an
    /// unreadable error list counts one error, unreadable ranges one empty range.
    func record(verification: VerificationRow?) -> PassRecord {
        var errors = 0
        if let errorsJSON {
            let counts = (try? JSONDecoder().decode([[String: Int]].self, from: Data(errorsJSON.utf8)))?.map { $0["count"] ?? 1 }
            errors = max(1, counts?.reduce(0, +) ?? 1)
        }
        var ranges: [ByteRange] = []
        if let badRangesJSON {
            if let pairs = try? JSONDecoder().decode([[UInt64]].self, from: Data(badRangesJSON.utf8)), pairs.allSatisfy({ $0.count == 2 }) {
                ranges = pairs.map { ByteRange(start: $0[0], end: $0[0] + $0[1]) }
            } else {
                ranges = [ByteRange(start: 0, end: 0)]
            }
        }
        let written = UInt64(max(0, bytesWritten))
        return PassRecord(index: passIndex + 1, kind: kind, patternHex: patternHex, prngAlgorithm: prngAlgorithm,
                          seedSHA256: seedSHA256, writes: written > 0 || !ranges.isEmpty, bytesWritten: written,
                          startedAt: startedAt, endedAt: endedAt, durationSeconds: durationSeconds,
                          bytesPerSecond: throughputBytesPerSecond, ioErrorCount: errors, badRanges: ranges,
                          verification: verification?.record, completed: true)
    }
}

extension VerificationRow {
    /// The mode prefix of a firmware erase's read-back.
    static let firmwarePrefix = "firmware:"

    init(_ verification: VerificationRecord, jobID: UUID, passIndex: Int, mode: String? = nil) {
        let offsets = verification.firstBadOffsets
        self.init(jobID: jobID, passIndex: passIndex, mode: mode ?? verification.mode, samples: Int64(verification.sampleCount),
                  result: verification.result.rawValue,
                  firstBadOffsetsJSON: offsets.isEmpty ? nil : String(decoding: (try? JSONEncoder().encode(offsets)) ?? Data(), as: UTF8.self))
    }

    /// The shared model of this row (an unknown result reads as failed).
    var record: VerificationRecord {
        let offsets = firstBadOffsetsJSON.flatMap { try? JSONDecoder().decode([UInt64].self, from: Data($0.utf8)) } ?? []
        let plainMode = mode.hasPrefix(Self.firmwarePrefix) ? String(mode.dropFirst(Self.firmwarePrefix.count)) : mode
        return VerificationRecord(mode: plainMode, result: VerificationRecord.Result(rawValue: result) ?? .failed,
                                  sampleCount: Int(samples), firstBadOffsets: offsets)
    }
}
