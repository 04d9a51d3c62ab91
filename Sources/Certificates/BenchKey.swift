import ArdoiseSupport
import Crypto
import Foundation

/// A public Ed25519 key as a JWK (RFC 8037 §2: `kty` OKP, `crv` Ed25519, `x` = the 32-byte
/// public key, base64url).
public struct PublicJWK: Codable, Sendable, Hashable {
    public var kty: String
    public var crv: String
    public var x: String
    /// Optional key id; not part of the thumbprint.
    public var kid: String?

    public init(publicKey: Curve25519.Signing.PublicKey) {
        kty = "OKP"
        crv = "Ed25519"
        x = Base64URL.encode(publicKey.rawRepresentation)
    }

    /// The key, or nil when the JWK is not an Ed25519 public key.
    public var publicKey: Curve25519.Signing.PublicKey? {
        guard kty == "OKP", crv == "Ed25519", let raw = Base64URL.decode(x), raw.count == 32 else { return nil }
        return try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
    }

    /// The RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order with
    /// no whitespace (§3.2), i.e. `{"crv":"Ed25519","kty":"OKP","x":"…"}` (RFC 8037 §2), base64url.
    public var thumbprint: String {
        let canonical = #"{"crv":"\#(crv)","kty":"\#(kty)","x":"\#(x)"}"#
        return Base64URL.encode(Array(SHA256.hash(data: Array(canonical.utf8))))
    }

    /// Compact JSON with sorted keys, as `key export-public` writes it.
    public func jsonData() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data()
    }
}

/// The bench's signing key: Ed25519, generated on first use and kept as a private JWK
/// (`bench-key.jwk`, mode 0600) in the data directory.
public struct BenchKey: Sendable {
    public static let fileName = "bench-key.jwk"

    public let privateKey: Curve25519.Signing.PrivateKey
    /// The file it was loaded from, if any.
    public let path: String?

    public init(privateKey: Curve25519.Signing.PrivateKey, path: String? = nil) {
        self.privateKey = privateKey
        self.path = path
    }

    public var publicJWK: PublicJWK { PublicJWK(publicKey: privateKey.publicKey) }
    /// RFC 7638 thumbprint of the public key: the `kid` of every signature.
    public var thumbprint: String { publicJWK.thumbprint }

    /// Loads the key of `dataDirectory`, creating the directory and the key when missing.
    /// Blocks on file I/O.
    /// - Throws: `CertificateError` `.keyFileInsecure` (mode not 0600), `.keyFileInvalid`,
    ///   `.fileSystem`.
    public static func loadOrCreate(dataDirectory: String) throws -> BenchKey {
        let path = (dataDirectory as NSString).appendingPathComponent(fileName)
        if FileManager.default.fileExists(atPath: path) { return try load(path: path) }
        if !FileManager.default.fileExists(atPath: dataDirectory) {
            do {
                try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw CertificateError(code: .fileSystem, message: LocalizedText(
                    fr: "Impossible de créer le répertoire de données.", en: "Cannot create the data directory."),
                    path: dataDirectory)
            }
        }
        let key = Curve25519.Signing.PrivateKey()
        let jwk = PrivateJWK(key: key)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(jwk) + Data("\n".utf8)
        // O_EXCL: two processes starting at once must not both create (and sign with) a key.
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let code = errno
            if code == EEXIST { return try load(path: path) }
            throw CertificateError(code: .fileSystem, message: LocalizedText(
                fr: "Impossible de créer la clé du banc.", en: "Cannot create the bench key."), path: path, errno: code)
        }
        defer { close(descriptor) }
        let written = data.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == data.count, fsync(descriptor) == 0 else {
            let code = errno
            unlink(path)
            throw CertificateError(code: .fileSystem, message: LocalizedText(
                fr: "Impossible d'écrire la clé du banc.", en: "Cannot write the bench key."), path: path, errno: code)
        }
        return BenchKey(privateKey: key, path: path)
    }

    /// Loads an existing key file, refusing any mode other than owner-only.
    public static func load(path: String) throws -> BenchKey {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw CertificateError(code: .fileSystem, message: LocalizedText(
                fr: "Impossible de lire la clé du banc.", en: "Cannot read the bench key."), path: path, errno: errno)
        }
        guard status.st_mode & 0o077 == 0 else {
            throw CertificateError(code: .keyFileInsecure, message: LocalizedText(
                fr: String(format: "La clé du banc est lisible par d'autres (mode %o) ; exécutez « chmod 600 » dessus, et remplacez-la si elle a pu être copiée.", status.st_mode & 0o777),
                en: String(format: "The bench key is readable by others (mode %o); run 'chmod 600' on it, and replace it if it may have been copied.", status.st_mode & 0o777)),
                path: path)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CertificateError(code: .fileSystem, message: LocalizedText(
                fr: "Impossible de lire la clé du banc.", en: "Cannot read the bench key."), path: path, errno: EACCES)
        }
        let invalid = CertificateError(code: .keyFileInvalid, message: LocalizedText(
            fr: "Le fichier de clé n'est pas une clé privée Ed25519 (JWK) valide ; il n'a pas été modifié.",
            en: "The key file is not a valid Ed25519 private key (JWK); it was left untouched."), path: path)
        guard let jwk = try? JSONDecoder().decode(PrivateJWK.self, from: data),
              jwk.kty == "OKP", jwk.crv == "Ed25519",
              let raw = Base64URL.decode(jwk.d), raw.count == 32,
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw),
              Base64URL.encode(key.publicKey.rawRepresentation) == jwk.x
        else { throw invalid }
        return BenchKey(privateKey: key, path: path)
    }

    /// Reads the public key of a data directory without creating anything; nil when absent.
    public static func existingPublicJWK(dataDirectory: String) throws -> PublicJWK? {
        let path = (dataDirectory as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try load(path: path).publicJWK
    }
}

/// RFC 8037 §2 private OKP key: the public members plus `d`, the 32-byte seed.
struct PrivateJWK: Codable {
    var kty: String
    var crv: String
    var x: String
    var d: String

    init(key: Curve25519.Signing.PrivateKey) {
        kty = "OKP"
        crv = "Ed25519"
        x = Base64URL.encode(key.publicKey.rawRepresentation)
        d = Base64URL.encode(key.rawRepresentation)
    }
}
