import ArdoiseSupport
import Crypto
import Foundation

/// Any other signed record of the bench (an inventory, later a health report): the same JWS
/// form, key and header as a certificate, with its own `cty`.
public struct SignedDocument: Sendable {
    public let jws: FlattenedJWS
    /// The exact bytes to store, queue and send (compact JSON, sorted members).
    public let signedJSON: Data
    /// Lowercase hex SHA-256 of `signedJSON`.
    public let sha256: String
    public let keyID: String
}

public enum DocumentSigner {
    /// Signs `payload` (already-encoded JSON) with the bench key; `contentType` goes in the
    /// protected header's `cty` (`ardoise-inventory+json`).
    public static func sign(payload: Data, contentType: String, with key: BenchKey) throws -> SignedDocument {
        let jws = try CertificateSigner.signRaw(payload: Array(payload), with: key, contentType: contentType)
        let data = jws.serialized()
        return SignedDocument(jws: jws, signedJSON: data, sha256: Hex.encode(SHA256.hash(data: data)), keyID: key.thumbprint)
    }

    /// The payload bytes of a flattened JWS when its `Ed25519` signature verifies under `key`
    /// and its `kid` is that key's thumbprint; nil otherwise (malformed, other key, tampered).
    public static func verifiedPayload(_ signedJSON: Data, key: PublicJWK) -> Data? {
        guard let jws = try? JSONDecoder().decode(FlattenedJWS.self, from: signedJSON),
              let headerBytes = Base64URL.decode(jws.protected),
              let header = try? JSONDecoder().decode(ProtectedHeader.self, from: Data(headerBytes)),
              header.alg == ProtectedHeader.algorithm, header.kid == key.thumbprint,
              let publicKey = key.publicKey,
              let signature = Base64URL.decode(jws.signature),
              publicKey.isValidSignature(signature, for: jws.signingInput),
              let payload = Base64URL.decode(jws.payload) else { return nil }
        return Data(payload)
    }
}
