import Foundation
import Testing
@testable import Certificates

@Suite struct BenchKeyTests {
    @Test func createdOnFirstUseWithMode0600AndReloaded() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = directory + "/data"
        let created = try BenchKey.loadOrCreate(dataDirectory: data)
        let attributes = try FileManager.default.attributesOfItem(atPath: data + "/" + BenchKey.fileName)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let again = try BenchKey.loadOrCreate(dataDirectory: data)
        #expect(again.thumbprint == created.thumbprint)
        #expect(try BenchKey.existingPublicJWK(dataDirectory: data) == created.publicJWK)
        #expect(try BenchKey.existingPublicJWK(dataDirectory: directory + "/none") == nil)
    }

    @Test func looserModeIsRefused() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try BenchKey.loadOrCreate(dataDirectory: directory)
        let path = directory + "/" + BenchKey.fileName
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let error = #expect(throws: CertificateError.self) { try BenchKey.loadOrCreate(dataDirectory: directory) }
        #expect(error?.code == .keyFileInsecure)
    }

    @Test func badContentIsRefusedAndKept() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/" + BenchKey.fileName
        let garbage = Data(#"{"kty":"OKP","crv":"Ed25519","x":"AAAA","d":"BBBB"}"#.utf8)
        _ = FileManager.default.createFile(atPath: path, contents: garbage, attributes: [.posixPermissions: 0o600])
        let error = #expect(throws: CertificateError.self) { try BenchKey.loadOrCreate(dataDirectory: directory) }
        #expect(error?.code == .keyFileInvalid)
        #expect(FileManager.default.contents(atPath: path) == garbage)
    }

    @Test func trustedKeysAcceptJWKAndJWKSet() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Fixture.key.publicJWK.jsonData().write(to: URL(fileURLWithPath: directory + "/one.jwk"))
        let set = "{\"keys\":[\(String(decoding: Fixture.key.publicJWK.jsonData(), as: UTF8.self)),\(String(decoding: Fixture.otherKey.publicJWK.jsonData(), as: UTF8.self))]}"
        try Data(set.utf8).write(to: URL(fileURLWithPath: directory + "/set.json"))
        try Data("not a key".utf8).write(to: URL(fileURLWithPath: directory + "/bad"))
        #expect(try TrustedKeys.load(path: directory + "/one.jwk").map(\.thumbprint) == [Fixture.key.thumbprint])
        #expect(try TrustedKeys.load(path: directory + "/set.json").count == 2)
        let error = #expect(throws: CertificateError.self) { try TrustedKeys.load(path: directory + "/bad") }
        #expect(error?.code == .trustedKeysInvalid)
    }
}
