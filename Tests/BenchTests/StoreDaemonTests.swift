import ArdoiseTestSupport
import Foundation
import StoreTestSupport
import Testing

/// The daemon with `[store]`: a certificate it issues reaches the store by itself, byte for
/// byte; while the store is down the bench shows it waiting and sends it once the store is back.
@Suite(.serialized, .enabled(if: LoopDevice.isAvailable, "needs root to attach loop devices"))
struct StoreDaemonTests {
    static let token = "daemon-test-token-42"

    /// A harness whose configuration sends to `server`, with an owner-only token file.
    static func harness(sendingTo server: FakeStoreServer) throws -> DaemonHarness {
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, profile: "zero")
        let tokenFile = harness.directory.appendingPathComponent("store.token").path
        FileManager.default.createFile(atPath: tokenFile, contents: Data(token.utf8), attributes: [.posixPermissions: 0o600])
        try harness.appendToConfig("""
            [store]
            url = "\(server.url)"
            token-file = "\(tokenFile)"
            retry-max-seconds = 10
            """)
        return harness
    }

    static func outbox(_ harness: DaemonHarness) throws -> [String: Any]? {
        try harness.status()["outbox"] as? [String: Any]
    }

    /// Follows the bench's changes (control socket `watch`) until its outbox meets `condition`.
    static func outboxReaches(_ harness: DaemonHarness, _ seconds: Double, _ condition: ([String: Any]) -> Bool) -> Bool {
        (try? harness.watch(timeout: seconds) { condition(($0["outbox"] as? [String: Any]) ?? [:]) }) != nil
    }

    /// Waits until the fake store (in this process) has stored `count` records: woken by each
    /// request it answers, never by a clock. False at the deadline.
    static func stored(_ count: Int, by store: ContractStore, on server: FakeStoreServer, within seconds: Int) async -> Bool {
        (try? await server.waitForExchange("\(count) record(s) stored", timeout: .seconds(seconds)) { _ in
            store.storedOrder.count >= count
        }) != nil
    }

    @Test func aCertificateReachesTheStoreByItself() async throws {
        let store = ContractStore(tokens: [Self.token])
        let server = FakeStoreServer(handler: store.handler)
        try await server.start(port: 0)
        let harness = try Self.harness(sendingTo: server)
        defer { harness.cleanUp() }
        try harness.start()
        let loop = try LoopDevice(sizeInBytes: 16 << 20, in: harness.drivesDirectory)
        defer { loop.detach() }
        let slot = try harness.waitForState(loop.path, ["done", "failed", "interrupted"], timeout: 120)
        let certificate = try #require(slot["certificate"] as? String, "\(slot)\n\(harness.log())")
        let delivered = await Self.stored(1, by: store, on: server, within: 20)
        await server.stop()
        #expect(delivered, "\(harness.log())")
        let id = (certificate as NSString).lastPathComponent.replacingOccurrences(of: ".json", with: "")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: certificate)))
        #expect(store.stored[id]?.bytes == bytes, "the store holds the certificate file's exact bytes")
        #expect(store.stored[id]?.kind == "certificate")
        #expect(Self.outboxReaches(harness, 5) { $0["pending"] as? Int == 0 })
        // The certificate names its page on that store (its QR code opens it).
        let payload = try Self.signedPayload(Data(bytes))
        var base = server.url
        while base.hasSuffix("/") { base.removeLast() }
        #expect(payload["verificationURL"] as? String == base + "/c/" + id)
    }

    /// The signed payload of a JWS (JSON serialization) as a dictionary.
    static func signedPayload(_ jws: Data) throws -> [String: Any] {
        let object = try #require(try JSONSerialization.jsonObject(with: jws) as? [String: Any])
        var text = try #require(object["payload"] as? String).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        let bytes = try #require(Data(base64Encoded: text))
        return try #require(try JSONSerialization.jsonObject(with: bytes) as? [String: Any])
    }

    @Test func whileTheStoreIsDownTheBenchShowsWhatWaitsAndSendsItLater() async throws {
        let store = ContractStore(tokens: [Self.token])
        let server = FakeStoreServer(handler: store.handler)
        try await server.start(port: 0)
        await server.stop()  // the port is known; nothing listens: the store is down
        let harness = try Self.harness(sendingTo: server)
        defer { harness.cleanUp() }
        try harness.start()
        let loop = try LoopDevice(sizeInBytes: 16 << 20, in: harness.drivesDirectory)
        defer { loop.detach() }
        _ = try harness.waitForState(loop.path, ["done", "failed", "interrupted"], timeout: 120)

        let waiting = Self.outboxReaches(harness, 10) {
            $0["pending"] as? Int == 1 && $0["lastErrorCode"] as? String == "store_unreachable"
        }
        #expect(waiting, "\(String(describing: try? Self.outbox(harness)))\n\(harness.log())")
        let french = try Shell.runCapturing(ArdoiseExecutable.path, ["status", "--socket", harness.socketPath, "--lang", "fr"])
        #expect(french.standardOutput.contains("1 en attente d'envoi"), "\(french.standardOutput)")
        let english = try Shell.runCapturing(ArdoiseExecutable.path, ["status", "--socket", harness.socketPath, "--lang", "en"])
        #expect(english.standardOutput.contains("1 waiting to be sent"), "\(english.standardOutput)")

        try await server.start()
        let delivered = await Self.stored(1, by: store, on: server, within: 30)
        await server.stop()
        #expect(delivered, "\(harness.log())")
        #expect(Self.outboxReaches(harness, 5) { $0["pending"] as? Int == 0 })
    }
}

extension StoreDaemonTests {
    /// The bench is killed (power cut) while the store is down: after the restart, with the
    /// store back, the certificate still arrives.
    @Test func aKilledBenchSendsWhatWaitedAfterItsRestart() async throws {
        let store = ContractStore(tokens: [Self.token])
        let server = FakeStoreServer(handler: store.handler)
        try await server.start(port: 0)
        await server.stop()
        let harness = try Self.harness(sendingTo: server)
        defer { harness.cleanUp() }
        try harness.start()
        let loop = try LoopDevice(sizeInBytes: 16 << 20, in: harness.drivesDirectory)
        defer { loop.detach() }
        let slot = try harness.waitForState(loop.path, ["done", "failed", "interrupted"], timeout: 120)
        let certificate = try #require(slot["certificate"] as? String, "\(slot)")
        #expect(Self.outboxReaches(harness, 10) { $0["pending"] as? Int == 1 })
        harness.kill9()
        // Off the bench before the restart, so the daemon does not take the drive again.
        loop.detach()

        try await server.start()
        try harness.start()
        let delivered = await Self.stored(1, by: store, on: server, within: 30)
        await server.stop()
        #expect(delivered, "\(harness.log())")
        let id = (certificate as NSString).lastPathComponent.replacingOccurrences(of: ".json", with: "")
        #expect(store.stored[id]?.bytes == (try [UInt8](Data(contentsOf: URL(fileURLWithPath: certificate)))))
    }
}
