import Foundation
import Testing
@testable import Certificates
@testable import TraceStore

/// The donor page `/c/{id}` as a person sees it: rendered by headless Chromium (Debian's
/// `chromium`), text read from the DOM it built, and a phone-sized screenshot kept in
/// `ARDOISE_TEST_ARTIFACTS` (make test prints that directory).
@Suite("Donor pages", .serialized)
struct PageTests {
    static var chromium: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Where a test's screenshots go: `$ARDOISE_TEST_ARTIFACTS/store-pages` (kept: make test
    /// prints it), else a temporary directory of the test's own, removed by `remove()`.
    struct Artifacts {
        let path: String
        private let temporary: String?

        init() throws {
            if let base = ProcessInfo.processInfo.environment["ARDOISE_TEST_ARTIFACTS"].flatMap({ $0.isEmpty ? nil : $0 }) {
                temporary = nil
                path = base + "/store-pages"
            } else {
                let directory = try StoreFixture.temporaryDirectory()
                temporary = directory
                path = directory + "/store-pages"
            }
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }

        func remove() {
            if let temporary { try? FileManager.default.removeItem(atPath: temporary) }
        }
    }

    /// Runs Chromium on `url` and returns the serialized DOM; also writes a 412×1600 screenshot
    /// (a phone's width) to `screenshot` when given. Chromium is stopped by its exact PID if
    /// it has not exited after 90 s.
    static func browse(_ url: URL, screenshot: String? = nil) throws -> String {
        let chromium = try #require(chromium, "Debian's chromium is not installed")
        let profile = try StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: profile) }
        func run(_ arguments: [String]) throws -> Data {
            let output = profile + "/out-\(UUID().uuidString)"
            _ = FileManager.default.createFile(atPath: output, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: chromium)
            // A French donor's phone: Accept-Language fr.
            process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars", "--accept-lang=fr-FR,fr",
                                 "--user-data-dir=\(profile)/profile"] + arguments + [url.absoluteString]
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            process.standardError = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(90)
            while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                Issue.record("chromium did not finish within 90 s")
            }
            return FileManager.default.contents(atPath: output) ?? Data()
        }
        let dom = String(decoding: try run(["--dump-dom"]), as: UTF8.self)
        if let screenshot {
            _ = try run(["--screenshot=\(screenshot)", "--window-size=412,1600"])
            #expect(FileManager.default.fileExists(atPath: screenshot), "no screenshot at \(screenshot)")
            print("store page screenshot: \(screenshot)")
        }
        return dom
    }

    /// The visible text of an element by id (tags removed, entities kept as Chromium wrote them).
    static func text(of id: String, in dom: String) -> String? {
        guard let start = dom.range(of: "id=\"\(id)\"") else { return nil }
        let rest = dom[start.upperBound...]
        guard let open = rest.firstIndex(of: ">") else { return nil }
        var depth = 0, text = "", inTag = false, index = rest.index(after: open)
        while index < rest.endIndex {
            let character = rest[index]
            if character == "<" {
                inTag = true
                let next = rest[rest.index(after: index)...]
                if next.hasPrefix("/") { if depth == 0 { break }; depth -= 1 } else { depth += 1 }
            } else if character == ">" {
                inTag = false
                if rest[..<index].hasSuffix("/") { depth -= 1 }
            } else if !inTag {
                text.append(character)
            }
            index = rest.index(after: index)
        }
        return text
    }

    @Test("a pushed certificate: valid, what was erased, how, when, by whom", .enabled(if: chromium != nil, "Debian's chromium is not installed"))
    func validCertificate() async throws {
        let database = try await TestDatabase.make(.sqlite)
        let storage = try database.open()
        try await storage.migrate()
        let (_, token) = try await TraceStoreService(storage: storage).enrol(
            name: "Atelier de Rennes", organisation: "Ordi Grand Ouest", publicJWK: StoreFixture.key.publicJWK)
        let store = try await RunningStore.start(storage: storage)
        defer { Task { await store.stop(); await storage.close(); await database.remove() } }
        let artifacts = try Artifacts()
        defer { artifacts.remove() }

        let id = UUID().uuidString.lowercased()
        let certificate = try StoreFixture.certificate(id: UUID(uuidString: id)!)
        #expect(try await HTTP.push(store.baseURL, token: token, body: certificate).status == 201)
        let sha = StoreFixture.sha256(certificate)

        let url = URL(string: "\(store.baseURL.absoluteString)/c/\(id)?h=\(sha)")!
        let dom = try await Task.detached { try Self.browse(url, screenshot: artifacts.path + "/certificate-valid.png") }.value
        let verdict = try #require(Self.text(of: "verdict", in: dom))
        #expect(verdict.contains("Certificat valide"))
        let facts = try #require(Self.text(of: "facts", in: dom))
        #expect(facts.contains("WDC WD5000AAKX-00ERMA0"))             // what
        #expect(facts.contains("WD-WCC4N7KZ1234"))
        #expect(facts.contains("nist-800-88-clear"))                  // how
        #expect(facts.contains("1 passe(s), vérification réussie"))
        #expect(facts.contains("21/09/2026"))                          // when
        #expect(facts.contains("Atelier Réemploi Solidaire"))         // which organisation
        #expect(facts.contains("Atelier de Rennes"))                  // which bench
        #expect(facts.contains("Effacé") || facts.contains("EFFACÉ") || facts.contains("effacé"))
        let reasons = try #require(Self.text(of: "reasons", in: dom))
        #expect(reasons.contains("identique à celui reçu"))
        #expect(!dom.contains("<script"))

        // English on request.
        let english = try await HTTP.get(URL(string: "\(store.baseURL.absoluteString)/c/\(id)?lang=en")!)
        #expect(english.text.contains("Valid certificate"))
        // The page forbids scripts outright.
        #expect(english.headers["content-security-policy"]?.contains("default-src 'none'") == true)
    }

    @Test("a forged certificate: unknown to the store, or not the bytes the store holds", .enabled(if: chromium != nil, "Debian's chromium is not installed"))
    func forgedCertificate() async throws {
        let database = try await TestDatabase.make(.sqlite)
        let storage = try database.open()
        try await storage.migrate()
        let (_, token) = try await TraceStoreService(storage: storage).enrol(
            name: "Atelier de Rennes", organisation: "Ordi Grand Ouest", publicJWK: StoreFixture.key.publicJWK)
        let store = try await RunningStore.start(storage: storage)
        defer { Task { await store.stop(); await storage.close(); await database.remove() } }
        let artifacts = try Artifacts()
        defer { artifacts.remove() }

        // Forged by someone holding another key: the store refuses it, so its page says unknown.
        let forgedID = UUID().uuidString.lowercased()
        let forged = try StoreFixture.certificate(id: UUID(uuidString: forgedID)!, key: StoreFixture.key(seed: 66))
        #expect(try await HTTP.push(store.baseURL, token: token, body: forged).status == 403)
        let unknownURL = URL(string: "\(store.baseURL.absoluteString)/c/\(forgedID)?h=\(StoreFixture.sha256(forged))")!
        let unknownDOM = try await Task.detached { try Self.browse(unknownURL, screenshot: artifacts.path + "/certificate-unknown.png") }.value
        #expect(try #require(Self.text(of: "verdict", in: unknownDOM)).contains("Certificat inconnu"))
        #expect(try #require(Self.text(of: "reasons", in: unknownDOM)).contains("n'a été reçu par ce registre"))

        // A genuine id printed on a forged paper (other serial number, so other bytes and hash).
        let id = UUID()
        #expect(try await HTTP.push(store.baseURL, token: token, body: try StoreFixture.certificate(id: id)).status == 201)
        let paper = try StoreFixture.certificate(id: id, serial: "FORGED-0001", key: StoreFixture.key(seed: 66))
        let paperURL = URL(string: "\(store.baseURL.absoluteString)/c/\(id.uuidString.lowercased())?h=\(StoreFixture.sha256(paper))")!
        let paperDOM = try await Task.detached { try Self.browse(paperURL, screenshot: artifacts.path + "/certificate-forged.png") }.value
        #expect(try #require(Self.text(of: "verdict", in: paperDOM)).contains("Certificat NON valide"))
        #expect(try #require(Self.text(of: "reasons", in: paperDOM)).contains("modifié ou contrefait"))
        #expect(try #require(Self.text(of: "facts-title", in: paperDOM)).contains("certificat authentique enregistré"))
    }

    @Test("a stored row altered in the database is shown as not valid")
    func alteredRow() async throws {
        let database = try await TestDatabase.make(.sqlite)
        let storage = try database.open()
        try await storage.migrate()
        let service = TraceStoreService(storage: storage)
        let (bench, token) = try await service.enrol(name: "Atelier de Rennes", organisation: "Ordi Grand Ouest", publicJWK: StoreFixture.key.publicJWK)
        let id = UUID()
        _ = try await service.push(authorization: "Bearer \(token)", body: try StoreFixture.certificate(id: id))
        await storage.close()
        // Someone with database access swaps in a certificate of another key for the same id.
        let swapped = try StoreFixture.certificate(id: id, serial: "SWAPPED", key: StoreFixture.key(seed: 5))
        let sql = try (SQLiteTestAccess.replaceBody(path: database.location, id: id.uuidString.lowercased(), body: swapped))
        #expect(sql == 1)
        let reopened = try database.open()
        let check = try await StorePages.check(id: id.uuidString, storage: reopened, expectedSHA256: nil)
        #expect(check.state == .invalid)
        #expect(check.bench == bench)
        let page = StorePages().certificatePage(check, id: id.uuidString.lowercased(), language: .french)
        #expect(page.contains("Certificat NON valide"))
        await reopened.close()
        await database.remove()
    }
}

import GRDB

/// Direct writes to a test's SQLite file (to simulate tampering behind the store's back).
enum SQLiteTestAccess {
    static func replaceBody(path: String, id: String, body: Data) throws -> Int {
        let queue = try DatabaseQueue(path: path)
        return try queue.write { db in
            try db.execute(sql: "UPDATE records SET body = ? WHERE id = ?", arguments: [body, id])
            return db.changesCount
        }
    }
}
