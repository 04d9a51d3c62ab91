import Foundation

// One model of a pass and its verification, shared by the engine (which fills it), the
// journal (which stores it in its `passes` and `verifications` tables) and the certificates
// (which list it as `sanitization.passes` and `verification`). Each keeps only its own
// encoding: the journal's rows and the certificate's JSON members are derived from these
// values, never described a second time.

/// A half-open run of bytes `[start, end)` on the target.
public struct ByteRange: Codable, Sendable, Equatable, CustomStringConvertible {
    public var start: UInt64
    public var end: UInt64
    public init(start: UInt64, end: UInt64) {
        self.start = start
        self.end = end
    }
    public var count: UInt64 { end - start }
    public func contains(_ offset: UInt64) -> Bool { offset >= start && offset < end }
    public var description: String { "[\(start), \(end))" }
}

/// The read-back of one pass.
public struct VerificationRecord: Codable, Sendable, Equatable {
    public enum Result: String, Codable, Sendable {
        case passed
        /// Read-back data differs: `firstBadOffsets` names where.
        case failed
        /// Some sectors could not be read (see `unreadableRanges`); everything read matched.
        case incomplete
        /// The job stopped before or during the read-back.
        case notRun = "not-run"
    }

    /// `full`, `sample:nist`, `sample:5%`.
    public var mode: String
    public var result: Result
    public var bytesCompared: UInt64
    /// Samples read (0 for a full read-back).
    public var sampleCount: Int
    public var sampleLength: Int
    /// How the samples were placed, in words (scheme, sub-sections, seed).
    public var sampleDescription: String?
    /// Every sample's offset, when there are at most `WipeOptions.maxRecordedSampleOffsets`.
    public var sampleOffsets: [UInt64]?
    /// The first offsets where read-back data differed (one per bad sector, at most 16).
    public var firstBadOffsets: [UInt64]
    public var unreadableRanges: [ByteRange]
    public var durationSeconds: Double

    public init(mode: String, result: Result, bytesCompared: UInt64 = 0, sampleCount: Int = 0, sampleLength: Int = 0,
                sampleDescription: String? = nil, sampleOffsets: [UInt64]? = nil, firstBadOffsets: [UInt64] = [],
                unreadableRanges: [ByteRange] = [], durationSeconds: Double = 0) {
        self.mode = mode
        self.result = result
        self.bytesCompared = bytesCompared
        self.sampleCount = sampleCount
        self.sampleLength = sampleLength
        self.sampleDescription = sampleDescription
        self.sampleOffsets = sampleOffsets
        self.firstBadOffsets = firstBadOffsets
        self.unreadableRanges = unreadableRanges
        self.durationSeconds = durationSeconds
    }
}

/// One pass as executed (after the job's random choices): what a certificate lists.
public struct PassRecord: Codable, Sendable, Equatable {
    /// 1-based position in the executed order.
    public var index: Int
    /// `constant`, `pattern`, `complement`, `random-byte`, `prng`.
    public var kind: String
    /// The bytes written, hex (`924924`), for every fixed pass (random byte and complement resolved).
    public var patternHex: String?
    public var prngAlgorithm: String?
    /// True when the pass writes the bitwise complement of a PRNG stream.
    public var invertedStream: Bool
    /// SHA-256 (hex) of the pass's seed; the seed itself stays in the journal.
    public var seedSHA256: String?
    public var writes: Bool
    public var isFinalBlank: Bool
    public var bytesWritten: UInt64
    /// When the pass began and ended (wall clock; nil until the pass runs).
    public var startedAt: Date?
    public var endedAt: Date?
    public var durationSeconds: Double
    public var bytesPerSecond: Double
    /// I/O errors met (each failed I/O counts, retries included).
    public var ioErrorCount: Int
    /// Sectors that could not be written, merged into ranges.
    public var badRanges: [ByteRange]
    public var verification: VerificationRecord?
    /// The pass ran to its end (writes and verification).
    public var completed: Bool

    public init(index: Int, kind: String, patternHex: String? = nil, prngAlgorithm: String? = nil, invertedStream: Bool = false,
                seedSHA256: String? = nil, writes: Bool = true, isFinalBlank: Bool = false, bytesWritten: UInt64 = 0,
                startedAt: Date? = nil, endedAt: Date? = nil, durationSeconds: Double = 0, bytesPerSecond: Double = 0,
                ioErrorCount: Int = 0, badRanges: [ByteRange] = [], verification: VerificationRecord? = nil, completed: Bool = true) {
        self.index = index; self.kind = kind; self.patternHex = patternHex; self.prngAlgorithm = prngAlgorithm
        self.invertedStream = invertedStream; self.seedSHA256 = seedSHA256; self.writes = writes; self.isFinalBlank = isFinalBlank
        self.bytesWritten = bytesWritten; self.startedAt = startedAt; self.endedAt = endedAt; self.durationSeconds = durationSeconds
        self.bytesPerSecond = bytesPerSecond; self.ioErrorCount = ioErrorCount; self.badRanges = badRanges
        self.verification = verification; self.completed = completed
    }

    /// Every sector written and verified as asked.
    public var isClean: Bool {
        guard completed, badRanges.isEmpty else { return false }
        if let verification, verification.result != .passed { return false }
        return true
    }
}

