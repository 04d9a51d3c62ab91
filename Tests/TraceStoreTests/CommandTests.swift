import Foundation
import Testing
@testable import Certificates
@testable import TraceStore

/// `ardoise-store benches add|list|revoke` and the configuration file, through the built binary.
@Suite("ardoise-store commands")
struct CommandTests {
    @Test("benches add writes the token 0600 and stores only its hash; list; revoke; the token then gets 401", arguments: Backend.available)
    func enrolment(backend: Backend) async throws {
        let database = try await TestDatabase.make(backend)
        let directory = try StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let jwk = directory + "/bench.jwk"
        try StoreFixture.key.publicJWK.jsonData().write(to: URL(fileURLWithPath: jwk))
        let tokenFile = directory + "/token"

        let added = try StoreExecutable.run(["benches", "add", "--db", database.location, "--name", "Atelier de Rennes",
                                             "--organisation", "Ordi Grand Ouest", "--jwk", jwk, "--token-file", tokenFile])
        #expect(added.status == 0, "\(added.error)")
        #expect(added.output.contains("Banc enregistré : Atelier de Rennes"))
        #expect(added.output.contains(StoreFixture.key.thumbprint))
        let attributes = try FileManager.default.attributesOfItem(atPath: tokenFile)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix(BenchToken.prefix))
        #expect(!added.output.contains(token))

        // Not over an existing file.
        let again = try StoreExecutable.run(["benches", "add", "--db", database.location, "--name", "X", "--organisation", "Y",
                                             "--jwk", jwk, "--token-file", tokenFile])
        #expect(again.status == 105)

        // Printed once when no file is given.
        let printed = try StoreExecutable.run(["benches", "add", "--db", database.location, "--name", "Atelier de Brest",
                                               "--organisation", "Ordi Grand Ouest", "--jwk", jwk, "--json"])
        #expect(printed.status == 0)
        let printedJSON = try #require(try JSONSerialization.jsonObject(with: Data(printed.output.utf8)) as? [String: Any])
        #expect((printedJSON["token"] as? String)?.hasPrefix(BenchToken.prefix) == true)

        let listed = try StoreExecutable.run(["benches", "list", "--db", database.location, "--json"])
        #expect(listed.status == 0)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [String: Any])
        let benches = try #require(list["benches"] as? [[String: Any]])
        #expect(benches.count == 2)
        #expect(benches.allSatisfy { $0["status"] as? String == "active" && $0["token"] == nil })

        // The database holds the token's hash, never the token.
        let storage = try database.open()
        let stored = try await storage.benches()
        #expect(stored.contains { $0.tokenSHA256 == BenchToken.hash(token) })
        #expect(!stored.contains { $0.tokenSHA256 == token || $0.publicJWK.contains(token) })

        // Pushing works, then revoke by name, then 401.
        let store = try await RunningStore.start(storage: storage)
        #expect(try await HTTP.push(store.baseURL, token: token, body: try StoreFixture.certificate()).status == 201)
        let revoked = try StoreExecutable.run(["benches", "revoke", "--db", database.location, "Atelier de Rennes"])
        #expect(revoked.status == 0, "\(revoked.error)")
        #expect(revoked.output.contains("Banc révoqué"))
        let refused = try await HTTP.push(store.baseURL, token: token, body: try StoreFixture.certificate())
        #expect(refused.status == 401)
        let unknown = try StoreExecutable.run(["benches", "revoke", "--db", database.location, "Atelier de Rennes"])
        #expect(unknown.status == 102)
        #expect(unknown.error.contains("Aucun banc actif"))
        await store.stop()
        await storage.close()
        await database.remove()
    }

    @Test("list on a missing database: 101, and nothing is created")
    func missingDatabase() throws {
        let directory = try StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let missing = try StoreExecutable.run(["benches", "list", "--db", directory + "/nowhere/store.sqlite"])
        #expect(missing.status == 101)
        #expect(missing.error.contains("Aucune base du registre"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/nowhere"))
        let noFile = try StoreExecutable.run(["benches", "list", "--db", directory + "/store.sqlite"])
        #expect(noFile.status == 101)
        #expect(!FileManager.default.fileExists(atPath: directory + "/store.sqlite"))
    }

    @Test("a key file that is not one Ed25519 public JWK is refused (103)")
    func badKey() throws {
        let directory = try StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("{\"kty\":\"RSA\"}".utf8).write(to: URL(fileURLWithPath: directory + "/bad.jwk"))
        let result = try StoreExecutable.run(["benches", "add", "--db", directory + "/s.sqlite", "--name", "A", "--organisation", "B",
                                              "--jwk", directory + "/bad.jwk"])
        #expect(result.status == 103)
        #expect(result.error.contains("une seule clé publique Ed25519"))
    }

    @Test("configuration errors name file, line and field", arguments: [
        ("[server]\nlisten = \"nowhere\"\n", 2, "server.listen"),
        ("[server]\nlisten = \"127.0.0.1:8080\"\nmax-record-bytes = 12\n", 3, "server.max-record-bytes"),
        ("[database]\n\nurl = \"relative.sqlite\"\n", 3, "database.url"),
        ("[database]\nurl = \"postgres://u@h/db?bogus=1\"\n", 2, "database.url"),
        ("[figures]\nlaptop-kg-co2e = 100\n", 2, "figures.laptop-kg-co2e"),
        ("[figures]\nlaptop-kg-co2e = \"lots\"\nsource = \"x\"\n", 2, "figures.laptop-kg-co2e"),
        ("[serveur]\nlisten = \"127.0.0.1:1\"\n", 1, "serveur"),
        ("[server]\nport = 8080\n", 2, "server.port"),
        ("[server]\nlisten = \n", 2, "server.listen"),
    ])
    func configErrors(text: String, line: Int, field: String) throws {
        #expect(throws: StoreConfigError.self) { try StoreConfig.parse(text: text, path: "/etc/ardoise-store/store.toml") }
        do {
            _ = try StoreConfig.parse(text: text, path: "/etc/ardoise-store/store.toml")
        } catch {
            #expect(error.file == "/etc/ardoise-store/store.toml")
            #expect(error.line == line, "\(error)")
            #expect(error.field == field, "\(error)")
        }
    }

    @Test("a valid configuration, and serve reports a bad one with exit status 100")
    func validConfig() throws {
        let config = try StoreConfig.parse(text: """
            [server]
            listen = "0.0.0.0:9090"
            public-url = "https://tracabilite.example.org/"
            [database]
            url = "postgres://ardoise:secret@db.example.org:5433/ardoise?sslmode=require"
            max-connections = 32
            [figures]
            laptop-kg-co2e = 150
            desktop-kg-co2e = 200.5
            source = "Étude exemple"
            """, path: "store.toml")
        #expect(config.listenHost == "0.0.0.0" && config.listenPort == 9090)
        #expect(config.publicURL == "https://tracabilite.example.org")
        #expect(PostgresURL(config.database)?.port == 5433)
        #expect(PostgresURL(config.database)?.sslMode == .require)
        #expect(config.maximumConnections == 32)
        #expect(config.figures.desktopKgCO2e == 200.5)

        let directory = try StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("[server]\nlisten = \"x\"\n".utf8).write(to: URL(fileURLWithPath: directory + "/store.toml"))
        let result = try StoreExecutable.run(["serve", "--config", directory + "/store.toml"])
        #expect(result.status == 100)
        #expect(result.error.contains("store.toml:2: champ 'server.listen'"))
    }

    @Test("PostgreSQL URLs: TCP, Unix socket, redaction")
    func postgresURLs() throws {
        let tcp = try #require(PostgresURL("postgres://ardoise:s%40cret@db:5433/store?sslmode=disable"))
        #expect(tcp.host == "db" && tcp.port == 5433 && tcp.username == "ardoise" && tcp.password == "s@cret" && tcp.database == "store")
        #expect(PostgresURL(tcp.text) == tcp)
        #expect(!tcp.redacted.contains("cret"))
        let socket = try #require(PostgresURL("postgres://ardoise@localhost/store?host=/run/postgresql&port=5434"))
        #expect(socket.unixSocketPath == "/run/postgresql/.s.PGSQL.5434")
        #expect(PostgresURL(socket.text) == socket)
        #expect(PostgresURL("postgres://u@h/db?host=relative") == nil)
        #expect(PostgresURL("/var/lib/x.sqlite") == nil)
    }
}

/// The first scenario end to end, with the real binaries: enrol → wipe (image files,
/// no loop device) → `ardoise push` → the donor page says valid; the same records again (from
/// a backup of the journal); a tampered copy refused. Runs scripts/demo-store.sh, the store
/// step of `make demo`, and the bench's push against a store stopped and restarted.
@Suite("Enrol, wipe, push, check")
struct EndToEndTests {
    static var ardoise: String? {
        guard let store = StoreExecutable.path else { return nil }
        let path = (store as NSString).deletingLastPathComponent + "/ardoise"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    static var script: String {
        // Tests/TraceStoreTests/CommandTests.swift → repository root.
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/demo-store.sh").path
    }

    /// Erases `images` (4 MiB regular files it creates in `work`) with the real `ardoise wipe
    /// --image`; the certificates land in `work/data/certificates` and the journal's outbox.
    static func wipe(_ ardoise: String, work: String, images: [String]) throws {
        for name in images {
            #expect(FileManager.default.createFile(atPath: "\(work)/\(name)", contents: nil))
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(work)/\(name)"))
            try handle.truncate(atOffset: 4 << 20)
            try handle.close()
        }
        let result = try StoreExecutable.run(executable: ardoise, ["wipe"] + images.map { "\(work)/\($0)" } + [
            "--image", "--yes", "--profile", "nist-800-88-clear", "--data-dir", "\(work)/data",
            "--output-dir", "\(work)/data/certificates", "--technician", "Zoé", "--lot", "LOT-E2E"])
        try #require(result.status == 0, "ardoise wipe: \(result.error)")
    }

    /// The signed certificates the bench wrote, by id.
    static func certificates(in work: String) throws -> [String: Data] {
        let directory = work + "/data/certificates"
        var found: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasSuffix(".json") {
            found[String(name.dropLast(5))] = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))
        }
        return found
    }

    static func ids(_ items: Any?) -> [String] {
        ((items as? [[String: Any]]) ?? []).compactMap { $0["recordID"] as? String }
    }

    /// `ardoise push` (the bench's own command, the real binary) against the real store on
    /// SQLite, started and stopped by this test by its PID: the certificates come back byte for
    /// byte; with the store stopped the push says `store_unreachable` (exit 96) and keeps the
    /// record; with the store back on the same address it is sent.
    @Test("ardoise push to the real store: stored byte for byte; store stopped → store_unreachable (96); restarted → sent",
          .enabled(if: ardoise != nil, "needs the ardoise binary (swift build --build-tests)"))
    func benchPushAgainstTheRealStore() async throws {
        let ardoise = try #require(Self.ardoise)
        let work = try StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        try Self.wipe(ardoise, work: work, images: ["a.img", "b.img"])
        let firstTwo = try Self.certificates(in: work)
        try #require(firstTwo.count == 2)

        // Enrol the bench's key on the store, as the network's administrator does.
        let export = try StoreExecutable.run(executable: ardoise, ["key", "export-public", "--data-dir", "\(work)/data", "--output", "\(work)/bench.jwk"])
        try #require(export.status == 0, "\(export.error)")
        let database = work + "/store.sqlite"
        let enrol = try StoreExecutable.run(["benches", "add", "--db", database, "--name", "Banc E2E", "--organisation", "Atelier E2E",
                                             "--jwk", "\(work)/bench.jwk", "--token-file", "\(work)/store.token"])
        try #require(enrol.status == 0, "\(enrol.error)")
        var server = try await ServerProcess.start(database: database)
        defer { server.stop() }
        let port = server.port
        let config = work + "/ardoise.toml"
        try """
            [bench]
            id = "banc-e2e"

            [paths]
            data-directory = "\(work)/data"
            control-socket = "\(work)/control.sock"

            [store]
            url = "http://127.0.0.1:\(port)"
            token-file = "\(work)/store.token"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        func push() throws -> (status: Int32, json: [String: Any], text: String) {
            let result = try StoreExecutable.run(executable: ardoise, ["push", "--config", config, "--json"])
            let json = (try? JSONSerialization.jsonObject(with: Data(result.output.utf8))) as? [String: Any]
            return (result.status, json ?? [:], result.output + result.error)
        }

        let first = try push()
        #expect(first.status == 0, "\(first.text)")
        #expect(Set(Self.ids(first.json["sent"])) == Set(firstTwo.keys), "\(first.text)")
        for (id, bytes) in firstTwo {
            let stored = try await HTTP.get(server.baseURL.appendingPathComponent("api/v1/certificates/\(id)"))
            #expect(stored.status == 200)
            #expect(stored.body == bytes, "the store returns the exact bytes the bench signed (\(id))")
        }

        // The store goes away (stopped by its PID); the bench erases one more drive.
        server.stop()
        try Self.wipe(ardoise, work: work, images: ["c.img"])
        let third = try #require(try Self.certificates(in: work).first { firstTwo[$0.key] == nil })
        let down = try push()
        #expect(down.status == 96, "\(down.text)")
        let pending = try #require(down.json["pending"] as? [String: Any], "\(down.text)")
        #expect(pending["code"] as? String == "store_unreachable")
        #expect(pending["count"] as? Int == 1)
        #expect(Self.ids(down.json["sent"]).isEmpty)
        let french = try StoreExecutable.run(executable: ardoise, ["push", "--config", config])
        #expect(french.status == 96)
        #expect(french.output.contains("1 en attente d'envoi") && french.output.contains("store_unreachable"), "\(french.output)")

        // Back on the same address: the waiting certificate goes, byte for byte.
        server = try await ServerProcess.start(database: database, listen: "127.0.0.1:\(port)")
        let back = try push()
        #expect(back.status == 0, "\(back.text)")
        #expect(Self.ids(back.json["sent"]) == [third.key])
        let stored = try await HTTP.get(server.baseURL.appendingPathComponent("api/v1/certificates/\(third.key)"))
        #expect(stored.body == third.value)
        let count = try await HTTP.get(server.baseURL.appendingPathComponent("api/v1/health"))
        #expect(count.status == 200)
    }

    @Test("ardoise wipe --image, then the demo's store step", .enabled(if: ardoise != nil && FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"),
                                                                   "needs the ardoise binary and curl"))
    func wipeThenPush() throws {
        let ardoise = try #require(Self.ardoise), store = try #require(StoreExecutable.path)
        let work = try StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        for name in ["a.img", "b.img"] {
            #expect(FileManager.default.createFile(atPath: "\(work)/\(name)", contents: nil))
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(work)/\(name)"))
            try handle.truncate(atOffset: 4 << 20)
            try handle.close()
        }
        let wipe = Process()
        wipe.executableURL = URL(fileURLWithPath: ardoise)
        wipe.arguments = ["wipe", "\(work)/a.img", "\(work)/b.img", "--image", "--yes", "--profile", "nist-800-88-clear",
                          "--data-dir", "\(work)/data", "--output-dir", "\(work)/data/certificates", "--technician", "Zoé", "--lot", "LOT-E2E"]
        wipe.standardOutput = FileHandle.nullDevice
        wipe.standardError = FileHandle.nullDevice
        try wipe.run()
        wipe.waitUntilExit()
        #expect(wipe.terminationStatus == 0)

        let output = work + "/demo-store.out"
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let demo = Process()
        demo.executableURL = URL(fileURLWithPath: "/bin/bash")
        demo.arguments = [Self.script, ardoise, store, "\(work)/data", work]
        demo.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        demo.standardError = demo.standardOutput
        try demo.run()
        demo.waitUntilExit()
        let text = String(decoding: FileManager.default.contents(atPath: output) ?? Data(), as: UTF8.self)
        #expect(demo.terminationStatus == 0, "\(text)")
        // Sent by `ardoise push`, then again from the journal's backup, then a tampered copy by curl.
        let lines = text.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("201 enregistré      certificate ") }.count == 2, "\(text)")
        #expect(lines.filter { $0.hasPrefix("200 déjà présent    certificate ") }.count == 2, "\(text)")
        #expect(text.contains("2 envoyé(s), 0 déjà présent(s), 0 refusé(s), 0 en attente d'envoi"), "\(text)")
        #expect(text.contains("422 invalid_signature  copie modifiée"), "\(text)")
        #expect(text.contains("✔ Certificat valide"))
        // The script stopped its store and removed its files.
        #expect(!FileManager.default.fileExists(atPath: work + "/store"))
    }
}
