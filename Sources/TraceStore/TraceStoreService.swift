import ArdoiseSupport
import Certificates
import Crypto
import Foundation

/// The answer to an accepted push (201 or 200).
public struct PushReceipt: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable { case stored, alreadyStored = "already_stored" }
    public var status: Status
    public var id: String
    public var kind: RecordKind
}

/// Bearer tokens: 32 random bytes, base64url, with a prefix that makes a leaked token easy to
/// recognise in logs and secret scanners. Only the SHA-256 of a token is stored.
public enum BenchToken {
    public static let prefix = "ardst_"

    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return prefix + Base64URL.encode(bytes)
    }

    public static func hash(_ token: String) -> String { Hex.encode(SHA256.hash(data: Data(token.utf8))) }
}

/// The store's operations, independent of HTTP and of the database kind.
public struct TraceStoreService: Sendable {
    public let storage: any RecordStorage
    /// Larger bodies are refused with 413 before anything is parsed.
    public var maximumRecordBytes: Int

    public init(storage: any RecordStorage, maximumRecordBytes: Int = 1 << 20) {
        self.storage = storage
        self.maximumRecordBytes = maximumRecordBytes
    }

    /// Authenticates, checks and stores one record. The bytes are stored exactly as received.
    public func push(authorization: String?, body: Data, receivedAt: Date = Date()) async throws -> PushReceipt {
        let bench = try await authenticate(authorization)
        return try await store(body, from: bench, receivedAt: receivedAt)
    }

    /// Checks and stores one record of an authenticated bench.
    public func store(_ body: Data, from bench: EnrolledBench, receivedAt: Date = Date()) async throws -> PushReceipt {
        guard body.count <= maximumRecordBytes else {
            throw PushRefusal(.tooLarge, fr: "Enregistrement trop gros (\(body.count) octets, maximum \(maximumRecordBytes)).",
                              en: "Record too large (\(body.count) bytes, maximum \(maximumRecordBytes)).")
        }
        let accepted = try RecordIntake.check(body, from: bench, receivedAt: receivedAt)
        switch try await storage.insert(accepted.record) {
        case .stored:
            return PushReceipt(status: .stored, id: accepted.record.id, kind: accepted.record.kind)
        case .alreadyStored:
            return PushReceipt(status: .alreadyStored, id: accepted.record.id, kind: accepted.record.kind)
        case .conflict(let existing):
            throw PushRefusal(.conflictingRecord,
                              fr: "Un autre enregistrement porte déjà l'identifiant \(accepted.record.id) (empreinte \(existing.prefix(16))…).",
                              en: "Another record already has id \(accepted.record.id) (hash \(existing.prefix(16))…).")
        }
    }

    /// The active bench owning the bearer token of an `Authorization` header.
    public func authenticate(_ authorization: String?) async throws -> EnrolledBench {
        guard let authorization, authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " else {
            throw PushRefusal(.unauthorized, fr: "Jeton absent (en-tête Authorization: Bearer …).",
                              en: "No token (Authorization: Bearer … header).")
        }
        let token = authorization.dropFirst(7).trimmingCharacters(in: .whitespaces)
        guard let bench = try await storage.bench(tokenSHA256: BenchToken.hash(token)) else {
            throw PushRefusal(.unauthorized, fr: "Jeton inconnu.", en: "Unknown token.")
        }
        guard !bench.isRevoked else {
            throw PushRefusal(.unauthorized, fr: "Jeton révoqué : le banc « \(bench.name) » n'est plus autorisé.",
                              en: "Revoked token: bench '\(bench.name)' is no longer allowed.")
        }
        return bench
    }

    /// Enrols a bench's public key and returns it with its new token (shown once).
    public func enrol(name: String, organisation: String, publicJWK: PublicJWK, at date: Date = Date()) async throws -> (EnrolledBench, String) {
        let token = BenchToken.generate()
        var compact = publicJWK
        compact.kid = nil
        let bench = EnrolledBench(id: UUID().uuidString.lowercased(), name: name, organisation: organisation,
                                  keyID: publicJWK.thumbprint, publicJWK: String(decoding: compact.jsonData(), as: UTF8.self),
                                  tokenSHA256: BenchToken.hash(token),
                                  // Whole seconds: the database keeps RFC 3339 text without fractions.
                                  enrolledAt: Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)), revokedAt: nil)
        try await storage.addBench(bench)
        return (bench, token)
    }
}
