import ArdoiseSupport
import Crypto
import Foundation

/// A JWS in flattened JSON serialization (RFC 7515 §7.2.2).
public struct FlattenedJWS: Codable, Sendable, Equatable {
    /// base64url of the payload bytes.
    public var payload: String
    /// base64url of the protected header JSON.
    public var protected: String
    /// base64url of the 64-byte Ed25519 signature.
    public var signature: String

    /// The bytes that were signed: ASCII(protected "." payload) (RFC 7515 §5.1, step 8).
    var signingInput: [UInt8] { Array("\(protected).\(payload)".utf8) }

    /// Compact JSON with sorted members: the exact bytes of `<id>.json`.
    func serialized() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data()
    }
}

/// The protected header. `alg` is `Ed25519` (RFC 9864 §2, the fully-specified algorithm that
/// replaces RFC 8037's `EdDSA`); `kid` is the RFC 7638 thumbprint of the signing key.
public struct ProtectedHeader: Codable, Sendable, Equatable {
    public static let algorithm = "Ed25519"
    /// RFC 7515 §4.1.9: the registered type for the JSON serialization.
    public static let type = "jose+json"
    /// RFC 7515 §4.1.10: what the payload is.
    public static let contentType = "ardoise-certificate+json"

    public var alg: String
    public var kid: String
    public var typ: String?
    public var cty: String?
    /// The public key, so a verifier can tell "unknown key" from "tampered" without a key list.
    public var jwk: PublicJWK?
}

/// A signed certificate: the payload, its JWS and the exact file bytes.
public struct SignedCertificate: Sendable {
    public let payload: CertificatePayload
    public let jws: FlattenedJWS
    /// The bytes written to `<id>.json` and embedded in the PDF.
    public let signedJSON: Data
    /// Lowercase hex SHA-256 of `signedJSON` (printed in the QR code and the PDF keywords).
    public let sha256: String
    public let keyID: String

    /// The QR code text: the store's page for it (`<verificationURL>?h=<sha256>`) when the
    /// certificate names one, else `ARDOISE1;<certificate id>;<sha256 hex of the signed JSON>`.
    public var qrText: String { QRText.code(for: payload, sha256: sha256) }
}

public enum QRText {
    public static let prefix = "ARDOISE1"
    /// `ARDOISE1;<id>;<sha256>`: the PDF keywords, and the QR code of a certificate without a store page.
    public static func make(id: String, sha256: String) -> String { "\(prefix);\(id);\(sha256)" }

    /// What the certificate's QR code holds: a phone opens the store's verification page, which
    /// checks that the paper's hash is the stored document's (`?h=`).
    public static func code(for payload: CertificatePayload, sha256: String) -> String {
        guard let url = payload.verificationURL else { return make(id: payload.id, sha256: sha256) }
        return url + (url.contains("?") ? "&" : "?") + "h=" + sha256
    }

    /// (id, sha256) from a QR text or PDF keywords; nil when the text is not ours.
    public static func parse(_ text: String) -> (id: String, sha256: String)? {
        let parts = text.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, parts[0] == prefix else { return nil }
        return (parts[1], parts[2])
    }
}

public enum CertificateSigner {
    /// Encodes the payload (sorted keys, RFC 3339 dates) and signs it with the bench key.
    public static func sign(_ payload: CertificatePayload, with key: BenchKey, embedPublicKey: Bool = true) throws -> SignedCertificate {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let payloadBytes = try encoder.encode(payload)
        let jws = try signRaw(payload: Array(payloadBytes), with: key, embedPublicKey: embedPublicKey)
        let data = jws.serialized()
        return SignedCertificate(payload: payload, jws: jws, signedJSON: data,
                                 sha256: Hex.encode(SHA256.hash(data: data)), keyID: key.thumbprint)
    }

    /// Signs arbitrary payload bytes (tests use it to sign payloads the model cannot produce).
    static func signRaw(payload: [UInt8], with key: BenchKey, embedPublicKey: Bool = true,
                        contentType: String = ProtectedHeader.contentType) throws -> FlattenedJWS {
        let header = ProtectedHeader(alg: ProtectedHeader.algorithm, kid: key.thumbprint, typ: ProtectedHeader.type,
                                     cty: contentType, jwk: embedPublicKey ? key.publicJWK : nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var jws = FlattenedJWS(payload: Base64URL.encode(payload),
                               protected: Base64URL.encode(try encoder.encode(header)), signature: "")
        let signature = try key.privateKey.signature(for: jws.signingInput)
        jws.signature = Base64URL.encode(signature)
        return jws
    }
}
