import ArdoiseSupport
import Certificates
import Crypto
import Foundation

/// Why a push is refused; `code` is the stable member `error.code` of the API's answer.
public struct PushRefusal: Error, Sendable, Equatable {
    public enum Code: String, Sendable, CaseIterable {
        case unauthorized
        case wrongBenchKey = "wrong_bench_key"
        case conflictingRecord = "conflicting_record"
        case invalidSignature = "invalid_signature"
        case invalidPayload = "invalid_payload"
        case malformedRecord = "malformed_record"
        case tooLarge = "too_large"
        case unsupportedMediaType = "unsupported_media_type"

        /// The HTTP status of the contract (docs/store-api.yaml).
        public var httpStatus: Int {
            switch self {
            case .unauthorized: 401
            case .wrongBenchKey: 403
            case .conflictingRecord: 409
            case .tooLarge: 413
            case .unsupportedMediaType: 415
            case .invalidSignature, .invalidPayload, .malformedRecord: 422
            }
        }
    }

    public var code: Code
    public var message: LocalizedText

    public init(_ code: Code, fr: String, en: String) {
        self.code = code
        message = LocalizedText(fr: fr, en: en)
    }
}

/// A record that passed every check and can be stored.
public struct AcceptedRecord: Sendable {
    public var record: StoredRecord
    /// The decoded certificate, for certificates.
    public var certificate: CertificatePayload?
}

/// The checks of `POST /api/v1/records`, independent of HTTP: JWS structure, the token's bench
/// key, the signature, then the payload's schema. Nothing here touches the database.
public enum RecordIntake {
    public static let inventorySchemaURI = "https://ardoise.example/inventory/v1"
    public static let chassisTypes: Set<String> = ["laptop", "desktop", "all_in_one", "tablet", "server", "other", "unknown"]

    /// Checks `body` (the exact bytes pushed) against `bench`'s enrolled key.
    public static func check(_ body: Data, from bench: EnrolledBench, receivedAt: Date = Date()) throws(PushRefusal) -> AcceptedRecord {
        guard let jws = try? JSONDecoder().decode(FlattenedJWS.self, from: body) else {
            throw PushRefusal(.malformedRecord, fr: "Ce n'est pas un JWS JSON (payload, protected, signature).",
                              en: "Not a JSON JWS (payload, protected, signature).")
        }
        guard let headerBytes = Base64URL.decode(jws.protected),
              let header = try? JSONDecoder().decode(ProtectedHeader.self, from: Data(headerBytes)) else {
            throw PushRefusal(.malformedRecord, fr: "L'en-tête protégé est illisible.", en: "The protected header cannot be read.")
        }
        guard header.alg == ProtectedHeader.algorithm else {
            throw PushRefusal(.malformedRecord, fr: "Algorithme « \(header.alg) » non pris en charge (attendu Ed25519).",
                              en: "Unsupported algorithm '\(header.alg)' (expected Ed25519).")
        }
        guard header.kid == bench.keyID else {
            throw PushRefusal(.wrongBenchKey,
                              fr: "Enregistrement signé par la clé \(header.kid), qui n'est pas celle du banc « \(bench.name) » (\(bench.keyID)).",
                              en: "Record signed by key \(header.kid), which is not the key of bench '\(bench.name)' (\(bench.keyID)).")
        }
        guard let jwk = try? JSONDecoder().decode(PublicJWK.self, from: Data(bench.publicJWK.utf8)), let key = jwk.publicKey else {
            throw PushRefusal(.wrongBenchKey, fr: "La clé enregistrée du banc est illisible.", en: "The bench's enrolled key cannot be read.")
        }
        guard let signature = Base64URL.decode(jws.signature), signature.count == 64,
              key.isValidSignature(signature, for: Array("\(jws.protected).\(jws.payload)".utf8)) else {
            throw PushRefusal(.invalidSignature, fr: "La signature ne correspond pas au contenu : enregistrement modifié ou contrefait.",
                              en: "The signature does not match the content: record altered or forged.")
        }
        if let embedded = header.jwk, embedded.thumbprint != header.kid {
            throw PushRefusal(.invalidSignature, fr: "La clé incluse ne correspond pas à son identifiant (kid).",
                              en: "The embedded key does not match its id (kid).")
        }
        guard let payloadBytes = Base64URL.decode(jws.payload),
              let object = (try? JSONSerialization.jsonObject(with: Data(payloadBytes))) as? [String: Any] else {
            throw PushRefusal(.invalidPayload, fr: "Le contenu signé n'est pas un objet JSON.", en: "The signed content is not a JSON object.")
        }
        let sha = Hex.encode(SHA256.hash(data: body))
        switch object["schema"] as? String {
        case CertificatePayload.schemaURI?:
            let report = CertificateVerifier.verifySignedJSON(body, trusting: TrustedKeys([jwk]))
            guard report.verdict == .valid, let payload = report.payload else {
                let reason = report.reasons.last ?? LocalizedText(fr: "certificat invalide", en: "invalid certificate")
                throw PushRefusal(report.verdict == .tampered ? .invalidSignature : .invalidPayload, fr: reason.french, en: reason.english)
            }
            guard payload.id == payload.id.lowercased() else {
                throw PushRefusal(.invalidPayload, fr: "L'identifiant doit être un UUID en minuscules.", en: "The id must be a lowercase UUID.")
            }
            let health = object["health"] as? [String: Any]
            let record = StoredRecord(
                id: payload.id, kind: .certificate, benchID: bench.id, keyID: bench.keyID, sha256: sha, body: body,
                issuedAt: (object["issuedAt"] as? String) ?? StoreDate.text(payload.issuedAt), receivedAt: receivedAt,
                lot: payload.lot, donor: payload.donor, erasureStatus: payload.result.status.rawValue,
                healthVerdict: health?["verdict"] as? String, chassisType: nil)
            return AcceptedRecord(record: record, certificate: payload)
        case inventorySchemaURI?:
            let facts = try inventoryFacts(object)
            let record = StoredRecord(
                id: facts.id, kind: .inventory, benchID: bench.id, keyID: bench.keyID, sha256: sha, body: body,
                issuedAt: facts.issuedAt, receivedAt: receivedAt, lot: object["lot"] as? String,
                donor: object["donor"] as? String, erasureStatus: nil, healthVerdict: nil, chassisType: facts.chassisType)
            return AcceptedRecord(record: record, certificate: nil)
        default:
            let schema = object["schema"].map { "\($0)" } ?? "?"
            throw PushRefusal(.invalidPayload, fr: "Schéma inconnu « \(schema) » : ni certificat v1 ni inventaire v1.",
                              en: "Unknown schema '\(schema)': neither certificate v1 nor inventory v1.")
        }
    }

    /// The members every inventory v1 must have (COMMON.md's contract): schema, schemaVersion 1,
    /// a lowercase UUID `id`, an RFC 3339 `issuedAt`, a `benchID`, and a `chassis` whose `type`
    /// is one of the stable codes.
    static func inventoryFacts(_ object: [String: Any]) throws(PushRefusal) -> (id: String, issuedAt: String, chassisType: String?) {
        func missing(_ member: String) -> PushRefusal {
            PushRefusal(.invalidPayload, fr: "Inventaire : membre « \(member) » absent ou invalide.",
                        en: "Inventory: member '\(member)' missing or invalid.")
        }
        guard let version = object["schemaVersion"] as? Int, version == 1 else { throw missing("schemaVersion") }
        guard let id = object["id"] as? String, UUID(uuidString: id) != nil, id == id.lowercased() else { throw missing("id") }
        guard let issuedAt = object["issuedAt"] as? String, StoreDate.date(issuedAt) != nil else { throw missing("issuedAt") }
        guard let benchID = object["benchID"] as? String, !benchID.isEmpty else { throw missing("benchID") }
        var chassisType: String?
        if let chassis = object["chassis"] {
            guard let table = chassis as? [String: Any], let type = table["type"] as? String, chassisTypes.contains(type) else {
                throw missing("chassis.type")
            }
            chassisType = type
        }
        return (id, issuedAt, chassisType)
    }
}

