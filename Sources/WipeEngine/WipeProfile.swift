import ArdoiseSupport

/// NIST SP 800-88 sanitization category a profile reaches when it completes and verifies.
public enum NISTCategory: String, Sendable, Codable, CaseIterable {
    case clear
    case purge
    /// Not a sanitization (e.g. a read-only check).
    case none
}

/// The pseudo-random generator behind a `prng` pass.
public enum PRNGAlgorithm: String, Sendable, Codable, CaseIterable {
    /// xoshiro256** reseeded every 4 KiB block from (seed, pass, block): fast and reproducible.
    case xoshiro256StarStar = "xoshiro256**"
    /// AES-256 in counter mode, counter = byte offset / 16: for profiles that ask for a
    /// cryptographic generator.
    case aesCTR = "aes-ctr"
}

/// What a pass writes (or, for a read-only pass, expects to find).
public enum PassPattern: Sendable, Equatable, Codable {
    /// One byte repeated.
    case constant(UInt8)
    /// A multi-byte pattern; the byte at absolute offset `o` is `bytes[o % bytes.count]`.
    case pattern([UInt8])
    /// The bitwise complement of the previous pass's data.
    case complement
    /// One byte chosen per pass from the job's seed, then repeated.
    case randomByte
    /// A pseudo-random stream regenerable from (seed, pass, offset).
    case prng(PRNGAlgorithm)

    /// The profile file's name for the kind.
    public var kindName: String {
        switch self {
        case .constant: "constant"
        case .pattern: "pattern"
        case .complement: "complement"
        case .randomByte: "random-byte"
        case .prng: "prng"
        }
    }
}

/// How a pass is read back.
public enum VerificationMode: Sendable, Equatable, Codable, CustomStringConvertible {
    case none
    /// Every byte read back and compared.
    case full
    /// NIST SP 800-88 Rev.1 sampling: ≥ 1,000 equal sub-sections, two pseudo-random
    /// non-overlapping samples in each, plus the first and last blocks.
    case nistSample
    /// Pseudo-random samples covering about this percentage of the target (0 < p ≤ 100).
    case samplePercent(Double)

    public var description: String {
        switch self {
        case .none: "none"
        case .full: "full"
        case .nistSample: "sample:nist"
        case .samplePercent(let percent): "sample:\(Self.formatPercent(percent))%"
        }
    }

    static func formatPercent(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

/// What the job does when a sector cannot be written or read after retries.
public enum ErrorPolicy: String, Sendable, Codable {
    /// Stop the job: status `failed`.
    case abort
    /// Record the bad range and go on: status at best `completedWithExceptions`.
    case `continue`
}

/// One pass as the profile describes it (before random choices are made for a job).
public struct PassSpecification: Sendable, Equatable, Codable {
    public var pattern: PassPattern
    public var verification: VerificationMode
    /// False for a read-only pass: it only compares the target with `pattern`.
    public var writes: Bool
    /// Gutmann's fixed passes run in a random order: passes marked `shuffle` are permuted
    /// among their own positions with the job's seed.
    public var shuffled: Bool
    /// True for the profile's optional final blanking pass.
    public var isFinalBlank: Bool

    public init(
        pattern: PassPattern, verification: VerificationMode = .none, writes: Bool = true,
        shuffled: Bool = false, isFinalBlank: Bool = false
    ) {
        self.pattern = pattern
        self.verification = verification
        self.writes = writes
        self.shuffled = shuffled
        self.isFinalBlank = isFinalBlank
    }
}

/// A firmware purge step (`[firmware]` in a profile): the drive's own sanitize command runs
/// first, chosen per drive; the profile's passes then run only as the fallback for drives
/// with no firmware purge (hard disks without SANITIZE OVERWRITE) or, with `finalOverwrite`,
/// after a successful firmware purge. The engine does not send firmware commands itself:
/// the bench runs this step (Sanitize module) before handing the passes to the engine.
public struct FirmwareStep: Sendable, Equatable, Codable {
    /// The method names a profile may give (Sanitize's `FirmwareEraseMethod` raw values;
    /// a test keeps the two lists equal).
    public static let methodNames: [String] = [
        "auto", "ata-security-erase", "ata-security-erase-enhanced", "ata-sanitize-crypto", "ata-sanitize-block",
        "ata-sanitize-overwrite", "nvme-format-user-data", "nvme-format-crypto", "nvme-sanitize-block",
        "nvme-sanitize-crypto", "nvme-sanitize-overwrite", "scsi-sanitize-overwrite", "scsi-sanitize-block",
        "scsi-sanitize-crypto", "scsi-format-secure",
    ]

    /// `auto` (the strongest supported purge, NIST SP 800-88) or one method name.
    public var method: String
    /// How the erase is checked by reading back: `.nistSample` (samples seeded with known
    /// data before the erase) or `.samplePercent`.
    public var verification: VerificationMode
    /// Remove HPA / AMA / DCO limits before erasing, so hidden sectors are erased too.
    public var restoreHiddenArea: Bool
    /// After a successful firmware purge, also run the profile's passes (e.g. one verified
    /// zero pass, so the drive reads back a known pattern).
    public var finalOverwrite: Bool
    /// When the drive has no firmware purge but overwriting reaches all its sectors (a hard
    /// disk), run the profile's passes instead (the record then says NIST Clear).
    public var overwriteFallback: Bool

    public init(method: String = "auto", verification: VerificationMode = .nistSample, restoreHiddenArea: Bool = true,
                finalOverwrite: Bool = false, overwriteFallback: Bool = true) {
        self.method = method
        self.verification = verification
        self.restoreHiddenArea = restoreHiddenArea
        self.finalOverwrite = finalOverwrite
        self.overwriteFallback = overwriteFallback
    }
}

/// An erasure standard as one profile file states it: the exact passes and their verification.
public struct WipeProfile: Sendable, Equatable, Codable {
    /// The profile's name (`dod-5220-22m`), equal to its file name without `.toml`.
    public var name: String
    public var title: LocalizedText
    /// The standard followed (`DoD 5220.22-M (E)`).
    public var standard: String
    /// Which reading of the standard these passes follow, when tools disagree.
    public var reading: String?
    public var nistCategory: NISTCategory
    public var onError: ErrorPolicy
    /// Every pass in order, the final blanking pass (if any) last.
    public var passes: [PassSpecification]
    /// The file the profile was loaded from.
    public var sourcePath: String?
    /// A firmware purge that runs before (or instead of) the passes, if the profile has one.
    public var firmware: FirmwareStep?

    public init(
        name: String, title: LocalizedText, standard: String, reading: String? = nil,
        nistCategory: NISTCategory, onError: ErrorPolicy = .abort, passes: [PassSpecification],
        sourcePath: String? = nil, firmware: FirmwareStep? = nil
    ) {
        self.name = name
        self.title = title
        self.standard = standard
        self.reading = reading
        self.nistCategory = nistCategory
        self.onError = onError
        self.passes = passes
        self.sourcePath = sourcePath
        self.firmware = firmware
    }

    /// True when nothing writes: no firmware step and no pass that writes (e.g. `verify-zero`).
    public var isReadOnly: Bool { firmware == nil && !passes.contains { $0.writes } }

    /// A short summary of the verification the profile asks for, for the profiles table:
    /// `full (all)`, `full (last)`, `2/7 passes`, `none` (French: `complète (toutes)`…).
    public func verificationSummary(in language: Language = .english) -> String {
        let fr = language == .french
        func name(_ mode: VerificationMode) -> String {
            guard fr else { return mode.description }
            switch mode {
            case .none: return "aucune"
            case .full: return "complète"
            case .nistSample: return "échantillons NIST"
            case .samplePercent(let percent): return "échantillons \(VerificationMode.formatPercent(percent)) %"
            }
        }
        let modes = passes.map(\.verification)
        let verified = modes.filter { $0 != .none }
        if verified.isEmpty { return name(.none) }
        if verified.count == modes.count {
            let first = verified[0]
            if verified.allSatisfy({ $0 == first }) { return name(first) + (fr ? " (toutes)" : " (all)") }
            return fr ? "mixte (toutes)" : "mixed (all)"
        }
        if verified.count == 1, let last = modes.last, last != .none {
            return name(last) + (fr ? " (dernière)" : " (last)")
        }
        return fr ? "\(verified.count)/\(modes.count) passes" : "\(verified.count)/\(modes.count) passes"
    }
}
