import ArdoiseSupport
import Foundation
import StoreClient
import Testing
@testable import Bench

/// The `[store]` section: where the outbox goes, the token only in an owner-only file.
@Suite struct StoreConfigTests {
    final class Files {
        let directory: String
        var tokenFile: String { directory + "/store.token" }
        init(tokenMode: Int = 0o600) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-store-config-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: tokenFile, contents: Data("t0ken\n".utf8))
            try FileManager.default.setAttributes([.posixPermissions: tokenMode], ofItemAtPath: tokenFile)
        }
        deinit { try? FileManager.default.removeItem(atPath: directory) }
    }

    func config(_ store: String) -> String {
        """
        [bench]
        id = "b1"

        [store]
        \(store)
        """
    }

    func parse(_ text: String) throws(BenchConfigError) -> BenchConfig {
        try BenchConfig.parse(text: text, path: "/etc/ardoise/ardoise.toml", knownProfiles: nil)
    }

    @Test func aStoreSectionLoads() throws {
        let files = try Files()
        let config = try parse(self.config("""
            url = "https://store.ogo.example"
            token-file = "\(files.tokenFile)"
            connect-timeout-seconds = 5
            request-timeout-seconds = 20
            retry-max-seconds = 600
            """))
        let store = try #require(config.store)
        #expect(store.url == "https://store.ogo.example")
        #expect(store.tokenFile == files.tokenFile)
        #expect(store.caFile == nil)
        #expect(store.connectTimeoutSeconds == 5 && store.requestTimeoutSeconds == 20 && store.retryMaxSeconds == 600)
        #expect(store.recordsURL == "https://store.ogo.example/api/v1/records")
        #expect(try parse("[bench]\nid = \"b1\"\n").store == nil, "no [store]: records stay on the bench")
    }

    @Test(arguments: [0o644, 0o640, 0o604])
    func aTokenFileOthersCanReadIsRefusedWithItsLine(mode: Int) throws {
        let files = try Files(tokenMode: mode)
        let error = #expect(throws: BenchConfigError.self) {
            try parse(self.config("url = \"https://store.ogo.example\"\ntoken-file = \"\(files.tokenFile)\""))
        }
        #expect(error?.field == "store.token-file")
        #expect(error?.line == 6)
        #expect(error?.message.french.contains("chmod 600") == true)
    }

    @Test(arguments: [
        ("url = \"http://store.ogo.example\"", "store.url", 5),
        ("url = \"store.ogo.example\"", "store.url", 5),
        ("url = \"https://s.example\"\ntoken = \"abc\"", "store.token", 6),
        ("url = \"https://s.example\"\ntoken-file = \"relative/token\"", "store.token-file", 6),
        ("url = \"https://s.example\"\ntoken-file = \"/nonexistent/token\"", "store.token-file", 6),
        ("url = \"https://s.example\"\ntoken-file = \"TOKEN\"\nca-file = \"/nonexistent/ca.pem\"", "store.ca-file", 7),
        ("url = \"https://s.example\"\ntoken-file = \"TOKEN\"\nrequest-timeout-seconds = 0", "store.request-timeout-seconds", 7),
        ("token-file = \"TOKEN\"", "store", 4),
        ("url = \"https://s.example\"", "store", 4),
    ])
    func badStoreSettingsNameTheirField(text: String, field: String, line: Int) throws {
        let files = try Files()
        let error = #expect(throws: BenchConfigError.self) {
            try parse(self.config(text.replacingOccurrences(of: "TOKEN", with: files.tokenFile)))
        }
        #expect(error?.field == field, "\(String(describing: error))")
        #expect(error?.line == line, "\(String(describing: error))")
    }

    @Test func aCAFileMustHoldAPEMCertificate() throws {
        let files = try Files()
        let notPEM = files.directory + "/ca.pem"
        FileManager.default.createFile(atPath: notPEM, contents: Data("not a certificate".utf8))
        let error = #expect(throws: BenchConfigError.self) {
            try parse(self.config("url = \"https://s.example\"\ntoken-file = \"\(files.tokenFile)\"\nca-file = \"\(notPEM)\""))
        }
        #expect(error?.field == "store.ca-file")
    }

    @Test func theScreenSaysHowManyWaitAndHowManyWereRefused() {
        var snapshot = BenchSnapshot(benchID: "b1", benchName: "Banc", technician: nil, donor: nil, lot: nil, policy: "manual",
                                     language: .french, slots: [])
        snapshot.outbox = OutboxStatus(storeConfigured: true, pending: 3, parkedCount: 1, lastErrorCode: "store_unreachable",
                                       parked: [.init(kind: "certificate", recordID: "abc", httpStatus: 422, code: "invalid_signature",
                                                      message: "bad")])
        let french = DashboardRenderer(width: 200, height: 30, language: .french, colours: false).lines(for: snapshot, selected: nil, message: nil)
        #expect(french[1].contains("3 en attente d'envoi (dernier essai : store_unreachable) · 1 refusé par le serveur"), "\(french[1])")
        let english = DashboardRenderer(width: 200, height: 30, language: .english, colours: false).lines(for: snapshot, selected: nil, message: nil)
        #expect(english[1].contains("3 waiting to be sent (last attempt: store_unreachable) · 1 refused by the store"), "\(english[1])")

        snapshot.outbox = OutboxStatus(storeConfigured: false, pending: 2, parkedCount: 0)
        let unconfigured = DashboardRenderer(width: 200, height: 30, language: .french, colours: false).lines(for: snapshot, selected: nil, message: nil)
        #expect(unconfigured[1].contains("2 en attente d'envoi (aucun serveur configuré)"))

        snapshot.outbox = OutboxStatus(storeConfigured: true, pending: 0, parkedCount: 0)
        let quiet = DashboardRenderer(width: 200, height: 30, language: .french, colours: false).lines(for: snapshot, selected: nil, message: nil)
        #expect(!quiet[1].contains("Envoi"))
    }
}
