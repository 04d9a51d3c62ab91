import ArdoiseSupport
import Foundation

/// Where the temporary ATA password lives between SECURITY SET PASSWORD and the confirmed end
/// of the erase, so a drive left locked (power cut, bridge reset) can always be unlocked by
/// `recover`. The lead backs it with the journal; `FileSecretStore` is the standalone form.
///
/// `save` must be durable when it returns: the flow sends SET PASSWORD only afterwards.
public protocol SecretStore: AnyObject {
    func saveTemporaryPassword(_ password: AtaPassword, forDevice deviceKey: String) throws
    func temporaryPassword(forDevice deviceKey: String) throws -> AtaPassword?
    func removeTemporaryPassword(forDevice deviceKey: String) throws
}

/// A secret store in memory (tests, dry runs).
public final class InMemorySecretStore: SecretStore {
    public private(set) var passwords: [String: AtaPassword] = [:]
    /// When true, `save` throws (to test that no password is set without a record).
    public var failSaves = false

    public init() {}

    public func saveTemporaryPassword(_ password: AtaPassword, forDevice deviceKey: String) throws {
        if failSaves {
            throw SanitizeError(.secretStore, context: deviceKey, message: .init(fr: "enregistrement du mot de passe temporaire impossible", en: "cannot record the temporary password"))
        }
        passwords[deviceKey] = password
    }

    public func temporaryPassword(forDevice deviceKey: String) throws -> AtaPassword? { passwords[deviceKey] }
    public func removeTemporaryPassword(forDevice deviceKey: String) throws { passwords[deviceKey] = nil }
}

/// One file per drive in a directory (0700), each file 0600, written to a temporary name,
/// fsynced, then renamed, so a crash leaves either the old or the new record.
public final class FileSecretStore: SecretStore {
    public let directory: URL

    public init(directory: URL) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw SanitizeError(.secretStore, context: directory.path, message: .init(fr: "création du dossier des secrets impossible : \(error)", en: "cannot create the secrets directory: \(error)"))
        }
    }

    /// The record file of a drive: the key with anything but [A-Za-z0-9._-] replaced by "_".
    public func fileURL(forDevice deviceKey: String) -> URL {
        let safe = String(deviceKey.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" })
        return directory.appendingPathComponent("ata-password-\(safe).json")
    }

    private struct Record: Codable {
        var device: String
        var password: String
        var passwordHex: String
        var recordedAt: Date
    }

    public func saveTemporaryPassword(_ password: AtaPassword, forDevice deviceKey: String) throws {
        let url = fileURL(forDevice: deviceKey)
        let temporary = url.appendingPathExtension("tmp")
        do {
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            let data = try encoder.encode(Record(device: deviceKey, password: password.text, passwordHex: Hex.bytes(password.bytes).replacingOccurrences(of: " ", with: ""), recordedAt: Date()))
            try? FileManager.default.removeItem(at: temporary)
            guard FileManager.default.createFile(atPath: temporary.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw CocoaError(.fileWriteUnknown)
            }
            let handle = try FileHandle(forWritingTo: temporary)
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
            try FileManager.default.moveItem(at: temporary, to: url)
        } catch let error as SanitizeError {
            throw error
        } catch {
            throw SanitizeError(.secretStore, context: url.path, message: .init(fr: "enregistrement du mot de passe temporaire impossible : \(error)", en: "cannot record the temporary password: \(error)"))
        }
    }

    public func temporaryPassword(forDevice deviceKey: String) throws -> AtaPassword? {
        let url = fileURL(forDevice: deviceKey)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            let record = try decoder.decode(Record.self, from: Data(contentsOf: url))
            guard let bytes = Hex.parse(record.passwordHex), let password = AtaPassword(bytes: bytes) else {
                throw SanitizeError.malformed("password record", url.path)
            }
            return password
        } catch let error as SanitizeError {
            throw error
        } catch {
            throw SanitizeError(.secretStore, context: url.path, message: .init(fr: "lecture du mot de passe temporaire impossible : \(error)", en: "cannot read the temporary password: \(error)"))
        }
    }

    public func removeTemporaryPassword(forDevice deviceKey: String) throws {
        let url = fileURL(forDevice: deviceKey)
        if FileManager.default.fileExists(atPath: url.path) {
            do { try FileManager.default.removeItem(at: url) } catch {
                throw SanitizeError(.secretStore, context: url.path, message: .init(fr: "suppression du mot de passe temporaire impossible : \(error)", en: "cannot delete the temporary password: \(error)"))
            }
        }
    }
}
