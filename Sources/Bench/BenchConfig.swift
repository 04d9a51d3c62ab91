import ArdoiseSupport
import DeviceKit
import Foundation
import StoreClient
import TOMLKit
import WipeEngine

/// The bench's configuration, from `/etc/ardoise/ardoise.toml` (see docs/configuration.md).
public struct BenchConfig: Sendable, Equatable {
    public enum Policy: String, Sendable, Equatable {
        /// A drive waits until the technician starts it (dashboard, `ardoise start`).
        case manual
        /// A drive starts by itself after `graceSeconds`, during which it can be pulled or cancelled.
        case auto
    }

    /// What to do when a drive whose job did not finish comes back (same identity).
    public enum ReplugAction: String, Sendable, Equatable {
        /// Start the whole profile again (the default: one unbroken job, certified `erased`).
        case restart
        /// Wait for the technician, as in manual mode; `ardoise start --resume` or `--restart` chooses.
        case ask
        /// Go on from the last completed pass of the interrupted job (same profile, same seed),
        /// when the journal has one for this drive; else as `restart`.
        case resume
    }

    public var benchID = "bench-1"
    public var benchName = "Banc Ardoise"
    public var language: Language = .french
    public var organisationName = ""
    public var organisationAddress = ""
    public var technician = ""
    public var donor: String?
    public var lot: String?
    /// `external-reuse`, `internal-reuse`, `recycling`…
    public var destination = "external-reuse"
    public var policy: Policy = .manual
    public var graceSeconds: Double = 30
    public var onReplug: ReplugAction = .restart
    public var allowedTransports: Set<String> = ["sata", "sas", "scsi", "nvme", "usb", "mmc", "ata", "virtio"]
    /// Lets loop devices through (demo and tests)…
    public var allowVirtual = false
    /// …but only those backed by a file in this directory (required with `allow-virtual`).
    public var loopBackingDirectory: String?
    public var maxConcurrentJobs = 8
    /// Profile per media kind: `hdd`, `ssd`, `usb`, and `default`.
    public var profiles: [String: String] = ["default": "nist-800-88-clear"]
    public var dataDirectory = "/var/lib/ardoise"
    public var outputDirectory = "/var/lib/ardoise/certificates"
    public var controlSocket = "/run/ardoise/control.sock"
    /// Extra profile directories (the built-in ones and /etc/ardoise/profiles are always read).
    public var profileDirectories: [String] = []
    /// Engine buffer size in bytes.
    public var bufferSize = WipeOptions.defaultBufferSize
    /// `[health]`: the drive's health is read (smartctl) before each job and recorded.
    public var healthCheck = true
    /// `[health] on-discard`: what happens to a drive whose health verdict is `discard`.
    public var onDiscard: DiscardAction = .eraseAndMark
    /// `[health] policy`: a health policy file; nil uses `/etc/ardoise/health.toml` or the built-in one.
    public var healthPolicyPath: String?
    /// `[health] smartctl`: the smartctl executable; nil finds it in `PATH`, `/usr/sbin`, `/sbin`.
    public var smartctlPath: String?

    /// What the bench does with a drive the health policy says to destroy.
    public enum DiscardAction: String, Sendable, Equatable {
        /// Erase it as usual (certified as the erasure went) and mark it for destruction.
        case eraseAndMark = "erase-and-mark"
        /// Do not erase: mark it for physical destruction. Never certified as erased.
        case skipAndMark = "skip-and-mark"
    }
    /// `[inventory] at-start`: inventory the PC the bench runs on once at daemon start (signed, journaled).
    public var inventoryAtStart = false
    /// The traceability store the outbox is sent to (`[store]`); nil: records stay on the bench.
    public var store: StoreSettings?

    public init() {}

    public static let defaultPath = "/etc/ardoise/ardoise.toml"

    /// The built-in profiles, `/etc/ardoise/profiles` and the configured extra directories.
    public func profileLibrary() throws(WipeEngineError) -> ProfileLibrary {
        try ProfileLibrary.load(directories: [try ProfileLibrary.builtInDirectory()],
                                optionalDirectories: [ProfileLibrary.systemDirectory] + profileDirectories)
    }

    /// The profile for a drive: by transport (usb, mmc) then by media (hdd when rotational, ssd otherwise).
    public func profileName(for device: BlockDeviceInfo) -> String {
        let kind: String
        switch device.transport {
        case .usb, .mmc: kind = "usb"
        default: kind = device.rotational ? "hdd" : "ssd"
        }
        return profiles[kind] ?? profiles["default"] ?? "nist-800-88-clear"
    }
}

/// A configuration file that cannot be used: file, line, field, and what is wrong.
public struct BenchConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let field: String
    public let message: LocalizedText

    public var description: String {
        "\(file):\(line): \(CurrentLanguage.value == .french ? "champ" : "field") '\(field)': \(message.text(in: CurrentLanguage.value))"
    }
}

extension BenchConfig {
    /// Reads and validates a configuration file. Nothing is returned unless all of it is valid,
    /// so a bad reload keeps the previous configuration whole.
    ///
    /// `knownProfiles`, when given, makes an unknown profile name an error at load time.
    public static func load(path: String, knownProfiles: Set<String>? = nil) throws(BenchConfigError) -> BenchConfig {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw BenchConfigError(file: path, line: 0, field: "-", message: LocalizedText(
                fr: "fichier illisible ou absent", en: "file missing or unreadable"))
        }
        return try parse(text: text, path: path, knownProfiles: knownProfiles)
    }

    static func parse(text: String, path: String, knownProfiles: Set<String>?) throws(BenchConfigError) -> BenchConfig {
        let locator = TOMLKeyLocator(text: text)
        func fail(_ section: String, _ key: String?, fr: String, en: String) -> BenchConfigError {
            BenchConfigError(file: path, line: locator.line(section: section, key: key),
                             field: [section, key].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "."),
                             message: LocalizedText(fr: fr, en: en))
        }
        let root: [String: TOMLNode]
        switch locator.rootTable(of: text) {
        case .success(let table): root = table
        case .failure(let problem):
            guard let line = problem.line else { throw fail("", nil, fr: problem.message.french, en: problem.message.english) }
            throw BenchConfigError(file: path, line: line, field: problem.field, message: problem.message)
        }

        let sections: [String: Set<String>] = [
            "bench": ["id", "name", "language"],
            "organisation": ["name", "address"],
            "session": ["technician", "donor", "lot", "destination"],
            "policy": ["mode", "grace-seconds", "on-replug", "allowed-transports", "allow-virtual", "loop-backing-directory", "max-concurrent-jobs"],
            "profiles": ["hdd", "ssd", "usb", "default"],
            "paths": ["data-directory", "output-directory", "control-socket", "profile-directories"],
            "engine": ["buffer-size"],
            "health": ["check", "on-discard", "policy", "smartctl"],
            "inventory": ["at-start"],
            "store": ["url", "token-file", "ca-file", "connect-timeout-seconds", "request-timeout-seconds", "retry-max-seconds", "public-url"],
        ]
        var config = BenchConfig()
        for (name, node) in root {
            guard let allowed = sections[name] else {
                throw fail(name, nil, fr: "section inconnue (attendu : \(sections.keys.sorted().joined(separator: ", ")))",
                           en: "unknown section (expected: \(sections.keys.sorted().joined(separator: ", ")))")
            }
            guard case .table(let table) = node else {
                throw fail("", name, fr: "doit être une section [\(name)]", en: "must be a [\(name)] section")
            }
            for key in table.keys where !allowed.contains(key) {
                throw fail(name, key, fr: "clé inconnue (attendu : \(allowed.sorted().joined(separator: ", ")))",
                           en: "unknown key (expected: \(allowed.sorted().joined(separator: ", ")))")
            }
        }

        func string(_ section: String, _ key: String) throws(BenchConfigError) -> String? {
            guard case .table(let table)? = root[section], let node = table[key] else { return nil }
            guard case .string(let value) = node else {
                throw fail(section, key, fr: "doit être une chaîne entre guillemets", en: "must be a quoted string")
            }
            return value
        }
        func integer(_ section: String, _ key: String, range: ClosedRange<Int>) throws(BenchConfigError) -> Int? {
            guard case .table(let table)? = root[section], let node = table[key] else { return nil }
            guard case .integer(let value) = node, range.contains(value) else {
                throw fail(section, key, fr: "doit être un entier entre \(range.lowerBound) et \(range.upperBound)",
                           en: "must be an integer from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }
        func boolean(_ section: String, _ key: String) throws(BenchConfigError) -> Bool? {
            guard case .table(let table)? = root[section], let node = table[key] else { return nil }
            guard case .boolean(let value) = node else { throw fail(section, key, fr: "doit être true ou false", en: "must be true or false") }
            return value
        }
        func strings(_ section: String, _ key: String) throws(BenchConfigError) -> [String]? {
            guard case .table(let table)? = root[section], let node = table[key] else { return nil }
            guard case .array(let items) = node else {
                throw fail(section, key, fr: "doit être une liste de chaînes", en: "must be a list of strings")
            }
            var values: [String] = []
            for item in items {
                guard case .string(let value) = item else {
                    throw fail(section, key, fr: "doit être une liste de chaînes", en: "must be a list of strings")
                }
                values.append(value)
            }
            return values
        }

        if let value = try string("bench", "id") {
            guard !value.isEmpty, value.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                throw fail("bench", "id", fr: "lettres, chiffres, - _ . seulement", en: "letters, digits, - _ . only")
            }
            config.benchID = value
        }
        if let value = try string("bench", "name") { config.benchName = value }
        if let value = try string("bench", "language") {
            guard let language = Language(code: value) else { throw fail("bench", "language", fr: "fr ou en", en: "fr or en") }
            config.language = language
        }
        if let value = try string("organisation", "name") { config.organisationName = value }
        if let value = try string("organisation", "address") { config.organisationAddress = value }
        if let value = try string("session", "technician") { config.technician = value }
        config.donor = try string("session", "donor")
        config.lot = try string("session", "lot")
        if let value = try string("session", "destination") {
            let allowed = ["external-reuse", "internal-reuse", "recycling", "manufacturer", "other"]
            guard allowed.contains(value) else {
                throw fail("session", "destination", fr: "attendu : \(allowed.joined(separator: ", "))", en: "expected: \(allowed.joined(separator: ", "))")
            }
            config.destination = value
        }
        if let value = try string("policy", "mode") {
            guard let policy = Policy(rawValue: value) else { throw fail("policy", "mode", fr: "manual ou auto", en: "manual or auto") }
            config.policy = policy
        }
        if let value = try integer("policy", "grace-seconds", range: 0...3600) { config.graceSeconds = Double(value) }
        if let value = try string("policy", "on-replug") {
            guard let action = ReplugAction(rawValue: value) else {
                throw fail("policy", "on-replug", fr: "restart, resume ou ask", en: "restart, resume or ask")
            }
            config.onReplug = action
        }
        if let values = try strings("policy", "allowed-transports") {
            let known = Set(Transport.allCases.map(\.rawValue))
            for value in values where !known.contains(value) {
                throw fail("policy", "allowed-transports", fr: "transport inconnu « \(value) »", en: "unknown transport '\(value)'")
            }
            config.allowedTransports = Set(values)
        }
        if let value = try boolean("policy", "allow-virtual") { config.allowVirtual = value }
        if let value = try string("policy", "loop-backing-directory") {
            guard value.hasPrefix("/") else { throw fail("policy", "loop-backing-directory", fr: "chemin absolu attendu", en: "absolute path expected") }
            config.loopBackingDirectory = value
        }
        if config.allowVirtual, config.loopBackingDirectory == nil {
            throw fail("policy", "allow-virtual", fr: "exige loop-backing-directory : le banc ne doit prendre que ses propres périphériques loop",
                       en: "requires loop-backing-directory: the bench must only take its own loop devices")
        }
        if let value = try integer("policy", "max-concurrent-jobs", range: 1...64) { config.maxConcurrentJobs = value }
        for kind in ["hdd", "ssd", "usb", "default"] {
            guard let name = try string("profiles", kind) else { continue }
            if let knownProfiles, !knownProfiles.contains(name) {
                throw fail("profiles", kind, fr: "profil inconnu « \(name) » (voir « ardoise profiles »)",
                           en: "unknown profile '\(name)' (see `ardoise profiles`)")
            }
            config.profiles[kind] = name
        }
        for key in ["data-directory", "output-directory", "control-socket"] {
            guard let value = try string("paths", key) else { continue }
            guard value.hasPrefix("/") else { throw fail("paths", key, fr: "chemin absolu attendu", en: "absolute path expected") }
            switch key {
            case "data-directory": config.dataDirectory = value
            case "output-directory": config.outputDirectory = value
            default: config.controlSocket = value
            }
        }
        if let values = try strings("paths", "profile-directories") { config.profileDirectories = values }
        if let value = try integer("engine", "buffer-size", range: WipeOptions.allowedBufferSizes.lowerBound...WipeOptions.allowedBufferSizes.upperBound) {
            guard value % 4096 == 0 else { throw fail("engine", "buffer-size", fr: "multiple de 4096 attendu", en: "must be a multiple of 4096") }
            config.bufferSize = value
        }
        if let value = try boolean("health", "check") { config.healthCheck = value }
        if let value = try string("health", "on-discard") {
            guard let action = DiscardAction(rawValue: value) else {
                throw fail("health", "on-discard", fr: "erase-and-mark ou skip-and-mark", en: "erase-and-mark or skip-and-mark")
            }
            config.onDiscard = action
        }
        if let value = try string("health", "policy") {
            guard value.hasPrefix("/") else { throw fail("health", "policy", fr: "chemin absolu attendu", en: "absolute path expected") }
            config.healthPolicyPath = value
        }
        if let value = try string("health", "smartctl") {
            guard value.hasPrefix("/") else { throw fail("health", "smartctl", fr: "chemin absolu attendu", en: "absolute path expected") }
            config.smartctlPath = value
        }
        if let value = try boolean("inventory", "at-start") { config.inventoryAtStart = value }
        if root["store"] != nil {
            guard let url = try string("store", "url") else {
                throw fail("store", nil, fr: "la section [store] exige url", en: "the [store] section requires url")
            }
            if let problem = StoreSettings.problem(withURL: url) {
                throw fail("store", "url", fr: problem.french, en: problem.english)
            }
            guard let tokenFile = try string("store", "token-file") else {
                throw fail("store", nil, fr: "la section [store] exige token-file (le jeton n'est jamais dans ce fichier)",
                           en: "the [store] section requires token-file (the token is never in this file)")
            }
            guard tokenFile.hasPrefix("/") else { throw fail("store", "token-file", fr: "chemin absolu attendu", en: "absolute path expected") }
            do {
                _ = try StoreSettings.readToken(path: tokenFile)
            } catch {
                throw fail("store", "token-file", fr: error.text(in: .french), en: error.text(in: .english))
            }
            var store = StoreSettings(url: url, tokenFile: tokenFile)
            if let caFile = try string("store", "ca-file") {
                guard caFile.hasPrefix("/") else { throw fail("store", "ca-file", fr: "chemin absolu attendu", en: "absolute path expected") }
                do {
                    try StoreSettings.checkCAFile(path: caFile)
                } catch {
                    throw fail("store", "ca-file", fr: error.text(in: .french), en: error.text(in: .english))
                }
                store.caFile = caFile
            }
            if let value = try integer("store", "connect-timeout-seconds", range: 1...300) { store.connectTimeoutSeconds = value }
            if let value = try integer("store", "request-timeout-seconds", range: 1...600) { store.requestTimeoutSeconds = value }
            if let value = try integer("store", "retry-max-seconds", range: 10...86_400) { store.retryMaxSeconds = value }
            if let value = try string("store", "public-url") {
                guard let parsed = URL(string: value), ["https", "http"].contains(parsed.scheme ?? ""), parsed.host != nil else {
                    throw fail("store", "public-url", fr: "adresse http(s) attendue", en: "an http(s) address is expected")
                }
                store.publicURL = value
            }
            config.store = store
        }
        if root["paths"] != nil, (try? string("paths", "output-directory")) == nil {
            config.outputDirectory = (config.dataDirectory as NSString).appendingPathComponent("certificates")
        }
        return config
    }
}
