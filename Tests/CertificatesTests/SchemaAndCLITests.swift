import Foundation
import Journal
import Testing
@testable import Certificates

@Suite struct SchemaAndCLITests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// Every status case of `StatusTests` validates against docs/certificate.schema.json
    /// (python-jsonschema, draft 2020-12), and a broken payload does not.
    @Test(.enabled(if: Fixture.hasPython("jsonschema"), "needs python3 with jsonschema (pip install jsonschema)"))
    func payloadsFollowTheDocumentedSchema() throws {
        let python = try #require(Fixture.tool("python3"))
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var files: [String] = []
        for (index, entry) in StatusTests.cases.enumerated() {
            let signed = try Fixture.signed(entry.1)
            let path = directory + "/\(index).json"
            try Data(Base64URL.decode(signed.jws.payload)!).write(to: URL(fileURLWithPath: path))
            files.append(path)
        }
        let script = """
        import json, sys, jsonschema
        schema = json.load(open(sys.argv[1]))
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
        for path in sys.argv[2:]:
            doc = json.load(open(path))
            validator.validate(doc)
            doc["result"]["status"] = "erased" if doc["result"]["exceptions"] else "not_erased"
            assert not validator.is_valid(doc), path
            del doc["media"]["serial"]
            assert not validator.is_valid(doc), path
        print("schema-ok", len(sys.argv) - 2)
        """
        let result = try Fixture.run(python, ["-c", script, Self.repositoryRoot + "/docs/certificate.schema.json"] + files)
        #expect(result.status == 0, "\(result.error)")
        #expect(String(decoding: result.output, as: UTF8.self).contains("schema-ok \(files.count)"))
    }

    /// `ardoise cert verify` exit statuses: 0 valid, 2 tampered, 3 unknown key, 4 malformed,
    /// 5 unreadable; `key show` and `cert show` work on a fresh data directory.
    @Test(.enabled(if: Fixture.ardoise() != nil, "needs the ardoise executable next to the tests (swift build)"))
    func cliVerdictsAndExitStatuses() throws {
        let ardoise = try #require(Fixture.ardoise())
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = directory + "/data"
        let keyShow = try Fixture.run(ardoise, ["key", "show", "--data-dir", data, "--json"])
        #expect(keyShow.status == 0, "\(keyShow.error)")
        let key = try BenchKey.load(path: data + "/" + BenchKey.fileName)
        #expect(String(decoding: keyShow.output, as: UTF8.self).contains(key.thumbprint))
        #expect(try Fixture.run(ardoise, ["key", "export-public", "--data-dir", data, "--output", directory + "/bench.jwk"]).status == 0)
        #expect(try TrustedKeys.load(path: directory + "/bench.jwk") == [key.publicJWK])

        let journal = try JournalDatabase(dataDirectory: data)
        let input = Fixture.input()
        try journal.startJob(JobRecord(id: input.jobID, driveID: nil, profile: input.profile, technician: "t"))
        try journal.finishJob(id: input.jobID, status: .completed)
        let issued = try CertificateIssuer(key: key, outputDirectory: directory + "/out", journal: journal).issue(input)

        func verify(_ arguments: [String]) throws -> Int32 { try Fixture.run(ardoise, ["cert", "verify"] + arguments).status }
        #expect(try verify([issued.jsonPath, "--data-dir", data]) == 0)
        #expect(try verify([issued.pdfPath, "--key", directory + "/bench.jwk"]) == 0)
        #expect(try verify([issued.pdfPath, "--data-dir", directory + "/elsewhere"]) == 3)
        try Fixture.otherKey.publicJWK.jsonData().write(to: URL(fileURLWithPath: directory + "/other.jwk"))
        #expect(try verify([issued.jsonPath, "--trusted-keys", directory + "/other.jwk", "--data-dir", directory + "/elsewhere"]) == 3)

        var tampered = [UInt8](try Data(contentsOf: URL(fileURLWithPath: issued.jsonPath)))
        tampered[40] = tampered[40] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        try Data(tampered).write(to: URL(fileURLWithPath: directory + "/tampered.json"))
        #expect(try verify([directory + "/tampered.json", "--data-dir", data]) == 2)
        try Data(tampered.prefix(100)).write(to: URL(fileURLWithPath: directory + "/truncated.json"))
        #expect(try verify([directory + "/truncated.json", "--data-dir", data]) == 4)
        #expect(try verify([directory + "/missing.json", "--data-dir", data]) == 5)

        let show = try Fixture.run(ardoise, ["cert", "show", issued.pdfPath, "--data-dir", data, "--lang", "en"])
        let text = String(decoding: show.output, as: UTF8.self)
        #expect(show.status == 0, "\(show.error)")
        #expect(text.contains("ERASED") && text.contains(input.media.serial) && text.contains("VALID"))

        let json = try Fixture.run(ardoise, ["cert", "verify", issued.pdfPath, "--data-dir", data, "--json"])
        let object = try JSONSerialization.jsonObject(with: json.output) as? [String: Any]
        #expect(object?["verdict"] as? String == "valid")
        #expect(object?["signedJSONSHA256"] as? String == issued.signed.sha256)

        let lot = try Fixture.run(ardoise, ["cert", "lot", issued.jsonPath, "--output", directory + "/lot.pdf", "--data-dir", data])
        #expect(lot.status == 0, "\(lot.error)")
        #expect(FileManager.default.fileExists(atPath: directory + "/lot.pdf"))

        let journalVerify = try Fixture.run(ardoise, ["journal", "verify", "--data-dir", data])
        #expect(journalVerify.status == 0, "\(journalVerify.error)")
        try FileManager.default.createDirectory(atPath: directory + "/notdb", withIntermediateDirectories: true)
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: directory + "/notdb/" + JournalDatabase.fileName))
        let notDatabase = try Fixture.run(ardoise, ["journal", "verify", "--data-dir", directory + "/notdb"])
        #expect(notDatabase.status == JournalError(code: .notADatabase, message: .init(fr: "", en: "")).exitStatus)
        #expect(notDatabase.error.contains("SQLite"))
    }
}
