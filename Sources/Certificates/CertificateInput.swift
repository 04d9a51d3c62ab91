import Foundation

/// What the bench knows after a job, filled by the caller from the engine's report. Plain
/// values only: this module does not depend on the wipe engine.
public struct CertificateInput: Sendable {
    /// How the job ended.
    public enum Outcome: Sendable, Equatable {
        case completed
        case failed(reason: String)
        case interrupted(reason: String)
        case driveRemoved
    }

    /// A byte range the pass could not write (bad sectors).
    public struct ByteRange: Sendable, Equatable {
        public var offset: UInt64
        public var length: UInt64
        public init(offset: UInt64, length: UInt64) { self.offset = offset; self.length = length }
    }

    /// One overwrite pass as the engine reports it.
    public struct Pass: Sendable {
        public var index: Int
        public var kind: PassKind
        /// Lowercase hex of the repeated pattern (`"00"`, `"924924"`); nil for random.
        public var patternHex: String?
        public var prngAlgorithm: String?
        public var bytesWritten: UInt64
        public var unwrittenRanges: [ByteRange]
        public var ioErrors: Int
        public var durationSeconds: Double
        /// The read-back of this pass, if one ran.
        public var verification: PassVerification?

        public init(index: Int, kind: PassKind, patternHex: String? = nil, prngAlgorithm: String? = nil,
                    bytesWritten: UInt64, unwrittenRanges: [ByteRange] = [], ioErrors: Int = 0,
                    durationSeconds: Double, verification: PassVerification? = nil) {
            self.index = index; self.kind = kind; self.patternHex = patternHex; self.prngAlgorithm = prngAlgorithm
            self.bytesWritten = bytesWritten; self.unwrittenRanges = unwrittenRanges; self.ioErrors = ioErrors
            self.durationSeconds = durationSeconds; self.verification = verification
        }
    }

    public var id: UUID
    public var jobID: UUID
    public var benchID: String
    public var organisation: Organisation
    public var technician: Person
    public var validator: Person?
    public var donor: String?
    public var lot: String?
    public var media: Media
    public var sourceHost: SourceHost?
    public var hiddenAreas: HiddenAreas?
    public var category: NISTCategory
    public var profile: String
    public var passes: [Pass]
    public var firmwareOperations: [FirmwareOperation]
    /// The verification that closes the job (usually of the last pass or the firmware erase).
    public var finalVerification: PassVerification?
    public var tool: Tool
    public var outcome: Outcome
    public var startedAt: Date
    public var endedAt: Date
    public var destination: Destination
    /// Anything else the caller wants listed; any entry makes the status at best
    /// `erased_with_exceptions`.
    public var additionalExceptions: [ErasureException]
    /// The drive's health checked before the job, carried on the certificate as `health`.
    public var health: DriveHealth?
    /// The store page that verifies this certificate (`<public-url>/c/<id>`), if any.
    public var verificationURL: String?

    public init(id: UUID = UUID(), jobID: UUID, benchID: String, organisation: Organisation, technician: Person,
                validator: Person? = nil, donor: String? = nil, lot: String? = nil, media: Media,
                sourceHost: SourceHost? = nil, hiddenAreas: HiddenAreas? = nil, category: NISTCategory,
                profile: String, passes: [Pass], firmwareOperations: [FirmwareOperation] = [],
                finalVerification: PassVerification?, tool: Tool, outcome: Outcome, startedAt: Date, endedAt: Date,
                destination: Destination = .externalReuse, additionalExceptions: [ErasureException] = [],
                health: DriveHealth? = nil, verificationURL: String? = nil) {
        self.id = id; self.jobID = jobID; self.benchID = benchID; self.organisation = organisation
        self.technician = technician; self.validator = validator; self.donor = donor; self.lot = lot
        self.media = media; self.sourceHost = sourceHost; self.hiddenAreas = hiddenAreas; self.category = category
        self.profile = profile; self.passes = passes; self.firmwareOperations = firmwareOperations
        self.finalVerification = finalVerification; self.tool = tool; self.outcome = outcome
        self.startedAt = startedAt; self.endedAt = endedAt; self.destination = destination
        self.additionalExceptions = additionalExceptions
        self.health = health
        self.verificationURL = verificationURL
    }
}

extension CertificatePayload {
    /// Builds the payload, deriving the method, the exceptions and the status from the facts.
    ///
    /// - `erased` only when the job completed, every overwrite pass wrote the whole capacity
    ///   with no unwritten range or I/O error, every firmware command succeeded, no hidden area
    ///   was left, every verification run passed and a final verification ran and passed.
    /// - `not_erased` when the job did not complete, when nothing covered the whole medium
    ///   (no full-length pass and no successful firmware erase), or when the final
    ///   verification failed.
    /// - `erased_with_exceptions` otherwise, with each exception listed.
    public init(input: CertificateInput, issuedAt: Date = Date()) {
        let capacity = input.media.capacityBytes
        var exceptions: [ErasureException] = []

        switch input.outcome {
        case .completed: break
        case .failed(let reason): exceptions.append(.init(kind: .jobFailed, detail: reason))
        case .interrupted(let reason): exceptions.append(.init(kind: .jobInterrupted, detail: reason))
        case .driveRemoved: exceptions.append(.init(kind: .driveRemoved, detail: "drive removed during the job"))
        }

        var executed: [ExecutedPass] = []
        var fullCoverage = false
        for pass in input.passes {
            let unwritten = pass.unwrittenRanges.reduce(UInt64(0)) { $0 + $1.length }
            executed.append(ExecutedPass(
                index: pass.index, kind: pass.kind, pattern: pass.kind == .pattern ? pass.patternHex?.lowercased() : nil,
                prngAlgorithm: pass.kind == .random ? pass.prngAlgorithm : nil, bytesWritten: pass.bytesWritten,
                unwrittenBytes: unwritten, ioErrors: pass.ioErrors, durationSeconds: pass.durationSeconds,
                throughputBytesPerSecond: pass.durationSeconds > 0 ? Double(pass.bytesWritten) / pass.durationSeconds : 0,
                verification: pass.verification))
            if pass.bytesWritten + unwritten >= capacity, capacity > 0 { fullCoverage = true }
            if pass.bytesWritten + unwritten < capacity {
                exceptions.append(.init(kind: .incompleteCoverage,
                                        detail: "pass \(pass.index + 1) covered \(pass.bytesWritten + unwritten) of \(capacity) bytes",
                                        passIndex: pass.index, bytes: capacity - min(capacity, pass.bytesWritten + unwritten)))
            }
            if unwritten > 0 || pass.ioErrors > 0 {
                let ranges = pass.unwrittenRanges.prefix(8).map { "\($0.offset)+\($0.length)" }.joined(separator: ", ")
                exceptions.append(.init(kind: .unwrittenSectors,
                                        detail: "pass \(pass.index + 1): \(pass.ioErrors) I/O error(s), \(unwritten) bytes unwritten"
                                            + (ranges.isEmpty ? "" : " [\(ranges)\(pass.unwrittenRanges.count > 8 ? ", …" : "")]"),
                                        passIndex: pass.index, bytes: unwritten))
            }
            if pass.verification?.result == .failed {
                exceptions.append(.init(kind: .verificationFailed, detail: "verification of pass \(pass.index + 1) failed",
                                        passIndex: pass.index))
            }
        }

        var firmwareSucceeded = false
        for operation in input.firmwareOperations {
            if operation.succeeded {
                firmwareSucceeded = true
            } else {
                exceptions.append(.init(kind: .firmwareCommandFailed,
                                        detail: operation.command + (operation.detail.map { ": \($0)" } ?? "")))
            }
        }

        if let hidden = input.hiddenAreas, hidden.detected, hidden.erased != true {
            exceptions.append(.init(kind: .hiddenAreaNotErased,
                                    detail: "hidden area (\(hidden.kinds.joined(separator: ", "))) not erased",
                                    bytes: hidden.hiddenBytes))
        }

        let final = input.finalVerification ?? PassVerification(mode: .none, result: .notPerformed)
        switch final.result {
        case .passed where final.mode != .none: break
        case .failed: exceptions.append(.init(kind: .verificationFailed, detail: "final verification failed"))
        default: exceptions.append(.init(kind: .verificationNotPerformed, detail: "no final verification"))
        }
        exceptions += input.additionalExceptions

        let anyCoverage = fullCoverage || firmwareSucceeded
        if !anyCoverage, !exceptions.contains(where: { $0.kind == .incompleteCoverage }) {
            exceptions.append(.init(kind: .incompleteCoverage, detail: "no pass or drive command covered the whole medium",
                                    bytes: capacity))
        }
        let status: ErasureStatus
        if input.outcome != .completed || !anyCoverage || final.result == .failed {
            status = .notErased
        } else if exceptions.isEmpty {
            status = .erased
        } else {
            status = .erasedWithExceptions
        }

        let method: SanitizationMethod = switch (firmwareSucceeded, input.passes.contains { $0.bytesWritten > 0 }) {
        case (true, true): .firmwareAndOverwrite
        case (true, false): .firmware
        case (false, true): .overwrite
        case (false, false): input.firmwareOperations.isEmpty ? (input.passes.isEmpty ? .none : .overwrite) : .firmware
        }

        let totalBytes = input.passes.reduce(UInt64(0)) { $0 + $1.bytesWritten }
        let totalTime = input.passes.reduce(0.0) { $0 + $1.durationSeconds }

        self.schema = Self.schemaURI
        self.schemaVersion = Self.currentSchemaVersion
        self.id = input.id.uuidString.lowercased()
        self.issuedAt = wholeSeconds(issuedAt)
        self.benchID = input.benchID
        self.organisation = input.organisation
        self.technician = input.technician
        self.validator = input.validator
        self.donor = input.donor
        self.lot = input.lot
        self.media = input.media
        self.sourceHost = input.sourceHost
        self.hiddenAreas = input.hiddenAreas
        self.sanitization = Sanitization(category: input.category, method: method, profile: input.profile, passes: executed,
                                         firmwareOperations: input.firmwareOperations.isEmpty ? nil : input.firmwareOperations)
        self.verification = VerificationSummary(method: final.mode, samples: final.samples, result: final.result)
        self.tool = input.tool
        self.result = ErasureResult(status: status, exceptions: exceptions)
        self.timing = Timing(startedAt: wholeSeconds(input.startedAt), endedAt: wholeSeconds(input.endedAt),
                             durationSeconds: max(0, input.endedAt.timeIntervalSince(input.startedAt)),
                             bytesWritten: totalBytes,
                             throughputBytesPerSecond: totalTime > 0 ? Double(totalBytes) / totalTime : 0)
        self.destination = input.destination
        self.health = input.health
        self.verificationURL = input.verificationURL
    }
}

/// RFC 3339 in the JSON carries whole seconds; rounding here keeps a payload equal to its
/// own decoded copy.
func wholeSeconds(_ date: Date) -> Date {
    Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
}
