import ArdoiseSupport
import Foundation

/// What a slot of the bench is doing, in the words the screen shows.
public enum SlotState: String, Sendable, Codable, CaseIterable {
    /// Seen, wipeable, waiting for the technician (manual) or for the grace period (auto).
    case waiting
    /// Accepted, waiting for a free job slot (concurrency limit).
    case queued
    case erasing
    case verifying
    case done
    /// Finished with exceptions (bad sectors recorded) — certified as such, not as clean.
    case doneWithExceptions = "done-with-exceptions"
    case failed
    /// Stopped before the end: removed, cancelled, crashed, identity changed. Never certified as erased.
    case interrupted
    case protected
    case removed

    public var label: LocalizedText {
        switch self {
        case .waiting: LocalizedText(fr: "en attente", en: "waiting")
        case .queued: LocalizedText(fr: "file d'attente", en: "queued")
        case .erasing: LocalizedText(fr: "effacement", en: "erasing")
        case .verifying: LocalizedText(fr: "vérification", en: "verifying")
        case .done: LocalizedText(fr: "terminé ✓", en: "done ✓")
        case .doneWithExceptions: LocalizedText(fr: "terminé avec réserves ⚠", en: "done with exceptions ⚠")
        case .failed: LocalizedText(fr: "échec ✗", en: "failed ✗")
        case .interrupted: LocalizedText(fr: "interrompu ✗", en: "interrupted ✗")
        case .protected: LocalizedText(fr: "protégé", en: "protected")
        case .removed: LocalizedText(fr: "retiré", en: "removed")
        }
    }

    /// True once nothing more will happen to this slot's job.
    public var isFinal: Bool {
        switch self {
        case .done, .doneWithExceptions, .failed, .interrupted, .protected, .removed: true
        default: false
        }
    }
}

/// One drive on the bench as the control socket reports it.
public struct SlotStatus: Sendable, Codable, Hashable {
    public var device: String
    public var model: String?
    public var serial: String?
    public var sizeInBytes: UInt64
    public var transport: String
    public var diskSequence: UInt64?
    public var state: SlotState
    /// Why it is protected, failed or interrupted (already in the bench's language).
    public var reason: String?
    /// For a protected drive, the stable codes of `reason` (`root`, `mounted`…, as in
    /// `ardoise list`; `transport-not-allowed`), whatever the language.
    public var reasonCodes: [String]?
    public var profile: String?
    public var passIndex: Int?
    public var passCount: Int?
    /// 0…1 over the whole job.
    public var fraction: Double?
    public var currentMegabytesPerSecond: Double?
    public var averageMegabytesPerSecond: Double?
    public var etaSeconds: Double?
    /// Seconds left in the auto-start grace period.
    public var graceSecondsLeft: Double?
    public var jobID: String?
    public var certificate: String?
    /// A re-plugged drive whose interrupted job can be resumed (`ardoise start --resume`).
    public var resumable: ResumeOffer?
    /// The interrupted job the running (or last) job continues.
    public var resumedFromJob: String?
    /// The drive's health verdict read before its job (`reuse`, `caution`, `discard`, `unknown`).
    public var health: String?

    public init(device: String, model: String?, serial: String?, sizeInBytes: UInt64, transport: String,
                diskSequence: UInt64?, state: SlotState) {
        self.device = device
        self.model = model
        self.serial = serial
        self.sizeInBytes = sizeInBytes
        self.transport = transport
        self.diskSequence = diskSequence
        self.state = state
    }
}

/// The whole bench at one moment.
public struct BenchSnapshot: Sendable, Codable, Hashable {
    public var benchID: String
    public var benchName: String
    public var technician: String?
    public var donor: String?
    public var lot: String?
    public var policy: String
    public var language: Language
    public var slots: [SlotStatus]
    public var takenAt: Date
    /// Records waiting for the traceability store, and those it refused (nil: not known).
    public var outbox: OutboxStatus?

    public init(benchID: String, benchName: String, technician: String?, donor: String?, lot: String?,
                policy: String, language: Language, slots: [SlotStatus], takenAt: Date = Date()) {
        self.benchID = benchID
        self.benchName = benchName
        self.technician = technician
        self.donor = donor
        self.lot = lot
        self.policy = policy
        self.language = language
        self.slots = slots
        self.takenAt = takenAt
    }
}

/// The outbox as the bench shows it: how many signed records wait to be sent, how many the
/// store refused (parked, with its reason), and why the last attempt failed.
public struct OutboxStatus: Sendable, Codable, Hashable {
    /// One record the store refused.
    public struct Parked: Sendable, Codable, Hashable {
        public var kind: String
        public var recordID: String
        public var httpStatus: Int?
        /// The store's stable error code.
        public var code: String?
        public var message: String?

        public init(kind: String, recordID: String, httpStatus: Int?, code: String?, message: String?) {
            self.kind = kind; self.recordID = recordID; self.httpStatus = httpStatus; self.code = code; self.message = message
        }
    }

    /// False when the configuration has no `[store]`: records stay on the bench.
    public var storeConfigured: Bool
    public var pending: Int
    public var parkedCount: Int
    /// Stable code of the last failed attempt on the oldest pending record.
    public var lastErrorCode: String?
    public var lastError: String?
    public var nextAttemptAt: Date?
    /// The refused records (at most the 20 oldest).
    public var parked: [Parked]

    public init(storeConfigured: Bool, pending: Int, parkedCount: Int, lastErrorCode: String? = nil, lastError: String? = nil,
                nextAttemptAt: Date? = nil, parked: [Parked] = []) {
        self.storeConfigured = storeConfigured; self.pending = pending; self.parkedCount = parkedCount
        self.lastErrorCode = lastErrorCode; self.lastError = lastError; self.nextAttemptAt = nextAttemptAt; self.parked = parked
    }

    /// "3 en attente d'envoi · 1 refusé par le serveur" — nil when there is nothing to say.
    public func label(in language: Language) -> String? {
        let fr = language == .french
        var parts: [String] = []
        if pending > 0 {
            var text = fr ? "\(pending) en attente d'envoi" : "\(pending) waiting to be sent"
            if !storeConfigured {
                text += fr ? " (aucun serveur configuré)" : " (no store configured)"
            } else if let lastErrorCode {
                text += fr ? " (dernier essai : \(lastErrorCode))" : " (last attempt: \(lastErrorCode))"
            }
            parts.append(text)
        }
        if parkedCount > 0 {
            parts.append(fr ? "\(parkedCount) \(parkedCount > 1 ? "refusés" : "refusé") par le serveur"
                            : "\(parkedCount) refused by the store")
        }
        return parts.isEmpty ? nil : parts.joined(separator: " · ")
    }
}
