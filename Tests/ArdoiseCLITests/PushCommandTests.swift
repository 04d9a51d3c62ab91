import ArdoiseTestSupport
import Foundation
import Journal
import StoreTestSupport
import Testing

/// `ardoise push` as a technician runs it: the built binary, the daemon's configuration file,
/// a store on 127.0.0.1.
@Suite(.serialized) struct PushCommandTests {
    static let token = "push-test-token"

    final class Bench: @unchecked Sendable {  // owned by one test
        let directory: String
        var dataDirectory: String { directory + "/data" }
        var configPath: String { directory + "/ardoise.toml" }
        let journal: JournalDatabase

        init(storeURL: String?) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-push-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let tokenFile = directory + "/store.token"
            FileManager.default.createFile(atPath: tokenFile, contents: Data(PushCommandTests.token.utf8), attributes: [.posixPermissions: 0o600])
            var config = """
                [bench]
                id = "push-bench"

                [paths]
                data-directory = "\(directory)/data"
                control-socket = "\(directory)/control.sock"
                """
            if let storeURL {
                config += "\n\n[store]\nurl = \"\(storeURL)\"\ntoken-file = \"\(tokenFile)\"\n"
            }
            try config.write(toFile: directory + "/ardoise.toml", atomically: true, encoding: .utf8)
            journal = try JournalDatabase(dataDirectory: directory + "/data")
        }

        @discardableResult
        func enqueue(_ count: Int) throws -> [String] {
            try (0..<count).map { _ in
                let id = UUID()
                let payload = #"{"id":"\#(id.uuidString.lowercased())","schema":"https://ardoise.example/certificate/v1"}"#
                let encoded = Data(payload.utf8).base64EncodedString()
                    .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
                try journal.enqueueOutbox(kind: .certificate, recordID: id,
                                          payload: #"{"payload":"\#(encoded)","signatures":[{"protected":"e30","signature":"AA"}]}"#)
                return id.uuidString.lowercased()
            }
        }

        func push(_ extra: [String] = []) throws -> (status: Int32, output: String, error: String) {
            try ArdoiseBinary.run(["push", "--config", configPath] + extra)
        }

        func pushJSON(_ extra: [String] = []) throws -> (status: Int32, json: [String: Any]) {
            let result = try push(["--json"] + extra)
            let json = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
            return (result.status, json ?? [:])
        }

        deinit { try? FileManager.default.removeItem(atPath: directory) }
    }

    static func ids(_ items: Any?) -> [String] {
        ((items as? [[String: Any]]) ?? []).compactMap { $0["recordID"] as? String }
    }

    @Test func pushSendsEverythingAndSaysSo() async throws {
        let store = ContractStore(tokens: [Self.token])
        let server = FakeStoreServer(handler: store.handler)
        try await server.start(port: 0)
        let bench = try Bench(storeURL: server.url)
        let ids = try bench.enqueue(3)
        // A job another process (the daemon) is running: push must leave it alone.
        let job = JobRecord(driveID: nil, profile: "zero", technician: "T", donor: nil, lot: nil)
        try bench.journal.startJob(job)

        let first = try bench.pushJSON()
        #expect(first.status == 0)
        #expect(Self.ids(first.json["sent"]) == ids)
        #expect((first.json["pending"] as? [String: Any])?["count"] as? Int == 0)
        #expect(store.storedOrder == ids)
        #expect(try bench.journal.job(id: job.id)?.status == .running, "push never recovers or touches jobs")

        // Nothing left: the French text says so.
        let again = try bench.push()
        await server.stop()
        #expect(again.status == 0)
        #expect(again.output.contains("0 envoyé(s), 0 déjà présent(s), 0 refusé(s), 0 en attente d'envoi"), "\(again.output)")
    }

    @Test func refusedRecordsAreShownWithTheStoreReasonAndKept() async throws {
        let store = ContractStore(tokens: [Self.token])
        let server = FakeStoreServer(handler: store.handler)
        try await server.start(port: 0)
        let bench = try Bench(storeURL: server.url)
        let ids = try bench.enqueue(2)
        store.refuse(recordID: ids[0], with: .error(403, "wrong_bench_key", "kid is not this token's bench key"))

        let result = try bench.pushJSON()
        #expect(result.status == 97)
        #expect(Self.ids(result.json["sent"]) == [ids[1]])
        let refused = try #require((result.json["refused"] as? [[String: Any]])?.first)
        #expect(refused["code"] as? String == "wrong_bench_key")
        #expect(refused["httpStatus"] as? Int == 403)
        #expect(refused["status"] as? String == "refused")
        #expect(Self.ids(result.json["parked"]) == [ids[0]])

        let english = try ArdoiseBinary.run(["push", "--config", bench.configPath, "--lang", "en"])
        #expect(english.status == 97)
        #expect(english.output.contains("refused") && english.output.contains("403 wrong_bench_key"), "\(english.output)")
        #expect(english.output.contains("--retry-parked"))
        let french = try bench.push()
        #expect(french.output.contains("refusé") && french.output.contains("kid is not this token's bench key"), "\(french.output)")

        // Fixed on the store's side: --retry-parked sends it.
        store.allow(recordID: ids[0])
        let retried = try bench.pushJSON(["--retry-parked"])
        await server.stop()
        #expect(retried.status == 0, "\(retried.json)")
        #expect(Self.ids(retried.json["parked"]).isEmpty)
        #expect(Self.ids(retried.json["sent"]) == [ids[0]])
        #expect(store.storedOrder == [ids[1], ids[0]])
    }

    @Test func aStoreThatIsDownLeavesEverythingPending() async throws {
        let store = ContractStore(tokens: [Self.token])
        let server = FakeStoreServer(handler: store.handler)
        try await server.start(port: 0)
        await server.stop()
        let bench = try Bench(storeURL: server.url)
        try bench.enqueue(2)
        let result = try bench.pushJSON()
        #expect(result.status == 96)
        let pending = try #require(result.json["pending"] as? [String: Any])
        #expect(pending["count"] as? Int == 2)
        #expect(pending["code"] as? String == "store_unreachable")
        #expect(try bench.journal.pendingOutbox().count == 2)

        // The JSON's codes are the same in English; only the message is in the reader's language.
        let english = try ArdoiseBinary.run(["push", "--config", bench.configPath, "--json", "--lang", "en"])
        let englishJSON = try JSONSerialization.jsonObject(with: Data(english.output.utf8)) as? [String: Any]
        let englishPending = try #require(englishJSON?["pending"] as? [String: Any])
        #expect(english.status == 96)
        #expect(englishPending["code"] as? String == "store_unreachable")
        #expect(englishPending["count"] as? Int == 2)
        #expect((englishPending["message"] as? String)?.hasPrefix("store unreachable") == true)
        #expect((pending["message"] as? String)?.hasPrefix("serveur injoignable") == true)
    }

    @Test func withoutAStoreSectionPushSaysWhy() throws {
        let bench = try Bench(storeURL: nil)
        let result = try bench.push()
        #expect(result.status == 94)
        #expect(result.error.contains("[store]"))
    }
}
