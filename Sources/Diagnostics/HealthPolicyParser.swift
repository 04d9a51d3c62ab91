import ArdoiseSupport
import TOMLKit
import WipeEngine

/// Turns one health policy file into a `HealthPolicy`, or one error naming file, line and
/// field, the way profiles are parsed (`ProfileParser`): nothing is half-loaded.
struct HealthPolicyParser {
    let path: String
    let text: String
    private let locator: TOMLKeyLocator

    static let supportedSchema = 1

    init(path: String, text: String) {
        self.path = path
        self.text = text
        locator = TOMLKeyLocator(text: text)
    }

    func parse() throws(DiagnosticsError) -> HealthPolicy {
        let root: [String: TOMLNode]
        switch locator.rootTable(of: text) {
        case .success(let table): root = table
        case .failure(let problem):
            guard let line = problem.line else { throw fail("", nil, fr: problem.message.french, en: problem.message.english) }
            throw DiagnosticsError(code: .invalidPolicy, message: problem.message, file: path, line: line, field: problem.field)
        }

        try rejectUnknownKeys(root, section: "", allowed: ["schema", "name", "version", "smart", "self-test", "ata-attribute", "nvme", "scsi", "surface", "usage"])
        guard let schemaNode = root["schema"] else { throw fail("", "schema", fr: "champ obligatoire absent (schema = 1)", en: "required field missing (schema = 1)") }
        guard case .integer(let schema) = schemaNode else { throw typeError("", "schema", expected: "integer", schemaNode) }
        guard schema == Self.supportedSchema else {
            throw fail("", "schema", fr: "schéma \(schema) non pris en charge (attendu \(Self.supportedSchema))", en: "schema \(schema) not supported (expected \(Self.supportedSchema))")
        }
        let name = try requiredString(root, "name", section: "")
        let version = try requiredString(root, "version", section: "")

        // Sections are checked in the order the default file lists them, each whole before the next.
        let smart = try requiredTable(root, "smart")
        try rejectUnknownKeys(smart, section: "smart", allowed: ["overall-failed", "attribute-failing-now", "attribute-failed-in-past", "status-unavailable"])
        let overallFailed = try severity(smart, "overall-failed", section: "smart")
        let attributeFailingNow = try severity(smart, "attribute-failing-now", section: "smart")
        let attributeFailedInPast = try severity(smart, "attribute-failed-in-past", section: "smart")
        let statusUnavailable = try severity(smart, "status-unavailable", section: "smart")
        let selfTest = try requiredTable(root, "self-test")
        try rejectUnknownKeys(selfTest, section: "self-test", allowed: ["latest-failed", "older-failed"])
        let latestFailed = try severity(selfTest, "latest-failed", section: "self-test")
        let olderFailed = try severity(selfTest, "older-failed", section: "self-test")

        var attributes: [HealthPolicy.AtaAttributeRule] = []
        if let node = root["ata-attribute"] {
            guard case .array(let items) = node else {
                throw fail("", "ata-attribute", fr: "doit être une liste de sections [[ata-attribute]]", en: "must be a list of [[ata-attribute]] sections")
            }
            for (index, item) in items.enumerated() {
                let section = "ata-attribute#\(index + 1)"
                guard case .table(let table) = item else {
                    throw fail("", "ata-attribute", fr: "chaque élément doit être une section [[ata-attribute]]", en: "each item must be an [[ata-attribute]] section")
                }
                try rejectUnknownKeys(table, section: section, allowed: ["id", "code", "caution-at", "discard-at"])
                guard let idNode = table["id"] else { throw fail(section, "id", fr: "champ obligatoire absent (numéro d'attribut ATA, 1 à 255)", en: "required field missing (ATA attribute number, 1 to 255)") }
                guard case .integer(let id) = idNode else { throw typeError(section, "id", expected: "integer", idNode) }
                guard (1...255).contains(id) else { throw fail(section, "id", fr: "\(id) n'est pas un numéro d'attribut ATA (1 à 255)", en: "\(id) is not an ATA attribute number (1 to 255)") }
                if attributes.contains(where: { $0.id == id }) {
                    throw fail(section, "id", fr: "attribut \(id) déjà réglé plus haut", en: "attribute \(id) already has a rule above")
                }
                let code = try requiredString(table, "code", section: section)
                try checkCode(code, section: section, key: "code")
                let threshold = try counter(table, section: section, prefix: "")
                if id == 199, threshold.discardAt != nil {
                    // Interface CRC errors count transfers the cable or the bridge corrupted:
                    // they say nothing about the medium, so they alone never condemn a drive.
                    throw fail(section, "discard-at", fr: "l'attribut 199 (erreurs CRC d'interface) désigne le câble, pas le disque : « discard » interdit",
                               en: "attribute 199 (interface CRC errors) points at the cable, not the drive: \"discard\" is not allowed")
                }
                attributes.append(.init(id: id, code: code, threshold: threshold))
            }
        }

        let nvme = try requiredTable(root, "nvme")
        var nvmeAllowed = Set(HealthPolicy.nvmeWarningKeys.map(\.key))
        nvmeAllowed.formUnion(counterKeys("percentage-used") + counterKeys("media-errors"))
        try rejectUnknownKeys(nvme, section: "nvme", allowed: nvmeAllowed)
        var warnings: [Int: HealthSeverity] = [:]
        for entry in HealthPolicy.nvmeWarningKeys {
            warnings[entry.bit] = try severity(nvme, entry.key, section: "nvme")
        }
        let percentageUsed = try counter(nvme, section: "nvme", prefix: "percentage-used-")
        let mediaErrors = try counter(nvme, section: "nvme", prefix: "media-errors-")

        let scsi = try requiredTable(root, "scsi")
        try rejectUnknownKeys(scsi, section: "scsi", allowed: Set(counterKeys("grown-defects") + counterKeys("uncorrected-errors")))
        let grownDefects = try counter(scsi, section: "scsi", prefix: "grown-defects-")
        let uncorrectedErrors = try counter(scsi, section: "scsi", prefix: "uncorrected-errors-")
        let surface = try requiredTable(root, "surface")
        try rejectUnknownKeys(surface, section: "surface", allowed: Set(["unreadable", "slower-than-500ms", "slower-than-150ms", "slower-than-50ms"].flatMap(counterKeys)))
        let unreadable = try counter(surface, section: "surface", prefix: "unreadable-")
        let slow500 = try counter(surface, section: "surface", prefix: "slower-than-500ms-")
        let slow150 = try counter(surface, section: "surface", prefix: "slower-than-150ms-")
        let slow50 = try counter(surface, section: "surface", prefix: "slower-than-50ms-")
        let usage = try optionalTable(root, "usage") ?? [:]
        try rejectUnknownKeys(usage, section: "usage", allowed: Set(counterKeys("temperature") + counterKeys("power-on-hours")))

        return HealthPolicy(
            schema: schema, name: name, version: version, sourcePath: path,
            overallFailed: overallFailed, attributeFailingNow: attributeFailingNow,
            attributeFailedInPast: attributeFailedInPast, statusUnavailable: statusUnavailable,
            latestSelfTestFailed: latestFailed, olderSelfTestFailed: olderFailed,
            ataAttributes: attributes,
            nvmeCriticalWarning: warnings,
            nvmePercentageUsed: percentageUsed,
            nvmeMediaErrors: mediaErrors,
            scsiGrownDefects: grownDefects, scsiUncorrectedErrors: uncorrectedErrors,
            surfaceUnreadable: unreadable, surfaceSlowerThan500ms: slow500,
            surfaceSlowerThan150ms: slow150, surfaceSlowerThan50ms: slow50,
            temperature: try counter(usage, section: "usage", prefix: "temperature-"),
            powerOnHours: try counter(usage, section: "usage", prefix: "power-on-hours-"))
    }

    // MARK: Helpers

    private func counterKeys(_ stem: String) -> [String] { ["\(stem)-caution-at", "\(stem)-discard-at"] }

    private func counter(_ table: [String: TOMLNode], section: String, prefix: String) throws(DiagnosticsError) -> CounterThreshold {
        func value(_ key: String) throws(DiagnosticsError) -> UInt64? {
            guard let node = table[key] else { return nil }
            guard case .integer(let number) = node else { throw typeError(section, key, expected: "integer", node) }
            guard number >= 1 else { throw fail(section, key, fr: "doit être un entier ≥ 1 (omettez la clé pour désactiver)", en: "must be an integer ≥ 1 (leave the key out to disable)") }
            return UInt64(number)
        }
        let caution = try value("\(prefix)caution-at")
        let discard = try value("\(prefix)discard-at")
        if let caution, let discard, discard < caution {
            throw fail(section, "\(prefix)discard-at", fr: "doit être ≥ \(prefix)caution-at (\(caution))", en: "must be ≥ \(prefix)caution-at (\(caution))")
        }
        return CounterThreshold(cautionAt: caution, discardAt: discard)
    }

    private func severity(_ table: [String: TOMLNode], _ key: String, section: String) throws(DiagnosticsError) -> HealthSeverity {
        let value = try requiredString(table, key, section: section)
        guard let severity = HealthSeverity(rawValue: value) else {
            throw fail(section, key, fr: "« \(value) » inconnu ; attendu ignore, caution ou discard", en: "unknown '\(value)'; expected ignore, caution or discard")
        }
        return severity
    }

    private func checkCode(_ code: String, section: String, key: String) throws(DiagnosticsError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789_")
        guard code.allSatisfy({ allowed.contains($0) }) else {
            throw fail(section, key, fr: "code stable attendu : minuscules, chiffres et _ seulement", en: "stable code expected: lowercase letters, digits and _ only")
        }
    }

    private func requiredTable(_ root: [String: TOMLNode], _ key: String) throws(DiagnosticsError) -> [String: TOMLNode] {
        guard let table = try optionalTable(root, key) else {
            throw fail("", key, fr: "section [\(key)] obligatoire absente", en: "required section [\(key)] missing")
        }
        return table
    }

    private func optionalTable(_ root: [String: TOMLNode], _ key: String) throws(DiagnosticsError) -> [String: TOMLNode]? {
        guard let node = root[key] else { return nil }
        guard case .table(let table) = node else { throw fail("", key, fr: "doit être une section [\(key)]", en: "must be a [\(key)] section") }
        return table
    }

    private func requiredString(_ table: [String: TOMLNode], _ key: String, section: String) throws(DiagnosticsError) -> String {
        guard let node = table[key] else { throw fail(section, key, fr: "champ obligatoire absent", en: "required field missing") }
        guard case .string(let value) = node else { throw typeError(section, key, expected: "string", node) }
        guard !value.isEmpty else { throw fail(section, key, fr: "ne doit pas être vide", en: "must not be empty") }
        return value
    }

    private func rejectUnknownKeys(_ table: [String: TOMLNode], section: String, allowed: Set<String>) throws(DiagnosticsError) {
        let unknown = table.keys.filter { !allowed.contains($0) }.sorted {
            locator.line(section: section, key: $0) < locator.line(section: section, key: $1)
        }
        if let key = unknown.first {
            throw fail(section, key, fr: "champ inconnu (attendus : \(allowed.sorted().joined(separator: ", ")))",
                       en: "unknown field (expected: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    private func typeError(_ section: String, _ key: String, expected: String, _ node: TOMLNode) -> DiagnosticsError {
        fail(section, key, fr: "type \(node.typeName) au lieu de \(expected)", en: "\(node.typeName) instead of \(expected)")
    }

    private func fail(_ section: String, _ key: String?, fr: String, en: String) -> DiagnosticsError {
        // `ata-attribute#2` → `ata-attribute[2]`, as profile errors name `pass[2]`.
        var prefix = section
        if let hash = section.firstIndex(of: "#") {
            prefix = "\(section[..<hash])[\(section[section.index(after: hash)...])]"
        }
        let field: String
        switch (prefix.isEmpty, key) {
        case (true, let key?): field = key
        case (false, let key?): field = "\(prefix).\(key)"
        case (_, nil): field = prefix.isEmpty ? "-" : prefix
        }
        var line = locator.line(section: section, key: key)
        // A section named where a key was expected (`[scsi-old]`) has a header, not a key line.
        if section.isEmpty, let key, locator.keyLines[""]?[key] == nil {
            line = locator.headerLines[key] ?? locator.headerLines["\(key)#1"] ?? line
        }
        return DiagnosticsError(code: .invalidPolicy, message: LocalizedText(fr: fr, en: en), file: path, line: line, field: field)
    }
}
