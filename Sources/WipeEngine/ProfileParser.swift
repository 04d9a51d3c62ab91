import ArdoiseSupport
import TOMLKit

/// A TOML value copied out of TOMLKit at once, so validation works on plain Swift values.
/// Public so the bench configuration is validated the same way as profiles.
public indirect enum TOMLNode {
    case string(String)
    case integer(Int)
    case float(Double)
    case boolean(Bool)
    case array([TOMLNode])
    case table([String: TOMLNode])
    case other(String)

    public init(_ value: TOMLValueConvertible) {
        switch value.type {
        case .string: self = .string(value.string ?? "")
        case .int: self = .integer(value.int ?? 0)
        case .double: self = .float(value.double ?? 0)
        case .bool: self = .boolean(value.bool ?? false)
        case .array:
            if let array = value.array {
                self = .array(array.map { TOMLNode($0) })
            } else {
                self = .array([])
            }
        case .table:
            if let table = value.table { self = TOMLNode(table: table) } else { self = .table([:]) }
        default: self = .other(String(describing: value.type))
        }
    }

    public init(table: TOMLTable) {
        var entries: [String: TOMLNode] = [:]
        for key in table.keys {
            if let value = table[key] { entries[key] = TOMLNode(value) }
        }
        self = .table(entries)
    }

    public var typeName: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .boolean: "boolean"
        case .array: "array"
        case .table: "table"
        case .other(let name): name
        }
    }
}

/// Finds the line of each key in a TOML text. TOMLKit 0.6.0 reports positions only for
/// syntax errors, not for nodes, so semantic errors locate their key here: a line scanner
/// that knows `[table]`, `[[array-of-tables]]`, `key = value` and skips multi-line strings.
public struct TOMLKeyLocator {
    /// Section names: "" for the root, "title", "pass#2" for the second `[[pass]]`.
    public private(set) var headerLines: [String: Int] = [:]
    public private(set) var keyLines: [String: [String: Int]] = [:]
    public private(set) var keysByLine: [Int: String] = [:]

    public init(text: String) {
        var section = ""
        var arrayCounts: [String: Int] = [:]
        var openTripleQuote: String?
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let line = rawLine.trimmingCharacters(in: " \t\r")
            if let quote = openTripleQuote {
                if line.contains(quote) { openTripleQuote = nil }
                continue
            }
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[[") {
                let name = Self.headerName(line.dropFirst(2))
                let count = (arrayCounts[name] ?? 0) + 1
                arrayCounts[name] = count
                section = "\(name)#\(count)"
                headerLines[section] = lineNumber
                continue
            }
            if line.hasPrefix("[") {
                section = Self.headerName(line.dropFirst(1))
                headerLines[section] = lineNumber
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            var key = line[..<equals].trimmingCharacters(in: " \t")
            if key.count >= 2, let first = key.first, first == "\"" || first == "'", key.last == first {
                key = String(key.dropFirst().dropLast())
            }
            if keyLines[section]?[key] == nil { keyLines[section, default: [:]][key] = lineNumber }
            // A dotted key (`title.fr = …`) also answers for its table's key.
            if let dot = key.lastIndex(of: "."), !key.hasPrefix("\"") {
                let table = String(key[..<dot]).trimmingCharacters(in: " \t")
                let leaf = String(key[key.index(after: dot)...]).trimmingCharacters(in: " \t")
                let owner = section.isEmpty ? table : "\(section).\(table)"
                if keyLines[owner]?[leaf] == nil { keyLines[owner, default: [:]][leaf] = lineNumber }
                if headerLines[owner] == nil { headerLines[owner] = lineNumber }
            }
            keysByLine[lineNumber] = section.isEmpty ? key : "\(Self.fieldPrefix(section)).\(key)"
            let value = line[line.index(after: equals)...]
            for quote in ["\"\"\"", "'''"] where value.components(separatedBy: quote).count == 2 {
                openTripleQuote = quote
            }
        }
    }

    private static func headerName(_ rest: Substring) -> String {
        let name = rest.prefix { $0 != "]" }
        return name.trimmingCharacters(in: " \t")
    }

    /// `pass#2` → `pass[2]`, the way error messages name fields.
    static func fieldPrefix(_ section: String) -> String {
        guard let hash = section.firstIndex(of: "#") else { return section }
        return "\(section[..<hash])[\(section[section.index(after: hash)...])]"
    }

    /// The line of `key` in `section`, else the section's header, else line 1.
    public func line(section: String, key: String?) -> Int {
        if let key, let line = keyLines[section]?[key] { return line }
        return headerLines[section] ?? 1
    }
}

/// Why a TOML text gave no top-level table: a syntax error at `line` (on `field`, the key
/// written there, or "-"), or, with `line` nil, a failure of the whole document.
public struct TOMLReadProblem: Error, Sendable {
    public var line: Int?
    public var field: String
    public var message: LocalizedText
}

extension TOMLKeyLocator {
    /// The text's top-level table as TOMLKit reads it. Every TOML file Ardoise reads (profiles,
    /// health policies, bench and store configurations) starts here, so a syntax error is
    /// reported the same way everywhere: the line TOMLKit gives and the key written on it.
    public func rootTable(of text: String) -> Result<[String: TOMLNode], TOMLReadProblem> {
        do {
            let table = try TOMLTable(string: text)
            guard case .table(let entries) = TOMLNode(table: table) else {
                return .failure(TOMLReadProblem(line: nil, field: "", message: LocalizedText(fr: "document vide", en: "empty document")))
            }
            return .success(entries)
        } catch let error as TOMLParseError {
            let line = error.source.begin.line
            return .failure(TOMLReadProblem(line: line, field: keysByLine[line] ?? "-", message: LocalizedText(
                fr: "syntaxe TOML invalide : \(error.description)", en: "invalid TOML syntax: \(error.description)")))
        } catch {
            return .failure(TOMLReadProblem(line: nil, field: "", message: LocalizedText(
                fr: "lecture TOML impossible : \(error)", en: "cannot read TOML: \(error)")))
        }
    }
}

private extension StringProtocol {
    func trimmingCharacters(in characters: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, characters.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, characters.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}

/// Turns one profile file into a `WipeProfile`, or one error naming file, line and field.
/// Nothing is returned unless the whole file is valid, so a profile is never half-loaded.
struct ProfileParser {
    let path: String
    let text: String
    /// The name the profile must carry: its file name without `.toml`.
    let expectedName: String
    private let locator: TOMLKeyLocator

    init(path: String, text: String, expectedName: String) {
        self.path = path
        self.text = text
        self.expectedName = expectedName
        self.locator = TOMLKeyLocator(text: text)
    }

    func parse() throws(WipeEngineError) -> WipeProfile {
        let root: [String: TOMLNode]
        switch locator.rootTable(of: text) {
        case .success(let table): root = table
        case .failure(let problem):
            guard let line = problem.line else { throw fail("", nil, fr: problem.message.french, en: problem.message.english) }
            throw WipeEngineError(code: .invalidProfile, message: problem.message, file: path, line: line, field: problem.field)
        }

        try rejectUnknownKeys(root, section: "", allowed: ["name", "title", "standard", "reading", "nist-category", "on-error", "pass", "final-blank", "firmware"])

        let name = try requiredString(root, "name", section: "")
        guard name == expectedName else {
            throw fail("", "name", fr: "le nom « \(name) » doit être celui du fichier (« \(expectedName) »)",
                       en: "name '\(name)' must match the file name ('\(expectedName)')")
        }
        guard let titleNode = root["title"] else {
            throw fail("", "title", fr: "champ obligatoire absent (table [title] avec fr et en)", en: "required field missing ([title] table with fr and en)")
        }
        guard case .table(let titleTable) = titleNode else {
            throw fail("", "title", fr: "doit être une table avec fr et en", en: "must be a table with fr and en")
        }
        try rejectUnknownKeys(titleTable, section: "title", allowed: ["fr", "en"])
        let title = LocalizedText(
            fr: try requiredString(titleTable, "fr", section: "title"),
            en: try requiredString(titleTable, "en", section: "title"))
        let standard = try requiredString(root, "standard", section: "")
        let reading = try optionalString(root, "reading", section: "")
        let categoryName = try requiredString(root, "nist-category", section: "")
        guard let category = NISTCategory(rawValue: categoryName) else {
            throw fail("", "nist-category", fr: "« \(categoryName) » inconnu ; attendu clear, purge ou none",
                       en: "unknown '\(categoryName)'; expected clear, purge or none")
        }
        let policyName = try optionalString(root, "on-error", section: "") ?? "abort"
        guard let policy = ErrorPolicy(rawValue: policyName) else {
            throw fail("", "on-error", fr: "« \(policyName) » inconnu ; attendu abort ou continue",
                       en: "unknown '\(policyName)'; expected abort or continue")
        }

        guard let passNode = root["pass"] else {
            throw fail("", "pass", fr: "aucune passe : ajoutez au moins une section [[pass]]", en: "no pass: add at least one [[pass]] section")
        }
        guard case .array(let passNodes) = passNode, !passNodes.isEmpty else {
            throw fail("", "pass", fr: "doit être une liste non vide de sections [[pass]]", en: "must be a non-empty list of [[pass]] sections")
        }
        var passes: [PassSpecification] = []
        for (index, node) in passNodes.enumerated() {
            let section = "pass#\(index + 1)"
            guard case .table(let table) = node else {
                throw fail("", "pass", fr: "chaque passe doit être une table [[pass]]", en: "each pass must be a [[pass]] table")
            }
            let pass = try parsePass(table, section: section, isFinalBlank: false)
            if pass.pattern == .complement {
                guard let previous = passes.last, previous.writes else {
                    throw fail(section, "kind", fr: "« complement » doit suivre une passe qui écrit", en: "'complement' must follow a pass that writes")
                }
            }
            passes.append(pass)
        }
        if let blankNode = root["final-blank"] {
            guard case .table(let table) = blankNode else {
                throw fail("", "final-blank", fr: "doit être une table [final-blank]", en: "must be a [final-blank] table")
            }
            passes.append(try parsePass(table, section: "final-blank", isFinalBlank: true))
        }
        let readOnly = passes.filter { !$0.writes }
        if !readOnly.isEmpty {
            if readOnly.count != passes.count {
                throw fail("pass#1", "write", fr: "un profil en lecture seule ne peut pas mêler passes d'écriture et de lecture",
                           en: "a read-only profile cannot mix writing and read-only passes")
            }
        }
        var firmware: FirmwareStep?
        if let node = root["firmware"] {
            guard case .table(let table) = node else {
                throw fail("", "firmware", fr: "doit être une table [firmware]", en: "must be a [firmware] table")
            }
            firmware = try parseFirmware(table)
            if !readOnly.isEmpty {
                throw fail("firmware", nil, fr: "un profil en lecture seule ne peut pas effacer par le firmware", en: "a read-only profile cannot erase by firmware")
            }
        }
        return WipeProfile(
            name: name, title: title, standard: standard, reading: reading, nistCategory: category,
            onError: policy, passes: passes, sourcePath: path, firmware: firmware)
    }

    private func parseFirmware(_ table: [String: TOMLNode]) throws(WipeEngineError) -> FirmwareStep {
        let section = "firmware"
        try rejectUnknownKeys(table, section: section, allowed: ["method", "verify", "sample", "sample-percent", "restore-hidden-area", "final-overwrite", "overwrite-fallback"])
        let method = try optionalString(table, "method", section: section) ?? "auto"
        guard FirmwareStep.methodNames.contains(method) else {
            throw fail(section, "method", fr: "« \(method) » inconnu ; attendu \(FirmwareStep.methodNames.joined(separator: ", "))",
                       en: "unknown '\(method)'; expected \(FirmwareStep.methodNames.joined(separator: ", "))")
        }
        let verification = try verificationValue(table, section: section)
        switch verification {
        case .nistSample, .samplePercent: break
        case .none, .full:
            // A firmware erase is checked on samples seeded with known data before the erase;
            // "none" would certify an unverified erase, "full" cannot tell crypto noise from data.
            throw fail(section, "verify", fr: "doit être \"sample\" (avec sample = \"nist\" ou sample-percent)", en: "must be \"sample\" (with sample = \"nist\" or sample-percent)")
        }
        func flag(_ key: String, _ fallback: Bool) throws(WipeEngineError) -> Bool {
            guard let node = table[key] else { return fallback }
            guard case .boolean(let value) = node else { throw typeError(section, key, expected: "boolean", node) }
            return value
        }
        return FirmwareStep(method: method, verification: verification,
                            restoreHiddenArea: try flag("restore-hidden-area", true),
                            finalOverwrite: try flag("final-overwrite", false),
                            overwriteFallback: try flag("overwrite-fallback", true))
    }

    private func parsePass(_ table: [String: TOMLNode], section: String, isFinalBlank: Bool) throws(WipeEngineError) -> PassSpecification {
        let allowed: Set<String> = isFinalBlank
            ? ["byte", "verify", "sample", "sample-percent"]
            : ["kind", "byte", "pattern", "generator", "verify", "sample", "sample-percent", "shuffle", "write"]
        try rejectUnknownKeys(table, section: section, allowed: allowed)
        let kind = isFinalBlank ? "constant" : try requiredString(table, "kind", section: section)
        let pattern: PassPattern
        func forbid(_ keys: [String]) throws(WipeEngineError) {
            for key in keys where table[key] != nil {
                throw fail(section, key, fr: "sans objet pour une passe « \(kind) »", en: "not allowed for a '\(kind)' pass")
            }
        }
        switch kind {
        case "constant":
            pattern = .constant(try byteValue(table, "byte", section: section))
            try forbid(["pattern", "generator"])
        case "pattern":
            guard let node = table["pattern"] else {
                throw fail(section, "pattern", fr: "champ obligatoire absent (liste d'octets, ex. [0x92, 0x49, 0x24])", en: "required field missing (list of bytes, e.g. [0x92, 0x49, 0x24])")
            }
            guard case .array(let items) = node, items.count >= 1, items.count <= 4096 else {
                throw fail(section, "pattern", fr: "doit être une liste de 1 à 4096 octets", en: "must be a list of 1 to 4096 bytes")
            }
            var bytes: [UInt8] = []
            for item in items {
                guard case .integer(let value) = item, (0...255).contains(value) else {
                    throw fail(section, "pattern", fr: "chaque élément doit être un octet (0 à 255)", en: "each item must be a byte (0 to 255)")
                }
                bytes.append(UInt8(value))
            }
            pattern = bytes.count == 1 ? .constant(bytes[0]) : .pattern(bytes)
            try forbid(["byte", "generator"])
        case "complement":
            pattern = .complement
            try forbid(["byte", "pattern", "generator"])
        case "random-byte":
            pattern = .randomByte
            try forbid(["byte", "pattern", "generator"])
        case "prng":
            let name = try optionalString(table, "generator", section: section) ?? PRNGAlgorithm.xoshiro256StarStar.rawValue
            guard let algorithm = PRNGAlgorithm(rawValue: name) else {
                throw fail(section, "generator", fr: "« \(name) » inconnu ; attendu xoshiro256** ou aes-ctr", en: "unknown '\(name)'; expected xoshiro256** or aes-ctr")
            }
            pattern = .prng(algorithm)
            try forbid(["byte", "pattern"])
        default:
            throw fail(section, "kind", fr: "« \(kind) » inconnu ; attendu constant, pattern, complement, random-byte ou prng",
                       en: "unknown '\(kind)'; expected constant, pattern, complement, random-byte or prng")
        }
        let verification = try verificationValue(table, section: section)
        var writes = true
        if let node = table["write"] {
            guard case .boolean(let value) = node else { throw typeError(section, "write", expected: "boolean", node) }
            writes = value
        }
        if !writes {
            switch pattern {
            case .constant, .pattern: break
            default:
                throw fail(section, "write", fr: "une passe en lecture seule doit attendre un octet ou un motif fixe", en: "a read-only pass must expect a fixed byte or pattern")
            }
            if verification == .none {
                throw fail(section, "verify", fr: "une passe en lecture seule doit vérifier (full ou sample)", en: "a read-only pass must verify (full or sample)")
            }
        }
        var shuffled = false
        if let node = table["shuffle"] {
            guard case .boolean(let value) = node else { throw typeError(section, "shuffle", expected: "boolean", node) }
            shuffled = value
            if value, pattern == .complement {
                throw fail(section, "shuffle", fr: "une passe « complement » ne peut pas être permutée", en: "a 'complement' pass cannot be shuffled")
            }
        }
        return PassSpecification(pattern: pattern, verification: verification, writes: writes, shuffled: shuffled, isFinalBlank: isFinalBlank)
    }

    private func verificationValue(_ table: [String: TOMLNode], section: String) throws(WipeEngineError) -> VerificationMode {
        let mode = try optionalString(table, "verify", section: section) ?? "none"
        switch mode {
        case "none", "full":
            for key in ["sample", "sample-percent"] where table[key] != nil {
                throw fail(section, key, fr: "n'a de sens qu'avec verify = \"sample\"", en: "only meaningful with verify = \"sample\"")
            }
            return mode == "none" ? .none : .full
        case "sample":
            let scheme = try optionalString(table, "sample", section: section)
            let percentNode = table["sample-percent"]
            switch (scheme, percentNode) {
            case ("nist", nil):
                return .nistSample
            case (nil, .some(let node)), ("percent", .some(let node)):
                let value: Double
                switch node {
                case .integer(let integer): value = Double(integer)
                case .float(let float): value = float
                default: throw typeError(section, "sample-percent", expected: "number", node)
                }
                guard value > 0, value <= 100 else {
                    throw fail(section, "sample-percent", fr: "doit être compris entre 0 (exclu) et 100", en: "must be greater than 0 and at most 100")
                }
                return .samplePercent(value)
            case (nil, nil):
                throw fail(section, "sample", fr: "verify = \"sample\" demande sample = \"nist\" ou sample-percent = N", en: "verify = \"sample\" needs sample = \"nist\" or sample-percent = N")
            case (.some(let other), _):
                throw fail(section, "sample", fr: "« \(other) » inconnu ou contradictoire ; attendu \"nist\" (sans sample-percent)", en: "unknown or conflicting '\(other)'; expected \"nist\" (without sample-percent)")
            }
        default:
            throw fail(section, "verify", fr: "« \(mode) » inconnu ; attendu none, full ou sample", en: "unknown '\(mode)'; expected none, full or sample")
        }
    }

    // MARK: Helpers

    private func byteValue(_ table: [String: TOMLNode], _ key: String, section: String) throws(WipeEngineError) -> UInt8 {
        guard let node = table[key] else {
            throw fail(section, key, fr: "champ obligatoire absent (un octet, ex. 0x00)", en: "required field missing (a byte, e.g. 0x00)")
        }
        guard case .integer(let value) = node else { throw typeError(section, key, expected: "integer", node) }
        guard (0...255).contains(value) else {
            throw fail(section, key, fr: "\(value) n'est pas un octet (0 à 255)", en: "\(value) is not a byte (0 to 255)")
        }
        return UInt8(value)
    }

    private func requiredString(_ table: [String: TOMLNode], _ key: String, section: String) throws(WipeEngineError) -> String {
        guard let value = try optionalString(table, key, section: section) else {
            throw fail(section, key, fr: "champ obligatoire absent", en: "required field missing")
        }
        return value
    }

    private func optionalString(_ table: [String: TOMLNode], _ key: String, section: String) throws(WipeEngineError) -> String? {
        guard let node = table[key] else { return nil }
        guard case .string(let value) = node else { throw typeError(section, key, expected: "string", node) }
        guard !value.isEmpty else { throw fail(section, key, fr: "ne doit pas être vide", en: "must not be empty") }
        return value
    }

    private func rejectUnknownKeys(_ table: [String: TOMLNode], section: String, allowed: Set<String>) throws(WipeEngineError) {
        // Sorted by line so the first unknown key in the file is the one reported.
        let unknown = table.keys.filter { !allowed.contains($0) }.sorted {
            locator.line(section: section, key: $0) < locator.line(section: section, key: $1)
        }
        if let key = unknown.first {
            throw fail(section, key, fr: "champ inconnu (attendus : \(allowed.sorted().joined(separator: ", ")))",
                       en: "unknown field (expected: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    private func typeError(_ section: String, _ key: String, expected: String, _ node: TOMLNode) -> WipeEngineError {
        fail(section, key, fr: "type \(node.typeName) au lieu de \(expected)", en: "\(node.typeName) instead of \(expected)")
    }

    private func fail(_ section: String, _ key: String?, fr: String, en: String) -> WipeEngineError {
        let prefix = section.isEmpty ? "" : TOMLKeyLocator.fieldPrefix(section)
        let field: String
        switch (prefix.isEmpty, key) {
        case (true, let key?): field = key
        case (false, let key?): field = "\(prefix).\(key)"
        case (_, nil): field = prefix.isEmpty ? "-" : prefix
        }
        return WipeEngineError(
            code: .invalidProfile, message: LocalizedText(fr: fr, en: en),
            file: path, line: locator.line(section: section, key: key), field: field)
    }
}
