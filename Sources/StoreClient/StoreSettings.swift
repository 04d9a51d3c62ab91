import ArdoiseSupport
import Foundation
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

/// Where and how the bench sends its signed records: the `[store]` section of the bench
/// configuration (docs/configuration.md). The token itself never appears here or on a
/// command line: it is read from `tokenFile` at each sending round, so a new token is taken
/// without a restart.
public struct StoreSettings: Sendable, Equatable {
    /// The store's base URL (`https://store.example.org`, or with a path prefix).
    public var url: String
    /// The bearer token's file: owner-only (no group or other permission bits).
    public var tokenFile: String
    /// PEM file of the certificate authorities to trust instead of the system's.
    public var caFile: String?
    public var connectTimeoutSeconds = 10
    /// Longest wait for one request, from sending to the end of the answer.
    public var requestTimeoutSeconds = 30
    /// Longest pause between two attempts when the store keeps failing (the backoff's cap).
    public var retryMaxSeconds = 900
    /// The store's address as donors reach it (`[store] public-url`), when it differs from `url`.
    public var publicURL: String?

    public init(url: String, tokenFile: String, caFile: String? = nil) {
        self.url = url
        self.tokenFile = tokenFile
        self.caFile = caFile
    }

    /// Where donors reach the store: `public-url`, else `url`.
    public var donorBaseURL: String { publicURL ?? url }

    /// The page under `base` that verifies certificate `id`, which its QR code opens.
    public static func verificationURL(base: String, certificateID id: String) -> String {
        trimmed(base) + "/c/" + id
    }

    /// `POST` target for every record.
    public var recordsURL: String { Self.trimmed(url) + "/api/v1/records" }

    public var retryPolicy: RetryPolicy { RetryPolicy(initialDelaySeconds: 5, maximumDelaySeconds: Double(retryMaxSeconds)) }

    static func trimmed(_ url: String) -> String {
        var text = url
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }

    /// Why `url` cannot be a store URL, or nil. `http://` is only accepted for a loopback
    /// host: anywhere else the bearer token would cross the network in clear.
    public static func problem(withURL url: String) -> LocalizedText? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              let host = components.host, !host.isEmpty else {
            return LocalizedText(fr: "URL invalide (attendu : https://hôte[:port][/chemin])",
                                 en: "invalid URL (expected: https://host[:port][/path])")
        }
        guard components.query == nil, components.fragment == nil, components.user == nil, components.password == nil else {
            return LocalizedText(fr: "l'URL ne doit contenir ni requête, ni fragment, ni identifiants",
                                 en: "the URL must have no query, fragment or credentials")
        }
        switch scheme {
        case "https": return nil
        case "http":
            let loopback = ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host.lowercased()) || host.hasPrefix("127.")
            return loopback ? nil : LocalizedText(
                fr: "http:// seulement vers cette machine (127.0.0.1) ; utilisez https:// pour ne pas envoyer le jeton en clair",
                en: "http:// only to this machine (127.0.0.1); use https:// so the token is not sent in clear")
        default:
            return LocalizedText(fr: "schéma « \(scheme) » non pris en charge (https)", en: "unsupported scheme '\(scheme)' (https)")
        }
    }

    /// Reads the bearer token: the file must be a regular file with no group or other
    /// permission bits, holding one non-empty line of visible ASCII characters.
    /// - Throws: `StoreClientError` (`.tokenFileUnreadable`, `.tokenFileMode`, `.tokenFileInvalid`).
    public static func readToken(path: String) throws(StoreClientError) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            throw StoreClientError(.tokenFileUnreadable, LocalizedText(
                fr: "fichier du jeton absent ou illisible (\(String(cString: strerror(code))))",
                en: "token file missing or unreadable (\(String(cString: strerror(code))))"), path: path)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw StoreClientError(.tokenFileInvalid, LocalizedText(fr: "le fichier du jeton n'est pas un fichier ordinaire",
                                                                    en: "the token file is not a regular file"), path: path)
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw StoreClientError(.tokenFileMode, LocalizedText(
                fr: "le fichier du jeton est lisible par d'autres (mode \(String(mode, radix: 8))) ; faites chmod 600 \(path)",
                en: "the token file is readable by others (mode \(String(mode, radix: 8))); run chmod 600 \(path)"), path: path)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StoreClientError(.tokenFileUnreadable, LocalizedText(fr: "fichier du jeton illisible", en: "token file unreadable"),
                                   path: path)
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty, token.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw StoreClientError(.tokenFileInvalid, LocalizedText(
                fr: "le fichier du jeton doit contenir le jeton seul, sur une ligne",
                en: "the token file must hold the token alone, on one line"), path: path)
        }
        return token
    }
}

extension StoreSettings {
    /// Checks that `path` holds at least one PEM certificate (the CA file).
    /// - Throws: `StoreClientError` `.caFileInvalid`.
    public static func checkCAFile(path: String) throws(StoreClientError) {
        _ = try trustedCertificates(caFile: path)
    }

    private struct NoCertificate: Error, CustomStringConvertible {
        var description: String { "no PEM certificate" }
    }

    static func trustedCertificates(caFile: String) throws(StoreClientError) -> [NIOSSLCertificate] {
        do {
            let certificates = try NIOSSLCertificate.fromPEMFile(caFile)
            guard !certificates.isEmpty else { throw NoCertificate() }
            return certificates
        } catch {
            throw StoreClientError(.caFileInvalid, LocalizedText(
                fr: "fichier d'autorités illisible ou sans certificat PEM (\(error))",
                en: "CA file unreadable or without a PEM certificate (\(error))"), path: caFile)
        }
    }
}

/// The one error of the StoreClient module: a stable code, a message in both languages, the file.
public struct StoreClientError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable, Codable {
        case tokenFileUnreadable = "token_file_unreadable"
        case tokenFileMode = "token_file_mode"
        case tokenFileInvalid = "token_file_invalid"
        case caFileInvalid = "ca_file_invalid"
        case invalidURL = "invalid_url"
    }

    public let code: Code
    public let message: LocalizedText
    public let path: String?

    public init(_ code: Code, _ message: LocalizedText, path: String? = nil) {
        self.code = code
        self.message = message
        self.path = path
    }

    public func text(in language: Language) -> String {
        message.text(in: language) + (path.map { " (\($0))" } ?? "")
    }

    public var description: String { text(in: CurrentLanguage.value) }
}
