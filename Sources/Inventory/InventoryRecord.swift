import ArdoiseSupport
import Certificates
import Foundation
import Journal

/// The signed inventory's payload (schema `https://ardoise.example/inventory/v1`): the record
/// header (`schema`, `schemaVersion`, `id`, `issuedAt`, `benchID`, `tool`) followed, at the
/// same level, by every member of `HostInventory` (`system`, `chassis`, `memory`, `cpus`,
/// `drives`, `batteries`, `screens`…). docs/inventory.md describes each member.
public struct InventoryPayload: Codable, Sendable, Equatable {
    public static let schemaURI = "https://ardoise.example/inventory/v1"
    public static let currentSchemaVersion = 1
    /// The JWS protected header's `cty`.
    public static let contentType = "ardoise-inventory+json"

    public struct Tool: Codable, Sendable, Equatable {
        public var name: String
        public var version: String
    }

    public let schema: String
    public let schemaVersion: Int
    /// Lowercase UUID.
    public let id: String
    public let issuedAt: Date
    public let benchID: String
    /// The donor and lot the PC came with (the bench session's), when known: the store files
    /// the inventory under them.
    public let donor: String?
    public let lot: String?
    public let tool: Tool
    public let inventory: HostInventory

    public init(id: UUID = UUID(), issuedAt: Date = Date(), benchID: String, donor: String? = nil, lot: String? = nil,
                inventory: HostInventory) {
        schema = Self.schemaURI
        schemaVersion = Self.currentSchemaVersion
        self.id = id.uuidString.lowercased()
        // Whole seconds: RFC 3339 without fractions, like the certificate.
        self.issuedAt = Date(timeIntervalSince1970: issuedAt.timeIntervalSince1970.rounded(.down))
        self.benchID = benchID
        self.donor = donor
        self.lot = lot
        tool = Tool(name: "ardoise", version: ArdoiseVersion.string)
        self.inventory = inventory
    }

    private enum CodingKeys: String, CodingKey {
        case schema, schemaVersion, id, issuedAt, benchID, donor, lot, tool
    }

    /// The header members and the inventory's members share one JSON object.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(schema, forKey: .schema)
        try container.encode(schemaVersion, forKey: .schemaVersion)
        try container.encode(id, forKey: .id)
        try container.encode(issuedAt, forKey: .issuedAt)
        try container.encode(benchID, forKey: .benchID)
        try container.encodeIfPresent(donor, forKey: .donor)
        try container.encodeIfPresent(lot, forKey: .lot)
        try container.encode(tool, forKey: .tool)
        try inventory.encode(to: encoder)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        schema = try container.decode(String.self, forKey: .schema)
        schemaVersion = try container.decode(Int.self, forKey: .schemaVersion)
        id = try container.decode(String.self, forKey: .id)
        issuedAt = try container.decode(Date.self, forKey: .issuedAt)
        benchID = try container.decode(String.self, forKey: .benchID)
        donor = try container.decodeIfPresent(String.self, forKey: .donor)
        lot = try container.decodeIfPresent(String.self, forKey: .lot)
        tool = try container.decode(Tool.self, forKey: .tool)
        inventory = try HostInventory(from: decoder)
    }
}

/// A signed inventory: the payload and the exact bytes that were signed and stored.
public struct SignedInventory: Sendable {
    public let payload: InventoryPayload
    public let document: SignedDocument
    /// Where `<id>.json` was written, if it was.
    public let jsonPath: String?
}

/// The inventory module's one error; the CLI maps `code` to exit statuses 90–93.
public struct InventoryError: Error, Sendable, CustomStringConvertible {
    public enum Code: Int, Sendable {
        /// Signing failed (the bench key).
        case signing = 1
        /// Writing the JSON or PDF file failed.
        case fileSystem = 2
        /// A signed inventory that does not verify, or is not an inventory.
        case invalidRecord = 3
    }

    public let code: Code
    public let message: LocalizedText
    public let path: String?

    public init(code: Code, message: LocalizedText, path: String? = nil) {
        self.code = code; self.message = message; self.path = path
    }

    /// 90 + code: 91 signing, 92 file system, 93 invalid record.
    public var exitStatus: Int32 { Int32(90 + code.rawValue) }

    public func text(in language: Language) -> String {
        message.text(in: language) + (path.map { " (\($0))" } ?? "")
    }

    public var description: String { text(in: CurrentLanguage.value) }
}

/// Signs an inventory with the bench key, writes `<id>.json` and stores it in the journal
/// (row + `inventory.recorded` event in one transaction). Blocking.
public struct InventoryRecorder: Sendable {
    public let key: BenchKey
    public let journal: JournalDatabase?
    public let outputDirectory: String?
    public let language: Language

    public init(key: BenchKey, journal: JournalDatabase?, outputDirectory: String?, language: Language = .french) {
        self.key = key; self.journal = journal; self.outputDirectory = outputDirectory; self.language = language
    }

    /// - Throws: `InventoryError` (`.signing`, `.fileSystem`) or `JournalError`.
    public func record(_ inventory: HostInventory, benchID: String, donor: String? = nil, lot: String? = nil, id: UUID = UUID(),
                       issuedAt: Date = Date()) throws -> SignedInventory {
        let payload = InventoryPayload(id: id, issuedAt: issuedAt, benchID: benchID, donor: donor, lot: lot, inventory: inventory)
        let document: SignedDocument
        do {
            document = try DocumentSigner.sign(payload: try InventoryJSON.encoder().encode(payload),
                                               contentType: InventoryPayload.contentType, with: key)
        } catch {
            throw InventoryError(code: .signing, message: .init(fr: "Signature de l'inventaire impossible : \(error)",
                                                                 en: "Cannot sign the inventory: \(error)"))
        }
        var jsonPath: String?
        if let outputDirectory {
            let path = (outputDirectory as NSString).appendingPathComponent("inventory-\(payload.id).json")
            do {
                try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
                try document.signedJSON.write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                throw InventoryError(code: .fileSystem, message: .init(fr: "Impossible d'écrire l'inventaire signé.",
                                                                        en: "Cannot write the signed inventory."), path: path)
            }
            jsonPath = path
        }
        if let journal {
            try journal.recordInventory(InventoryRecord(
                id: id, benchID: benchID, issuedAt: payload.issuedAt, chassisType: inventory.chassis.type.rawValue,
                systemSerial: inventory.system.serial, summary: InventoryText.summary(inventory, language: language),
                keyID: document.keyID, signedJSONSHA256: document.sha256,
                signedJSON: String(decoding: document.signedJSON, as: UTF8.self), jsonPath: jsonPath))
        }
        return SignedInventory(payload: payload, document: document, jsonPath: jsonPath)
    }

    /// The payload of a signed inventory when it verifies under `key` and is an inventory of
    /// a known schema version.
    /// - Throws: `InventoryError.invalidRecord`.
    public static func verify(_ signedJSON: Data, key: PublicJWK) throws -> InventoryPayload {
        guard let payload = DocumentSigner.verifiedPayload(signedJSON, key: key) else {
            throw InventoryError(code: .invalidRecord, message: .init(fr: "La signature de l'inventaire ne se vérifie pas.",
                                                                       en: "The inventory's signature does not verify."))
        }
        guard let decoded = try? InventoryJSON.decoder().decode(InventoryPayload.self, from: payload),
              decoded.schema == InventoryPayload.schemaURI, decoded.schemaVersion == InventoryPayload.currentSchemaVersion else {
            throw InventoryError(code: .invalidRecord, message: .init(fr: "Ce n'est pas un inventaire Ardoise v1.",
                                                                       en: "This is not an Ardoise v1 inventory."))
        }
        return decoded
    }
}
