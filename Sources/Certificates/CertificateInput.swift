import ErasureRecords
import Foundation

/// What the bench knows after a job, filled by the caller from the engine's report. The
/// passes and verifications are the shared model (ErasureRecords) the engine fills and the
/// journal stores; this module does not depend on the wipe engine.
public struct CertificateInput: Sendable {
    /// How the job ended.
    public enum Outcome: Sendable, Equatable {
        case completed
        case failed(reason: String)
        case interrupted(reason: String)
        case driveRemoved
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
    /// The overwrite passes that wrote, in order (1-based `index`, as the engine numbers them;
    /// the certificate lists them 0-based).
    public var passes: [PassRecord]
    public var firmwareOperations: [FirmwareOperation]
    /// The verification that closes the job (usually of the last pass or the firmware erase).
    public var finalVerification: VerificationRecord?
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
                profile: String, passes: [PassRecord], firmwareOperations: [FirmwareOperation] = [],
                finalVerification: VerificationRecord?, tool: Tool, outcome: Outcome, startedAt: Date, endedAt: Date,
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
            // The certificate numbers passes from 0; the engine and the journal from 1.
            let position = pass.index - 1
            let kind: PassKind = pass.kind == "prng" ? .random : .pattern
            let unwritten = pass.badRanges.reduce(UInt64(0)) { $0 + $1.count }
            let verification = pass.verification.map(PassVerification.init(record:))
            executed.append(ExecutedPass(
                index: position, kind: kind, pattern: kind == .pattern ? pass.patternHex?.lowercased() : nil,
                prngAlgorithm: kind == .random ? pass.prngAlgorithm : nil, bytesWritten: pass.bytesWritten,
                unwrittenBytes: unwritten, ioErrors: pass.ioErrorCount, durationSeconds: pass.durationSeconds,
                throughputBytesPerSecond: pass.durationSeconds > 0 ? Double(pass.bytesWritten) / pass.durationSeconds : 0,
                verification: verification))
            if pass.bytesWritten + unwritten >= capacity, capacity > 0 { fullCoverage = true }
            if pass.bytesWritten + unwritten < capacity {
                exceptions.append(.init(kind: .incompleteCoverage,
                                        detail: "pass \(position + 1) covered \(pass.bytesWritten + unwritten) of \(capacity) bytes",
                                        passIndex: position, bytes: capacity - min(capacity, pass.bytesWritten + unwritten)))
            }
            if unwritten > 0 || pass.ioErrorCount > 0 {
                let ranges = pass.badRanges.prefix(8).map { "\($0.start)+\($0.count)" }.joined(separator: ", ")
                exceptions.append(.init(kind: .unwrittenSectors,
                                        detail: "pass \(position + 1): \(pass.ioErrorCount) I/O error(s), \(unwritten) bytes unwritten"
                                            + (ranges.isEmpty ? "" : " [\(ranges)\(pass.badRanges.count > 8 ? ", …" : "")]"),
                                        passIndex: position, bytes: unwritten))
            }
            if verification?.result == .failed {
                exceptions.append(.init(kind: .verificationFailed, detail: "verification of pass \(position + 1) failed",
                                        passIndex: position))
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

        let final = input.finalVerification.map(PassVerification.init(record:)) ?? PassVerification(mode: .none, result: .notPerformed)
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

extension PassVerification {
    /// How the certificate states a verification of the shared model: `full`, `sampled`
    /// (any `sample…` mode) or `none`; the samples read when there were any; passed, failed
    /// (a mismatch or unreadable sectors) or not performed.
    public init(record: VerificationRecord) {
        let mode: VerificationMode = record.mode == "full" ? .full : record.mode.hasPrefix("sample") ? .sampled : .none
        let result: VerificationOutcome = switch record.result {
        case .passed: .passed
        case .failed, .incomplete: .failed
        case .notRun: .notPerformed
        }
        self.init(mode: mode, samples: record.sampleCount > 0 ? UInt64(record.sampleCount) : nil, result: result)
    }
}
