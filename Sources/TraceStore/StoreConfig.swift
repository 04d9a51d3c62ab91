import ArdoiseSupport
import Foundation
import TOMLKit
import WipeEngine

/// The store's configuration, `/etc/ardoise-store/store.toml` (docs/store.md). Command-line
/// options override it.
public struct StoreConfig: Sendable, Equatable {
    public static let defaultPath = "/etc/ardoise-store/store.toml"
    public static let defaultDatabase = "/var/lib/ardoise-store/store.sqlite"

    public var listenHost = "127.0.0.1"
    public var listenPort = 8080
    /// The address donors reach (printed in messages; the QR codes point to `<public-url>/c/<id>`).
    public var publicURL: String?
    public var maximumRecordBytes = 1 << 20
    /// A SQLite file path, or a `postgres://` URL.
    public var database = StoreConfig.defaultDatabase
    public var maximumConnections = 16
    public var figures = FiguresSettings()
    /// `[limits]`: per-bench and per-address rate limits (per instance).
    public var limits = RateLimits()

    public init() {}

    /// Parses `host:port` (`[::1]:8080` for IPv6).
    public static func parseListen(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        return (host, port)
    }

    /// Reads and validates a configuration file; every error names file, line and field.
    public static func load(path: String) throws(StoreConfigError) -> StoreConfig {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw StoreConfigError(file: path, line: 0, field: "-", message: LocalizedText(
                fr: "fichier illisible ou absent", en: "file missing or unreadable"))
        }
        return try parse(text: text, path: path)
    }

    static func parse(text: String, path: String) throws(StoreConfigError) -> StoreConfig {
        let locator = TOMLKeyLocator(text: text)
        func fail(_ section: String, _ key: String?, fr: String, en: String) -> StoreConfigError {
            StoreConfigError(file: path, line: locator.line(section: section, key: key),
                             field: [section, key].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "."),
                             message: LocalizedText(fr: fr, en: en))
        }
        let root: [String: TOMLNode]
        switch locator.rootTable(of: text) {
        case .success(let table): root = table
        case .failure(let problem):
            guard let line = problem.line else { throw fail("", nil, fr: problem.message.french, en: problem.message.english) }
            throw StoreConfigError(file: path, line: line, field: problem.field, message: problem.message)
        }
        let sections: [String: Set<String>] = [
            "server": ["listen", "public-url", "max-record-bytes"],
            "database": ["url", "max-connections"],
            "figures": ["laptop-kg-co2e", "desktop-kg-co2e", "drive-kg-co2e", "source"],
            "limits": ["bench-requests-per-minute", "bench-burst", "address-requests-per-minute", "address-burst", "trusted-proxies"],
        ]
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
        func node(_ section: String, _ key: String) -> TOMLNode? {
            guard case .table(let table)? = root[section] else { return nil }
            return table[key]
        }
        func string(_ section: String, _ key: String) throws(StoreConfigError) -> String? {
            guard let value = node(section, key) else { return nil }
            guard case .string(let text) = value else {
                throw fail(section, key, fr: "doit être une chaîne entre guillemets", en: "must be a quoted string")
            }
            return text
        }
        func integer(_ section: String, _ key: String, range: ClosedRange<Int>) throws(StoreConfigError) -> Int? {
            guard let value = node(section, key) else { return nil }
            guard case .integer(let number) = value, range.contains(number) else {
                throw fail(section, key, fr: "doit être un entier entre \(range.lowerBound) et \(range.upperBound)",
                           en: "must be an integer from \(range.lowerBound) to \(range.upperBound)")
            }
            return number
        }
        func factor(_ key: String) throws(StoreConfigError) -> Double? {
            guard let value = node("figures", key) else { return nil }
            let number: Double
            switch value {
            case .integer(let whole): number = Double(whole)
            case .float(let real): number = real
            default: throw fail("figures", key, fr: "doit être un nombre de kg", en: "must be a number of kg")
            }
            guard number >= 0, number < 100_000 else {
                throw fail("figures", key, fr: "doit être entre 0 et 100000 kg", en: "must be from 0 to 100000 kg")
            }
            return number
        }

        var config = StoreConfig()
        if let listen = try string("server", "listen") {
            guard let (host, port) = parseListen(listen) else {
                throw fail("server", "listen", fr: "attendu hôte:port, par exemple 127.0.0.1:8080", en: "expected host:port, e.g. 127.0.0.1:8080")
            }
            config.listenHost = host
            config.listenPort = port
        }
        if let url = try string("server", "public-url") {
            guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
                throw fail("server", "public-url", fr: "doit commencer par https://", en: "must start with https://")
            }
            config.publicURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        if let bytes = try integer("server", "max-record-bytes", range: 4096...(64 << 20)) { config.maximumRecordBytes = bytes }
        if let url = try string("database", "url") {
            if PostgresURL.isPostgres(url) {
                guard PostgresURL(url) != nil else {
                    throw fail("database", "url", fr: "URL PostgreSQL invalide (postgres://utilisateur@hôte:port/base)",
                               en: "invalid PostgreSQL URL (postgres://user@host:port/database)")
                }
            } else if !url.hasPrefix("/") {
                throw fail("database", "url", fr: "chemin absolu d'un fichier SQLite ou URL postgres:// attendu",
                           en: "absolute SQLite file path or postgres:// URL expected")
            }
            config.database = url
        }
        if let count = try integer("database", "max-connections", range: 1...256) { config.maximumConnections = count }
        config.figures.laptopKgCO2e = try factor("laptop-kg-co2e")
        config.figures.desktopKgCO2e = try factor("desktop-kg-co2e")
        config.figures.driveKgCO2e = try factor("drive-kg-co2e")
        config.figures.source = try string("figures", "source")
        if let rate = try integer("limits", "bench-requests-per-minute", range: 0...1_000_000) { config.limits.benchRequestsPerMinute = rate }
        if let burst = try integer("limits", "bench-burst", range: 1...1_000_000) { config.limits.benchBurst = burst }
        if let rate = try integer("limits", "address-requests-per-minute", range: 0...1_000_000) { config.limits.addressRequestsPerMinute = rate }
        if let burst = try integer("limits", "address-burst", range: 1...1_000_000) { config.limits.addressBurst = burst }
        if let value = node("limits", "trusted-proxies") {
            guard case .array(let items) = value else {
                throw fail("limits", "trusted-proxies", fr: "doit être une liste d'adresses IP, par exemple [\"127.0.0.1\"]",
                           en: "must be a list of IP addresses, e.g. [\"127.0.0.1\"]")
            }
            var proxies: [String] = []
            for item in items {
                guard case .string(let address) = item, RateLimiter.isIPAddress(address) else {
                    throw fail("limits", "trusted-proxies", fr: "« \(Self.describe(item)) » n'est pas une adresse IP", en: "'\(Self.describe(item))' is not an IP address")
                }
                proxies.append(address)
            }
            config.limits.trustedProxies = proxies
        }
        let anyFactor = config.figures.laptopKgCO2e != nil || config.figures.desktopKgCO2e != nil || config.figures.driveKgCO2e != nil
        if anyFactor, (config.figures.source ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            let key = ["laptop-kg-co2e", "desktop-kg-co2e", "drive-kg-co2e"].first { node("figures", $0) != nil }
            throw fail("figures", key, fr: "un facteur d'émission exige sa source publiée (clé source)",
                       en: "an emission factor needs its published source (key source)")
        }
        return config
    }
}

extension StoreConfig {
    static func describe(_ node: TOMLNode) -> String {
        switch node {
        case .string(let text): text
        case .integer(let number): String(number)
        case .float(let number): String(number)
        case .boolean(let flag): String(flag)
        default: "?"
        }
    }
}

/// A configuration file that cannot be used: file, line, field, and what is wrong.
public struct StoreConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let field: String
    public let message: LocalizedText

    public var description: String {
        "\(file):\(line): \(CurrentLanguage.value == .french ? "champ" : "field") '\(field)': \(message.text(in: CurrentLanguage.value))"
    }
}

/// Opens the storage a `--db` value names: a `postgres://` URL, or a SQLite file path.
public enum StorageOpener {
    /// `create`: a missing SQLite file is created (serve, benches add); otherwise it is an error.
    public static func open(_ database: String, maximumConnections: Int = 16, create: Bool = true) throws -> any RecordStorage {
        if PostgresURL.isPostgres(database) {
            guard let url = PostgresURL(database) else {
                throw StoreCommandError(code: .databaseUnavailable, message: LocalizedText(
                    fr: "URL PostgreSQL invalide : \(database)", en: "Invalid PostgreSQL URL: \(database)"))
            }
            return PostgresStorage(url: url, maximumConnections: maximumConnections)
        }
        do {
            return try SQLiteStorage(path: database, create: create)
        } catch let error as StoreCommandError {
            throw error
        } catch {
            throw StoreCommandError(code: .databaseUnavailable, message: LocalizedText(
                fr: "Impossible d'ouvrir la base SQLite \(database) : \(error)", en: "Cannot open the SQLite database \(database): \(error)"))
        }
    }
}

/// An error of the `ardoise-store` command, with its exit status (docs/exit-codes.md, 100–105).
public struct StoreCommandError: Error, Sendable, CustomStringConvertible {
    public enum Code: Int32, Sendable {
        case configInvalid = 100
        case databaseUnavailable = 101
        case benchNotFound = 102
        case keyFileInvalid = 103
        case listenFailed = 104
        case tokenFile = 105
    }

    public var code: Code
    public var message: LocalizedText

    public init(code: Code, message: LocalizedText) {
        self.code = code
        self.message = message
    }

    public var description: String { message.text(in: CurrentLanguage.value) }
}
