import ArdoiseSupport
import ArdoiseTestSupport
import Certificates
import Foundation
@testable import Inventory
import Journal
import Testing

/// A private data directory per test, removed afterwards.
final class TemporaryDirectory {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-inventory-data-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

@Suite("Signed inventory record and journal")
struct RecordTests {
    @Test("Signed with the bench key, verifiable, stored in the journal with a chained event")
    func signAndStore() throws {
        let tree = try Fixtures.laptop()
        let data = try TemporaryDirectory()
        defer { tree.remove(); data.remove() }
        let inventory = InventoryReader(sysroot: tree.path, hardwareDatabase: NoHardwareDatabase()).read()
        let key = try BenchKey.loadOrCreate(dataDirectory: data.path)
        let journal = try JournalDatabase(dataDirectory: data.path)
        let recorder = InventoryRecorder(key: key, journal: journal, outputDirectory: data.path + "/inventories")
        let id = UUID()
        let signed = try recorder.record(inventory, benchID: "atelier-3", donor: "Mairie de Rennes", lot: "2026-12-A", id: id,
                                         issuedAt: Date(timeIntervalSince1970: 1_800_000_000.7))

        // The JWS: same form as certificates, own content type, the bench key's thumbprint.
        let jws = try JSONDecoder().decode(FlattenedJWS.self, from: signed.document.signedJSON)
        let header = try JSONSerialization.jsonObject(with: Data(base64URL: jws.protected)) as? [String: Any]
        #expect(header?["alg"] as? String == "Ed25519")
        #expect(header?["kid"] as? String == key.thumbprint)
        #expect(header?["cty"] as? String == "ardoise-inventory+json")

        // The payload: record header and the inventory's members at the same level.
        let payload = try #require(try JSONSerialization.jsonObject(with: Data(base64URL: jws.payload)) as? [String: Any])
        #expect(payload["schema"] as? String == "https://ardoise.example/inventory/v1")
        #expect(payload["schemaVersion"] as? Int == 1)
        #expect(payload["id"] as? String == id.uuidString.lowercased())
        #expect(payload["issuedAt"] as? String == "2027-01-15T08:00:00Z")
        #expect(payload["benchID"] as? String == "atelier-3")
        #expect(payload["donor"] as? String == "Mairie de Rennes" && payload["lot"] as? String == "2026-12-A")
        #expect((payload["chassis"] as? [String: Any])?["type"] as? String == "laptop")
        for member in ["system", "memory", "cpus", "drives", "batteries", "screens", "gpus", "networkInterfaces"] {
            #expect(payload[member] != nil, "missing \(member)")
        }

        let verified = try InventoryRecorder.verify(signed.document.signedJSON, key: key.publicJWK)
        #expect(verified.inventory == inventory)
        #expect(verified == signed.payload)

        // A changed byte, or another key: refused.
        var tampered = jws
        tampered.payload = Data(try InventoryJSON.encoder().encode(InventoryPayload(id: id, benchID: "other", inventory: inventory))).base64URL
        let tamperedData = try JSONEncoder().encode(tampered)
        #expect(throws: InventoryError.self) { try InventoryRecorder.verify(tamperedData, key: key.publicJWK) }
        let otherKey = BenchKey(privateKey: .init())
        #expect(throws: InventoryError.self) { try InventoryRecorder.verify(signed.document.signedJSON, key: otherKey.publicJWK) }

        // The file and the journal hold the exact signed bytes.
        let path = try #require(signed.jsonPath)
        #expect(FileManager.default.contents(atPath: path) == signed.document.signedJSON)
        let records = try journal.inventories()
        #expect(records.count == 1)
        let record = try #require(records.first)
        #expect(record.id == id && record.chassisType == "laptop" && record.systemSerial == "PF1ABCDE")
        #expect(record.signedJSON == String(decoding: signed.document.signedJSON, as: UTF8.self))
        #expect(record.summary.hasPrefix("Portable Lenovo ThinkPad T480"))
        #expect(try journal.inventory(id: id) == record)
        #expect(try journal.events().last?.kind == JournalEventKind.inventoryRecorded)
        #expect(try journal.verifyChain().isIntact)
        // The same id twice is refused (records are immutable).
        #expect(throws: (any Error).self) { try recorder.record(inventory, benchID: "atelier-3", id: id) }
        #expect(try journal.inventories().count == 1)
    }

    @Test("The PC sheet: French first, then English, with the signed inventory attached",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/pdftotext"), "poppler-utils not installed"))
    func sheet() throws {
        let tree = try Fixtures.laptop()
        let data = try TemporaryDirectory()
        defer { tree.remove(); data.remove() }
        let inventory = InventoryReader(sysroot: tree.path, hardwareDatabase: NoHardwareDatabase()).read()
        let key = try BenchKey.loadOrCreate(dataDirectory: data.path)
        let signed = try InventoryRecorder(key: key, journal: nil, outputDirectory: nil).record(inventory, benchID: "b1")
        let pdf = try InventorySheet.render(inventory, signed: signed,
                                            driveNotes: ["nvme0n1": LocalizedText(fr: "effacé (certificat x)", en: "erased (certificate x)")])
        let file = data.path + "/sheet.pdf"
        try pdf.write(to: URL(fileURLWithPath: file))
        // Lines wrap in the value column: compare with whitespace collapsed.
        let text = try Shell.run("/usr/bin/pdftotext", [file, "-"]).split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let french = try #require(text.range(of: "Fiche du PC"))
        let english = try #require(text.range(of: "PC sheet"))
        #expect(french.lowerBound < english.lowerBound)
        #expect(text.contains("Portable Lenovo ThinkPad T480 · i5-8350U · 8 Go · SSD 256 Go"))
        #expect(text.contains("Laptop Lenovo ThinkPad T480 · i5-8350U · 8 GB · SSD 256 GB"))
        #expect(text.contains("effacé (certificat x)") && text.contains("erased (certificate x)"))
        #expect(text.contains(signed.document.sha256))
        let attachments = try Shell.run("/usr/bin/pdfdetach", ["-list", file])
        #expect(attachments.contains("inventory-\(signed.payload.id).json"))
    }
}

extension Data {
    init(base64URL text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        self = Data(base64Encoded: base64) ?? Data()
    }

    var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

@Suite("ardoise inventory (the command)")
struct InventoryCommandTests {
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        var environment = ProcessInfo.processInfo.environment
        environment["LANG"] = nil; environment["LC_ALL"] = nil; environment["LC_MESSAGES"] = nil
        let result = try Shell.runCapturing(ArdoiseExecutable.path, arguments, environment: environment)
        return (result.status, result.standardOutput, result.standardError)
    }

    @Test("Table in French by default, English on request; JSON identical in both languages")
    func tableAndJSON() throws {
        let tree = try Fixtures.laptop()
        defer { tree.remove() }
        // A configuration named on the command line must exist (exit 40, like the daemon).
        let missing = try Self.run(["inventory", "--sysroot", tree.path, "--config", tree.path + "/no-config.toml"])
        #expect(missing.status == 40)
        let table = try Self.run(["inventory", "--sysroot", tree.path])
        #expect(table.status == 0, "\(table.error)")
        #expect(table.output.hasPrefix("Portable Lenovo ThinkPad T480 · i5-8350U · 8 Go · SSD 256 Go · écran 14\" · batterie 78 %\n"))
        #expect(table.output.contains("Mémoire") && table.output.range(of: #"ChannelB-DIMM0 +libre"#, options: .regularExpression) != nil)
        let english = try Self.run(["inventory", "--sysroot", tree.path, "--lang", "en"])
        #expect(english.output.hasPrefix("Laptop Lenovo ThinkPad T480 · i5-8350U · 8 GB · SSD 256 GB · screen 14\" · battery 78%\n"))
        let jsonFrench = try Self.run(["inventory", "--sysroot", tree.path, "--json"])
        let jsonEnglish = try Self.run(["inventory", "--sysroot", tree.path, "--json", "--lang", "en"])
        #expect(jsonFrench.status == 0 && jsonFrench.output == jsonEnglish.output)
        let decoded = try InventoryJSON.decoder().decode(HostInventory.self, from: Data(jsonFrench.output.utf8))
        #expect(decoded.chassis.type == .laptop && decoded.batteries.first?.healthPercent == 78)
    }

    @Test("--sign writes the signed JSON, journals it, and --json prints the signed bytes")
    func sign() throws {
        let tree = try Fixtures.desktop()
        let data = try TemporaryDirectory()
        defer { tree.remove(); data.remove() }
        let result = try Self.run(["inventory", "--sysroot", tree.path, "--sign", "--json", "--data-dir", data.path, "--lot", "L-9",
                                   "--output-dir", data.path + "/out", "--pdf", data.path + "/sheet.pdf"])
        #expect(result.status == 0, "\(result.error)")
        let key = try BenchKey.load(path: data.path + "/bench-key.jwk")
        let payload = try InventoryRecorder.verify(Data(result.output.dropLast().utf8), key: key.publicJWK)
        #expect(payload.inventory.chassis.type == .desktop && payload.benchID == "bench-1" && payload.lot == "L-9" && payload.donor == nil)
        let files = try FileManager.default.contentsOfDirectory(atPath: data.path + "/out")
        #expect(files == ["inventory-\(payload.id).json"])
        let journal = try JournalDatabase(dataDirectory: data.path)
        #expect(try journal.inventories().map { $0.id.uuidString.lowercased() } == [payload.id])
        #expect(FileManager.default.fileExists(atPath: data.path + "/sheet.pdf"))
    }

    @Test("A data directory that cannot be used gives the journal's exit status")
    func badDataDirectory() throws {
        let tree = try Fixtures.desktop()
        let data = try TemporaryDirectory()
        defer { tree.remove(); data.remove() }
        FileManager.default.createFile(atPath: data.path + "/file", contents: Data("x".utf8))
        let result = try Self.run(["inventory", "--sysroot", tree.path, "--sign", "--data-dir", data.path + "/file"])
        #expect(result.status == 54)
        #expect(result.error.hasPrefix("Erreur : "))
    }
}

@Suite("The PC sheet's erasure status per drive")
struct ErasureNotesTests {
    @Test("From the journal: certified, erased without certificate, never erased")
    func notes() throws {
        let data = try TemporaryDirectory()
        defer { data.remove() }
        let journal = try JournalDatabase(dataDirectory: data.path)
        func job(_ serial: String, status: JobStatus) throws -> UUID {
            let drive = try journal.recordDrive(DriveRecord(model: "SAMSUNG SSD", serial: serial, sizeInBytes: 256_060_514_304))
            let job = JobRecord(driveID: drive.id, profile: "nist-800-88-clear", technician: "Awa")
            try journal.startJob(job)
            try journal.finishJob(id: job.id, status: status)
            return job.id
        }
        let certified = try job("S1", status: .completed)
        let certificateID = UUID()
        try journal.recordCertificate(CertificateRecord(id: certificateID, jobID: certified, jsonPath: "/x.json", pdfPath: nil,
                                                        signedJSONSHA256: "00", status: "erased"), signedJSON: "{}")
        _ = try job("S2", status: .interrupted)
        let drives = ["S1", "S2", "S3"].enumerated().map { index, serial in
            DriveInfo(name: "sd\(["a", "b", "c"][index])", model: "SAMSUNG SSD", serial: serial, sizeBytes: 256_060_514_304,
                      transport: "sata", media: "ssd", removable: false)
        }
        let notes = InventorySheet.erasureNotes(drives, journal: journal)
        #expect(notes["sda"]?.french == "effacé (certificat \(certificateID.uuidString.lowercased()))")
        #expect(notes["sdb"]?.english == "erasure without certificate (interrupted)")
        #expect(notes["sdc"]?.french == "pas d'effacement enregistré")
    }
}

/// Independent checks of the signed record: docs/inventory.schema.json (python-jsonschema)
/// and a second JOSE implementation (joserfc), as the certificate tests do.
@Suite("Signed inventory against the documented schema and joserfc")
struct SchemaTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    /// The python3 on PATH (where scripts/python-deps.sh installed the modules).
    static var python: String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/python3" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func hasPython(_ modules: String...) -> Bool {
        guard let python else { return false }
        return (try? Shell.runCapturing(python, ["-c", "import " + modules.joined(separator: ", ")]).status) == 0
    }

    @Test(.enabled(if: hasPython("jsonschema", "joserfc", "cryptography"), "needs python3 with jsonschema and joserfc (scripts/python-deps.sh)"))
    func everyFixtureFollowsTheSchemaAndVerifiesWithJoserfc() throws {
        let data = try TemporaryDirectory()
        defer { data.remove() }
        let key = try BenchKey.loadOrCreate(dataDirectory: data.path)
        try key.publicJWK.jsonData().write(to: URL(fileURLWithPath: data.path + "/key.jwk"))
        let trees = [try Fixtures.laptop(), try Fixtures.desktop(), try Fixtures.virtualMachine(), try Fixtures.chargeBattery(),
                     try Fixtures.brokenEDID().tree, try FixtureTree("empty")]
        defer { for tree in trees { tree.remove() } }
        var files: [String] = []
        for (index, tree) in trees.enumerated() {
            var inventory = InventoryReader(sysroot: tree.path, hardwareDatabase: FixtureHardwareDatabase()).read()
            if index == 0 {
                // The member the Diagnostics module fills, in the certificate's shape.
                inventory.drives[0].health = DriveHealth(verdict: "reuse", reasons: [], powerOnHours: 5123,
                                                                policyVersion: "2026.1", checkedAt: Date(timeIntervalSince1970: 1_800_000_000))
            }
            let signed = try InventoryRecorder(key: key, journal: nil, outputDirectory: nil)
                .record(inventory, benchID: "b\(index)", donor: index == 0 ? "Mairie" : nil, lot: index == 0 ? "L1" : nil)
            let path = data.path + "/\(index).json"
            try signed.document.signedJSON.write(to: URL(fileURLWithPath: path))
            files.append(path)
        }
        let script = """
        import json, sys, base64
        import jsonschema
        from joserfc import jws
        from joserfc.jwk import OKPKey
        schema = json.load(open(sys.argv[1]))
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
        key = OKPKey.import_key(json.load(open(sys.argv[2])))
        for path in sys.argv[3:]:
            obj = jws.deserialize_json(json.load(open(path)), key, algorithms=["Ed25519"])
            assert obj.headers()["cty"] == "ardoise-inventory+json", obj.headers()
            doc = json.loads(obj.payload)
            validator.validate(doc)
            bad = json.loads(obj.payload); bad["chassis"]["type"] = "notebook"
            assert not validator.is_valid(bad), path
            bad = json.loads(obj.payload); del bad["schema"]
            assert not validator.is_valid(bad), path
        print("inventory-schema-ok", len(sys.argv) - 3)
        """
        let result = try Shell.runCapturing(try #require(Self.python), ["-c", script, Self.repositoryRoot + "/docs/inventory.schema.json",
                                                          data.path + "/key.jwk"] + files)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("inventory-schema-ok \(files.count)"))
    }
}
