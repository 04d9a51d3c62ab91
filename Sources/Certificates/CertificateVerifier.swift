import ArdoiseSupport
import Crypto
import Foundation

/// The keys a verifier accepts, by RFC 7638 thumbprint.
public struct TrustedKeys: Sendable {
    public private(set) var keys: [String: PublicJWK] = [:]

    public init(_ keys: [PublicJWK] = []) {
        for key in keys { add(key) }
    }

    public mutating func add(_ key: PublicJWK) { keys[key.thumbprint] = key }

    public var isEmpty: Bool { keys.isEmpty }

    /// Reads a JWK Set (`{"keys":[…]}`, RFC 7517 §5) or a single JWK; every key must be an
    /// Ed25519 public key.
    /// - Throws: `CertificateError.trustedKeysInvalid` or `.fileSystem`.
    public static func load(path: String) throws -> [PublicJWK] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CertificateError(code: .fileSystem, message: LocalizedText(
                fr: "Impossible de lire le fichier de clés.", en: "Cannot read the key file."), path: path, errno: ENOENT)
        }
        struct KeySet: Decodable { var keys: [PublicJWK] }
        let decoder = JSONDecoder()
        let keys: [PublicJWK]
        if let set = try? decoder.decode(KeySet.self, from: data) {
            keys = set.keys
        } else if let single = try? decoder.decode(PublicJWK.self, from: data) {
            keys = [single]
        } else {
            keys = []
        }
        guard !keys.isEmpty, keys.allSatisfy({ $0.publicKey != nil }) else {
            throw CertificateError(code: .trustedKeysInvalid, message: LocalizedText(
                fr: "Le fichier de clés n'est ni une JWK ni un JWK Set de clés publiques Ed25519.",
                en: "The key file is neither a JWK nor a JWK Set of Ed25519 public keys."), path: path)
        }
        return keys
    }
}

/// The answer of `cert verify`.
public enum CertificateVerdict: String, Sendable, Codable, CaseIterable {
    case valid
    /// The document is a JWS (or our PDF) but its signature, or the PDF's page, does not match.
    case tampered
    /// Signed by a key that is not trusted.
    case unknownKey = "unknown_key"
    /// Not a certificate we can read: truncated, not JSON, not a JWS, unknown schema, PDF
    /// without attachment.
    case malformed

    /// CLI exit status: 0 valid, 2 tampered, 3 unknown key, 4 malformed (1 stays for
    /// unexpected failures, 5 for an unreadable file, 64 for usage errors).
    public var exitStatus: Int32 {
        switch self {
        case .valid: 0
        case .tampered: 2
        case .unknownKey: 3
        case .malformed: 4
        }
    }

    public var label: LocalizedText {
        switch self {
        case .valid: LocalizedText(fr: "VALIDE", en: "VALID")
        case .tampered: LocalizedText(fr: "FALSIFIÉ", en: "TAMPERED")
        case .unknownKey: LocalizedText(fr: "CLÉ INCONNUE", en: "UNKNOWN KEY")
        case .malformed: LocalizedText(fr: "ILLISIBLE", en: "MALFORMED")
        }
    }
}

public struct VerificationReport: Sendable {
    public var verdict: CertificateVerdict
    /// Why, one sentence per finding.
    public var reasons: [LocalizedText]
    /// The decoded payload when it could be read (even if not trusted).
    public var payload: CertificatePayload?
    public var keyID: String?
    /// SHA-256 of the signed JSON (the file, or the PDF's attachment).
    public var signedJSONSHA256: String?
    /// The signed JSON bytes (for a PDF, the attachment).
    public var signedJSON: Data?
    public var isPDF: Bool
}

public enum CertificateVerifier {
    /// Larger files are reported malformed without being read.
    public static let maximumFileSize: Int64 = 64 << 20

    /// Verifies a JSON or PDF certificate file. Blocks on file I/O.
    /// - Throws: `CertificateError.fileSystem` only when the file cannot be read.
    public static func verify(fileAt path: String, trusting trusted: TrustedKeys) throws -> VerificationReport {
        // A certificate is a few kB, its PDF well under a MB: refuse to load anything huge.
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber,
           size.int64Value > maximumFileSize {
            return VerificationReport(verdict: .malformed, reasons: [LocalizedText(
                fr: "Fichier bien trop gros pour un certificat (\(size) octets).",
                en: "File far too large for a certificate (\(size) bytes).")], payload: nil, keyID: nil,
                signedJSONSHA256: nil, signedJSON: nil, isPDF: false)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CertificateError(code: .fileSystem, message: LocalizedText(
                fr: "Impossible de lire le certificat.", en: "Cannot read the certificate."), path: path, errno: errno)
        }
        return verify(data: data, trusting: trusted)
    }

    /// Verifies a JSON or PDF certificate held in memory (PDF recognised by `%PDF-`).
    public static func verify(data: Data, trusting trusted: TrustedKeys) -> VerificationReport {
        if data.starts(with: Array("%PDF-".utf8)) { return verifyPDF(data, trusting: trusted) }
        return verifySignedJSON(data, trusting: trusted)
    }

    /// Checks the JWS structure, the key, the signature, then the schema.
    public static func verifySignedJSON(_ data: Data, trusting trusted: TrustedKeys) -> VerificationReport {
        let sha = Hex.encode(SHA256.hash(data: data))
        var report = VerificationReport(verdict: .malformed, reasons: [], payload: nil, keyID: nil,
                                        signedJSONSHA256: sha, signedJSON: data, isPDF: false)
        func finish(_ verdict: CertificateVerdict, _ reason: LocalizedText) -> VerificationReport {
            report.verdict = verdict
            report.reasons.append(reason)
            return report
        }

        guard let jws = try? JSONDecoder().decode(FlattenedJWS.self, from: data) else {
            return finish(.malformed, LocalizedText(
                fr: "Ce n'est pas un JWS JSON (payload, protected, signature) : fichier tronqué ou d'un autre format.",
                en: "Not a JSON JWS (payload, protected, signature): truncated file or another format."))
        }
        guard let headerBytes = Base64URL.decode(jws.protected),
              let header = try? JSONDecoder().decode(ProtectedHeader.self, from: Data(headerBytes)) else {
            return finish(.tampered, LocalizedText(fr: "L'en-tête protégé est illisible.", en: "The protected header cannot be read."))
        }
        report.keyID = header.kid
        guard header.alg == ProtectedHeader.algorithm else {
            return finish(.malformed, LocalizedText(
                fr: "Algorithme « \(header.alg) » non pris en charge (attendu Ed25519).",
                en: "Unsupported algorithm '\(header.alg)' (expected Ed25519)."))
        }
        guard let signature = Base64URL.decode(jws.signature), signature.count == 64 else {
            return finish(.tampered, LocalizedText(fr: "La signature est illisible.", en: "The signature cannot be read."))
        }
        let embedded = header.jwk
        if let embedded, embedded.thumbprint != header.kid {
            return finish(.tampered, LocalizedText(
                fr: "La clé incluse ne correspond pas à son identifiant (kid).", en: "The embedded key does not match its id (kid)."))
        }

        if let trustedKey = trusted.keys[header.kid]?.publicKey {
            guard trustedKey.isValidSignature(signature, for: jws.signingInput) else {
                return finish(.tampered, LocalizedText(
                    fr: "La signature ne correspond pas au contenu : le certificat a été modifié.",
                    en: "The signature does not match the content: the certificate was modified."))
            }
        } else {
            // Not trusted. If the embedded key verifies, the document is intact but signed by a
            // stranger; otherwise it was altered (a changed kid also breaks the signature).
            if let key = embedded?.publicKey, !key.isValidSignature(signature, for: jws.signingInput) {
                return finish(.tampered, LocalizedText(
                    fr: "La signature ne correspond pas au contenu : le certificat a été modifié.",
                    en: "The signature does not match the content: the certificate was modified."))
            }
            report.payload = decodePayload(jws.payload)
            return finish(.unknownKey, LocalizedText(
                fr: "Signé par une clé non reconnue (\(header.kid)) : ajoutez la clé publique du banc avec --key ou --trusted-keys.",
                en: "Signed by an unknown key (\(header.kid)): add the bench's public key with --key or --trusted-keys."))
        }

        /// The two members that say which schema to decode with, read before the rest.
        struct SchemaHeader: Decodable {
            var schema: String?
            var schemaVersion: Int?
        }
        guard let payloadBytes = Base64URL.decode(jws.payload),
              let schemaHeader = try? JSONDecoder().decode(SchemaHeader.self, from: Data(payloadBytes)) else {
            return finish(.malformed, LocalizedText(fr: "Le contenu signé n'est pas un objet JSON.", en: "The signed content is not a JSON object."))
        }
        guard schemaHeader.schema == CertificatePayload.schemaURI, let version = schemaHeader.schemaVersion,
              version == CertificatePayload.currentSchemaVersion else {
            let version = schemaHeader.schemaVersion.map(String.init) ?? "?"
            return finish(.malformed, LocalizedText(
                fr: "Version de schéma inconnue (\(schemaHeader.schema ?? "?"), version \(version)) : mettez Ardoise à jour.",
                en: "Unknown schema version (\(schemaHeader.schema ?? "?"), version \(version)): upgrade Ardoise."))
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let payload: CertificatePayload
        do {
            payload = try decoder.decode(CertificatePayload.self, from: Data(payloadBytes))
        } catch {
            return finish(.malformed, LocalizedText(
                fr: "Le contenu signé ne respecte pas le schéma : \(describe(error)).",
                en: "The signed content does not follow the schema: \(describe(error))."))
        }
        report.payload = payload
        guard UUID(uuidString: payload.id) != nil else {
            return finish(.malformed, LocalizedText(fr: "Identifiant de certificat invalide.", en: "Invalid certificate id."))
        }
        if payload.result.status == .erased, !payload.result.exceptions.isEmpty {
            return finish(.malformed, LocalizedText(
                fr: "Statut « effacé » incohérent avec les exceptions listées.", en: "Status 'erased' contradicts the listed exceptions."))
        }
        return finish(.valid, LocalizedText(
            fr: "Signature valide, clé de confiance \(header.kid), schéma v\(version).",
            en: "Valid signature, trusted key \(header.kid), schema v\(version)."))
    }

    private static func decodePayload(_ text: String) -> CertificatePayload? {
        guard let bytes = Base64URL.decode(text) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(CertificatePayload.self, from: Data(bytes))
    }

    private static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?:
            return "missing '\((context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: "."))'"
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?, .dataCorrupted(let context)?:
            return "'\(context.codingPath.map(\.stringValue).joined(separator: "."))': \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }

    /// Extracts the attachment, verifies it as JSON, then checks that the PDF's keywords
    /// (`ARDOISE1;id;sha256`) name this attachment and that every page says exactly what the
    /// signed JSON says (by rendering it again and comparing the page content streams).
    public static func verifyPDF(_ data: Data, trusting trusted: TrustedKeys) -> VerificationReport {
        let pdf = PDFScanner(data: [UInt8](data))
        guard let attachment = pdf.firstEmbeddedFile() else {
            return VerificationReport(verdict: .malformed, reasons: [LocalizedText(
                fr: "Le PDF ne contient pas de certificat signé en pièce jointe.",
                en: "The PDF has no signed certificate attached.")], payload: nil, keyID: nil,
                signedJSONSHA256: nil, signedJSON: nil, isPDF: true)
        }
        var report = verifySignedJSON(Data(attachment), trusting: trusted)
        report.isPDF = true
        guard report.verdict == .valid, let payload = report.payload, let sha = report.signedJSONSHA256 else { return report }

        guard let keywords = pdf.infoString(key: "Keywords"), let named = QRText.parse(keywords),
              named.id == payload.id, named.sha256 == sha else {
            report.verdict = .tampered
            report.reasons.append(LocalizedText(
                fr: "Les métadonnées du PDF ne désignent pas le certificat joint.",
                en: "The PDF metadata does not name the attached certificate."))
            return report
        }
        let pages = pdf.pageContentStreams()
        guard pdf.infoString(key: "Creator") == CertificatePDF.layoutCreator else {
            // Another layout (an older Ardoise): the page cannot be rebuilt byte for byte, so
            // check that it at least names this certificate and its hash.
            let text = pages.flatMap { $0 }
            let scanner = PDFScanner(data: text)
            guard scanner.find(payload.id, from: 0) != nil, scanner.find(sha, from: 0) != nil else {
                report.verdict = .tampered
                report.reasons.append(LocalizedText(
                    fr: "Les pages ne mentionnent pas ce certificat (identifiant et empreinte).",
                    en: "The pages do not name this certificate (id and hash)."))
                return report
            }
            report.reasons.append(LocalizedText(
                fr: "Mise en page d'une autre version : seuls l'identifiant et l'empreinte affichés ont été comparés ; le JSON joint fait foi.",
                en: "Layout of another version: only the printed id and hash were compared; the attached JSON is authoritative."))
            return report
        }
        let matches = Language.allCases.contains { language in
            guard let rendered = try? CertificatePDF.render(payload: payload, signedJSON: Data(attachment), sha256: sha,
                                                           keyID: report.keyID ?? "", language: language) else { return false }
            return PDFScanner(data: [UInt8](rendered)).pageContentStreams() == pages
        }
        guard matches else {
            report.verdict = .tampered
            report.reasons.append(LocalizedText(
                fr: "Le texte des pages ne correspond pas au certificat signé joint.",
                en: "The text on the pages does not match the attached signed certificate."))
            return report
        }
        report.reasons.append(LocalizedText(
            fr: "Le PDF affiche exactement le certificat signé joint.", en: "The PDF shows exactly the attached signed certificate."))
        return report
    }
}
