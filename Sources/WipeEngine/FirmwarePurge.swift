import ArdoiseSupport
import ErasureRecords

/// Runs a profile's `[firmware]` step for a job. The engine knows no passthrough command:
/// the bench supplies an implementation (Sanitize's `FirmwareEraser` behind it) through
/// `WipeOptions.firmwarePurger`, and the job calls it on the job's own thread, before any pass.
public protocol FirmwarePurging: Sendable {
    /// Identifies the drive, chooses and runs the firmware erase, and checks it by reading
    /// samples through `target`. Blocks for the whole erase (minutes to hours).
    /// `progress` may be called on the calling thread with a fraction (when the drive
    /// reports one) and a message.
    func purge(target: any WipeTarget, step: FirmwareStep, seed: [UInt8],
               progress: @escaping @Sendable (FirmwarePurgeProgress) -> Void) -> FirmwarePurgeRecord
}

/// A progress report of the firmware step.
public struct FirmwarePurgeProgress: Sendable, Equatable {
    /// 0…1 when the drive reports progress.
    public var fraction: Double?
    public var message: LocalizedText
    public init(fraction: Double?, message: LocalizedText) { self.fraction = fraction; self.message = message }
}

/// What the firmware step did: the facts a certificate lists.
public struct FirmwarePurgeRecord: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable {
        /// The firmware erase completed and its sampled verification passed.
        case purged
        /// No firmware purge on this drive, but the profile's overwrite passes reach every
        /// sector (a hard disk): they run instead, and the job is NIST Clear.
        case overwriteFallback = "overwrite-fallback"
        /// Refused (unsupported, frozen, locked, no pass-through) or failed, or the
        /// verification failed: nothing may be certified as erased.
        case failed
    }

    /// One command (or command sequence) as the standard names it.
    public struct Operation: Codable, Sendable, Equatable {
        /// E.g. "ATA SANITIZE CRYPTO SCRAMBLE".
        public var command: String
        /// The method name (`ata-sanitize-crypto`).
        public var method: String
        public var succeeded: Bool
        public var durationSeconds: Double
        /// Commands sent to the drive for it, and what the drive or the flow said.
        public var commandCount: Int
        public var detail: String?
        public init(command: String, method: String, succeeded: Bool, durationSeconds: Double, commandCount: Int, detail: String? = nil) {
            self.command = command; self.method = method; self.succeeded = succeeded
            self.durationSeconds = durationSeconds; self.commandCount = commandCount; self.detail = detail
        }
    }

    /// Sectors hidden from the host (HPA, AMA, DCO) and what became of them.
    public struct HiddenArea: Codable, Sendable, Equatable {
        public var detected: Bool
        /// nil when nothing was detected.
        public var erased: Bool?
        /// `hpa`, `dco`.
        public var kinds: [String]
        public var hiddenBytes: UInt64?
        public init(detected: Bool, erased: Bool?, kinds: [String], hiddenBytes: UInt64?) {
            self.detected = detected; self.erased = erased; self.kinds = kinds; self.hiddenBytes = hiddenBytes
        }
    }

    public var outcome: Outcome
    /// Why this method (or why none), in words.
    public var reason: LocalizedText
    /// What the drive said it is (`ata`, `nvme`, `scsi`), if it answered.
    public var driveModel: String?
    public var driveSerial: String?
    public var operations: [Operation]
    public var hiddenArea: HiddenArea?
    /// The sampled read-back after the erase (`sample:nist`); nil when no erase ran.
    public var verification: VerificationRecord?
    public var notes: [LocalizedText]
    public var durationSeconds: Double
    /// For `failed`: a stable code of why (the Sanitize error's, e.g. `frozen`, `unsupported`,
    /// `verificationFailed`; `noFirmwarePurge` when the drive has none and the step allows no
    /// fallback). Absent from records made before it existed.
    public var failureCode: String?

    public init(outcome: Outcome, reason: LocalizedText, driveModel: String? = nil, driveSerial: String? = nil,
                operations: [Operation] = [], hiddenArea: HiddenArea? = nil, verification: VerificationRecord? = nil,
                notes: [LocalizedText] = [], durationSeconds: Double = 0, failureCode: String? = nil) {
        self.outcome = outcome; self.reason = reason; self.driveModel = driveModel; self.driveSerial = driveSerial
        self.operations = operations; self.hiddenArea = hiddenArea; self.verification = verification
        self.notes = notes; self.durationSeconds = durationSeconds; self.failureCode = failureCode
    }

    /// A refusal before anything was sent that changes the drive.
    public static func failed(_ reason: LocalizedText, operations: [Operation] = [], durationSeconds: Double = 0,
                              code: String? = nil) -> FirmwarePurgeRecord {
        FirmwarePurgeRecord(outcome: .failed, reason: reason, operations: operations, durationSeconds: durationSeconds, failureCode: code)
    }
}

/// Reads and writes the blocks of a `SamplePlan` through a target: the firmware step's
/// verification seeds every sample with known data before the erase and reads it back after.
public enum SampledBlocks {
    /// The known content of sample `index`: pseudo-random bytes from (seed, index), never
    /// uniform, so a block erase (uniform result), an overwrite (its pattern) and a crypto
    /// erase (anything else) are each told apart from "nothing happened".
    public static func seedContent(seed: [UInt8], index: Int, length: Int) -> [UInt8] {
        var generator = Xoshiro256StarStar(seed: PassPlanner.choiceSeed(seed: seed, label: "ardoise.firmware-sample-content", index: index))
        var bytes = [UInt8](repeating: 0, count: length)
        var i = 0
        while i < length {
            var word = generator.next()
            for _ in 0..<8 where i < length {
                bytes[i] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                i += 1
            }
        }
        if length > 1, bytes.allSatisfy({ $0 == bytes[0] }) { bytes[1] = ~bytes[0] }
        return bytes
    }

    /// Writes `content(i)` into each sample of `plan`, then flushes.
    public static func write(_ plan: SamplePlan, to target: any WipeTarget, content: (Int) -> [UInt8]) throws(WipeTargetError) {
        let buffer = AlignedBuffer(count: plan.sampleLength, alignment: max(target.bufferAlignment, 4096))
        for (index, range) in plan.ranges.enumerated() {
            let bytes = content(index)
            let length = Int(range.count)
            bytes.withUnsafeBytes { source in
                buffer.mutableBytes(count: length).copyMemory(from: UnsafeRawBufferPointer(rebasing: source.prefix(length)))
            }
            try target.write(buffer.bytes(count: length), at: range.start)
        }
        try target.flush()
    }

    /// Reads each sample of `plan` in order and hands its bytes to `body`.
    public static func read(_ plan: SamplePlan, from target: any WipeTarget, _ body: (Int, UInt64, UnsafeRawBufferPointer) -> Void) throws(WipeTargetError) {
        let buffer = AlignedBuffer(count: plan.sampleLength, alignment: max(target.bufferAlignment, 4096))
        for (index, range) in plan.ranges.enumerated() {
            let length = Int(range.count)
            try target.read(into: buffer.mutableBytes(count: length), at: range.start)
            body(index, range.start, buffer.bytes(count: length))
        }
    }

    /// The plan a firmware step's verification mode asks for; on a target too small for it,
    /// every block (which is stronger).
    public static func plan(for mode: VerificationMode, target: any WipeTarget, sampleLength: Int, seed: [UInt8]) -> SamplePlan {
        let sector = target.logicalSectorSize
        let planned = SamplePlan.forMode(mode, sizeInBytes: target.sizeInBytes, logicalSectorSize: sector, sampleLength: sampleLength,
                                         seed: PassPlanner.choiceSeed(seed: seed, label: "ardoise.firmware-samples"))
        if let planned { return planned }
        // Too small to sample: every sector-aligned block of the target, which is stronger.
        let length = UInt64(max(sector, min(sampleLength, Int(min(target.sizeInBytes, 1 << 20)))) / sector * sector)
        var ranges: [ByteRange] = []
        var offset: UInt64 = 0
        while offset < target.sizeInBytes {
            let end = min(offset + length, target.sizeInBytes)
            ranges.append(ByteRange(start: offset, end: end))
            offset = end
        }
        return SamplePlan(ranges: ranges, sampleLength: Int(length), subsectionCount: ranges.count, samplesPerSubsection: 1,
                          description: "every block (\(ranges.count) × \(length) bytes): the target is too small to sample")
    }
}
