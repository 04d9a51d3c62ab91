import ArdoiseSupport
import Foundation

/// What a rule makes of a drive when it fires.
public enum HealthSeverity: String, Sendable, Codable, Comparable, CaseIterable {
    /// The rule is switched off.
    case ignore
    case caution
    case discard

    private var rank: Int {
        switch self {
        case .ignore: 0
        case .caution: 1
        case .discard: 2
        }
    }

    public static func < (lhs: HealthSeverity, rhs: HealthSeverity) -> Bool { lhs.rank < rhs.rank }
}

/// A counter rule: `caution` from `cautionAt`, `discard` from `discardAt` (either may be off).
public struct CounterThreshold: Sendable, Equatable, Codable {
    public var cautionAt: UInt64?
    public var discardAt: UInt64?

    public init(cautionAt: UInt64? = nil, discardAt: UInt64? = nil) {
        self.cautionAt = cautionAt
        self.discardAt = discardAt
    }

    /// The severity `value` reaches and the threshold it reached, nil below every threshold.
    public func judge(_ value: UInt64) -> (HealthSeverity, UInt64)? {
        if let discardAt, value >= discardAt { return (.discard, discardAt) }
        if let cautionAt, value >= cautionAt { return (.caution, cautionAt) }
        return nil
    }
}

/// The health policy: every rule that turns SMART data and surface-scan results into a
/// verdict. Loaded from a versioned TOML file (`Policies/health-default.toml`,
/// `/etc/ardoise/health.toml`, `--policy FILE`), read whole or refused.
public struct HealthPolicy: Sendable, Equatable {
    public struct AtaAttributeRule: Sendable, Equatable {
        public var id: Int
        /// The reason code this rule reports (`ata_reallocated_sectors`…).
        public var code: String
        public var threshold: CounterThreshold
    }

    public var schema: Int
    public var name: String
    public var version: String
    /// The file it came from.
    public var sourcePath: String

    public var overallFailed: HealthSeverity
    public var attributeFailingNow: HealthSeverity
    public var attributeFailedInPast: HealthSeverity
    public var statusUnavailable: HealthSeverity
    public var latestSelfTestFailed: HealthSeverity
    public var olderSelfTestFailed: HealthSeverity
    public var ataAttributes: [AtaAttributeRule]
    /// NVMe critical_warning bit → severity (bits 0–5).
    public var nvmeCriticalWarning: [Int: HealthSeverity]
    public var nvmePercentageUsed: CounterThreshold
    public var nvmeMediaErrors: CounterThreshold
    public var scsiGrownDefects: CounterThreshold
    public var scsiUncorrectedErrors: CounterThreshold
    public var surfaceUnreadable: CounterThreshold
    public var surfaceSlowerThan500ms: CounterThreshold
    public var surfaceSlowerThan150ms: CounterThreshold
    public var surfaceSlowerThan50ms: CounterThreshold
    public var temperature: CounterThreshold
    public var powerOnHours: CounterThreshold

    /// Names of the NVMe critical-warning bits as the policy file spells them.
    public static let nvmeWarningKeys: [(bit: Int, key: String, code: String)] = [
        (0, "spare-below-threshold", "nvme_spare_below_threshold"),
        (1, "temperature-warning", "nvme_temperature_warning"),
        (2, "reliability-degraded", "nvme_reliability_degraded"),
        (3, "read-only", "nvme_read_only"),
        (4, "volatile-backup-failed", "nvme_volatile_backup_failed"),
        (5, "persistent-memory-read-only", "nvme_persistent_memory_read_only"),
    ]

    /// The system override, read instead of the built-in file when it exists.
    public static let systemPath = "/etc/ardoise/health.toml"
    public static let builtInFileName = "health-default.toml"

    // MARK: Loading

    /// The policy in force: `explicitPath` if given, else `/etc/ardoise/health.toml` if it
    /// exists, else the built-in `Policies/health-default.toml`.
    public static func loadStandard(explicitPath: String? = nil, systemPath: String = HealthPolicy.systemPath,
                                    builtInDirectory: String? = nil) throws(DiagnosticsError) -> HealthPolicy {
        if let explicitPath { return try load(path: explicitPath) }
        if FileManager.default.fileExists(atPath: systemPath) { return try load(path: systemPath) }
        let directory: String
        if let builtInDirectory { directory = builtInDirectory } else { directory = try Self.builtInDirectory() }
        return try load(path: (directory as NSString).appendingPathComponent(builtInFileName))
    }

    /// Parses one policy file. Nothing is returned unless the whole file is valid.
    public static func load(path: String) throws(DiagnosticsError) -> HealthPolicy {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw DiagnosticsError(code: .policyUnreadable,
                                   message: LocalizedText(fr: "fichier de politique de santé illisible (UTF-8 attendu)", en: "cannot read the health policy file (UTF-8 expected)"),
                                   file: path)
        }
        return try HealthPolicyParser(path: path, text: text).parse()
    }

    /// The repository's (or the installation's) `Policies` directory: `ARDOISE_POLICIES_DIR`,
    /// `../share/ardoise/policies` beside the executable, else the nearest `Policies` folder
    /// above the executable or the current directory.
    public static func builtInDirectory(environment: [String: String] = ProcessInfo.processInfo.environment,
                                        currentDirectory: String = FileManager.default.currentDirectoryPath) throws(DiagnosticsError) -> String {
        func isDirectory(_ path: String) -> Bool {
            var flag: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
        }
        if let value = environment["ARDOISE_POLICIES_DIR"], !value.isEmpty, isDirectory(value) { return value }
        var starts: [String] = []
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments.first
        if let executable {
            let directory = (executable as NSString).deletingLastPathComponent
            let installed = ((directory as NSString).appendingPathComponent("../share/ardoise/policies") as NSString).standardizingPath
            if isDirectory(installed) { return installed }
            starts.append(directory)
        }
        starts.append(currentDirectory)
        for start in starts {
            var directory = (start as NSString).standardizingPath
            while true {
                let candidate = (directory as NSString).appendingPathComponent("Policies")
                if FileManager.default.fileExists(atPath: (candidate as NSString).appendingPathComponent(builtInFileName)) { return candidate }
                let parent = (directory as NSString).deletingLastPathComponent
                if parent == directory || parent.isEmpty { break }
                directory = parent
            }
        }
        throw DiagnosticsError(code: .policyUnreadable,
                               message: LocalizedText(fr: "politique de santé intégrée introuvable ; indiquez --policy FICHIER ou ARDOISE_POLICIES_DIR",
                                                      en: "built-in health policy not found; pass --policy FILE or set ARDOISE_POLICIES_DIR"))
    }
}
