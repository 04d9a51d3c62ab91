import ArdoiseTestSupport
import Foundation
import Sanitize
import Testing

/// `--json` is for programs: the same bytes whatever `--lang`, apart from the members named
/// `label`/`…Label(s)`/`…-label(s)` that carry words for people (issue 11, item 2;
/// docs/json-codes.md). Each command runs under `--lang fr` and `--lang en`.
@Suite struct JSONLanguageTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("DeviceKitTests/Fixtures")

    /// Whether a member holds words for people.
    static func isLabel(_ key: String) -> Bool {
        let lower = key.lowercased()
        return lower.hasSuffix("label") || lower.hasSuffix("labels")
    }

    /// The value with every label member removed (recursively), and the labels found.
    static func stripped(_ value: Any, labels: inout [String]) -> Any {
        if let object = value as? [String: Any] {
            var result: [String: Any] = [:]
            for (key, member) in object {
                if isLabel(key) { labels.append(key) } else { result[key] = stripped(member, labels: &labels) }
            }
            return result
        }
        if let array = value as? [Any] { return array.map { stripped($0, labels: &labels) } }
        return value
    }

    static func canonical(_ value: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
    }

    /// Runs `arguments` under both languages; returns both outputs parsed, after checking they
    /// are identical without labels. `lines`: one JSON document per line.
    @discardableResult
    func expectSameWithoutLabels(_ arguments: [String], status: Int32 = 0, lines: Bool = false,
                                 normalize: (Any) -> Any = { $0 }) throws -> (french: Any, english: Any, labels: [String]) {
        var parsed: [Any] = []
        var labels: [String] = []
        for lang in ["fr", "en"] {
            let result = try ArdoiseBinary.run(arguments + ["--lang", lang])
            #expect(result.status == status, "\(arguments) --lang \(lang): \(result.error)")
            let documents = lines ? result.output.split(separator: "\n").map(String.init) : [result.output]
            let values = try documents.map { try JSONSerialization.jsonObject(with: Data($0.utf8), options: .fragmentsAllowed) }
            parsed.append(lines ? values : values[0])
        }
        let french = try Self.canonical(normalize(Self.stripped(parsed[0], labels: &labels)))
        let english = try Self.canonical(normalize(Self.stripped(parsed[1], labels: &labels)))
        #expect(french == english, "\(arguments): --json differs between languages beyond labels\nfr: \(french)\nen: \(english)")
        return (parsed[0], parsed[1], labels)
    }

    @Test(arguments: ["sata-hdd", "nvme-ssd", "usb-stick"])
    func listCarriesCodes(tree: String) throws {
        let (french, english, labels) = try expectSameWithoutLabels(
            ["list", "--json", "--sysroot", Self.fixtures.appendingPathComponent(tree).path])
        let device = try #require(((french as? [String: Any])?["blockdevices"] as? [[String: Any]])?.first)
        #expect(["wipeable", "protected"].contains(device["verdict"] as? String ?? ""))
        #expect(labels.contains("verdict-label") && labels.contains("reason-labels"))
        // The labels do follow the language.
        let englishDevice = try #require(((english as? [String: Any])?["blockdevices"] as? [[String: Any]])?.first)
        #expect(device["verdict-label"] as? String != englishDevice["verdict-label"] as? String)
        #expect(englishDevice["verdict-label"] as? String == englishDevice["verdict"] as? String)
    }

    @Test func profilesCarryCodes() throws {
        let (french, _, labels) = try expectSameWithoutLabels(["profiles", "--json"])
        let profiles = try #require(french as? [[String: Any]])
        #expect(profiles.contains { $0["name"] as? String == "zero" && $0["nistCategory"] as? String == "clear" })
        #expect(labels.contains("titleLabel"))
    }

    @Test func identifyFromADumpCarriesCodes() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-identify-\(UUID().uuidString).bin")
        try Data(SimulatedAtaDrive.makeIdentify(.hardDisk())).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let (french, _, _) = try expectSameWithoutLabels(["identify", "--from-file", file.path, "--device-type", "sat", "--json"])
        #expect((french as? [String: Any])?["deviceType"] as? String == "sat")
    }

    @Test(arguments: ["ata-sanitize-crypto", "nvme-sanitize-block"])
    func aSanitizeDryRunResultCarriesCodes(method: String) throws {
        let type = method.hasPrefix("nvme") ? "nvme" : "sat"
        let (french, _, _) = try expectSameWithoutLabels(["sanitize", "/dev/ardoise-simulated", "--method", method,
                                                          "--device-type", type, "--dry-run", "--json"])
        #expect((french as? [String: Any])?["method"] as? String == method)
    }

    /// A real `ardoise sanitize --yes --json` — not a dry run — on a simulated ATA SSD whose
    /// media is a file (`ardoise-testbed` with `ARDOISE_TEST_SIMULATED_DRIVE`: the same flow,
    /// owner lock, journal and certificate as on a claimed drive). The result line is the same
    /// in both languages apart from labels and what each run makes anew (job id, file paths).
    @Test func aRealSanitizeOnASimulatedDriveCarriesCodes() throws {
        let testbed = URL(fileURLWithPath: ArdoiseBinary.path).deletingLastPathComponent().appendingPathComponent("ardoise-testbed").path
        try #require(FileManager.default.isExecutableFile(atPath: testbed), "ardoise-testbed is not built (swift build --build-tests)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-json-sanitize-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let media = directory.appendingPathComponent("media.img")
        var lines: [String: [String: Any]] = [:]
        var labels: [String] = []
        for lang in ["fr", "en"] {
            // "User data" (never zero), the same in both runs, on the same path.
            var generator = SplitMix64(seed: 11)
            var bytes = [UInt8](repeating: 0, count: 16 << 20)
            bytes.withUnsafeMutableBytes { raw in
                for index in 0..<(raw.count / 8) {
                    raw.storeBytes(of: generator.next() | 0x0101_0101_0101_0101, toByteOffset: index * 8, as: UInt64.self)
                }
            }
            FileManager.default.createFile(atPath: media.path, contents: Data(bytes))
            var environment = ProcessInfo.processInfo.environment
            environment["ARDOISE_TEST_SIMULATED_DRIVE"] = media.path
            environment["LANG"] = nil
            environment["LC_ALL"] = nil
            let data = directory.appendingPathComponent("data-\(lang)").path
            let result = try Shell.runCapturing(testbed, ["sanitize", "/dev/ardoise-simulated", "--method", "ata-sanitize-crypto",
                                                          "--device-type", "sat", "--yes", "--json", "--data-dir", data,
                                                          "--technician", "T", "--lot", "L", "--lang", lang], environment: environment)
            #expect(result.status == 0, "--lang \(lang): \(result.standardError)")
            let line = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any],
                                    "\(result.standardOutput)\n\(result.standardError)")
            #expect(line["outcome"] as? String == "purged", "\(line)")
            #expect(line["certificateStatus"] as? String == "erased", "\(line)")
            #expect(line["method"] as? String == "ata-sanitize-crypto")
            #expect((line["jobID"] as? String)?.isEmpty == false)
            #expect((line["certificate"] as? String).map { FileManager.default.fileExists(atPath: $0) } == true)
            // The media changed: the simulated drive's crypto scramble reached the file.
            #expect(FileManager.default.contents(atPath: media.path) != Data(bytes))
            lines[lang] = line
        }
        let french = try #require(lines["fr"]), english = try #require(lines["en"])
        #expect(french["reasonLabel"] as? String != english["reasonLabel"] as? String, "the label follows the language")
        let perRun: Set<String> = ["jobID", "certificate", "pdf"]
        let frenchCodes = try Self.canonical((Self.stripped(french, labels: &labels) as! [String: Any]).filter { !perRun.contains($0.key) })
        let englishCodes = try Self.canonical((Self.stripped(english, labels: &labels) as! [String: Any]).filter { !perRun.contains($0.key) })
        #expect(frenchCodes == englishCodes, "sanitize --json differs between languages beyond labels\nfr: \(frenchCodes)\nen: \(englishCodes)")
        #expect(labels.contains("reasonLabel"))
    }

    /// A wipe of an image with `--json` lines, then `journal jobs` and `cert verify` on what it wrote.
    @Test func wipeJournalJobsAndCertVerifyCarryCodes() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-json-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data").path
        // Same image path in both runs (recreated), so the lines may be compared whole.
        let image = directory.appendingPathComponent("disk.img")
        var events: [[String: Any]] = []
        for lang in ["fr", "en"] {
            FileManager.default.createFile(atPath: image.path, contents: Data(repeating: 0x5A, count: 4 << 20))
            let result = try ArdoiseBinary.run(["wipe", image.path, "--image", "--yes", "--profile", "zero", "--json",
                                                "--data-dir", data, "--technician", "T", "--lot", "L", "--lang", lang])
            #expect(result.status == 0, "\(result.error)")
            // Progress lines depend on timing; the events that say what happened do not.
            let lines = try result.output.split(separator: "\n")
                .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                .filter { $0["event"] as? String != "progress" }
            var labels: [String] = []
            let kept = lines.map { line in
                // Measured figures and the new certificate's paths differ from run to run.
                (Self.stripped(line, labels: &labels) as! [String: Any])
                    .filter { !($0.value is NSNumber) && !["json", "pdf"].contains($0.key) || $0.key == "succeeded" }
            }
            events.append(contentsOf: kept.map { $0.merging(["lang": lang]) { $1 } })
            let finished = try #require(lines.first { $0["event"] as? String == "job-finished" })
            #expect(finished["status"] as? String == "completed")
            #expect(finished["statusLabel"] as? String == (lang == "fr" ? "effacé" : "erased"))
        }
        let french = try events.filter { $0["lang"] as? String == "fr" }.map { try Self.canonical($0.filter { $0.key != "lang" }) }
        let english = try events.filter { $0["lang"] as? String == "en" }.map { try Self.canonical($0.filter { $0.key != "lang" }) }
        #expect(!french.isEmpty && french == english)

        let (jobs, _, _) = try expectSameWithoutLabels(["journal", "jobs", "--json", "--data-dir", data])
        let rows = try #require(jobs as? [[String: Any]])
        #expect(rows.count == 2 && rows.allSatisfy { $0["status"] as? String == "completed" })
        let certificate = try #require(rows.first?["certificate"] as? String)
        let (verified, _, labels) = try expectSameWithoutLabels(["cert", "verify", certificate, "--json", "--data-dir", data])
        #expect((verified as? [String: Any])?["verdict"] as? String == "valid")
        #expect(labels.contains("verdictLabel"))
    }

    /// `check --json` on a loop device this test attaches (root only).
    @Test(.enabled(if: LoopDevice.isAvailable, "needs root to attach loop devices"))
    func checkCarriesCodes() throws {
        let loop = try LoopDevice(sizeInBytes: 8 << 20)
        defer { loop.detach() }
        // Without --allow-virtual a loop device is protected: status 13, reasons as codes.
        let (french, _, labels) = try expectSameWithoutLabels(["check", loop.path, "--json"], status: 13)
        let object = try #require(french as? [String: Any])
        #expect(object["verdict"] as? String == "protected")
        #expect((object["reasonCodes"] as? [String])?.isEmpty == false)
        #expect(labels.contains("verdictLabel") && labels.contains("reasonLabels"))
    }

    /// `status --json` of a running daemon (root only: the daemon needs it).
    @Test(.enabled(if: LoopDevice.isAvailable, "needs root to run the daemon"))
    func statusIsTheSameInBothLanguages() throws {
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, policy: "manual")
        defer { harness.cleanUp() }
        try harness.start()
        // Other benches' loop devices come and go on a shared machine: compare the other drives.
        func ownDrives(_ value: Any) -> Any {
            guard var object = value as? [String: Any] else { return value }
            object["takenAt"] = nil  // taken at each request
            object["slots"] = (object["slots"] as? [[String: Any]])?.filter { !(($0["device"] as? String) ?? "").hasPrefix("/dev/loop") }
            return object
        }
        // `start()` returns once the daemon says it is ready, after its start-up scan; the
        // bench's changes are followed anyway until every whole disk with a medium that `list`
        // sees (other than loop devices) has its slot.
        let listed = try JSONSerialization.jsonObject(with: Data(Shell.run(ArdoiseExecutable.path, ["list", "--json"]).utf8)) as? [String: Any]
        let expected = Set(((listed?["blockdevices"] as? [[String: Any]]) ?? [])
            .filter { ($0["size"] as? Int ?? 0) > 0 }.compactMap { $0["path"] as? String }.filter { !$0.hasPrefix("/dev/loop") })
        try harness.watch(timeout: 30) { snapshot in
            expected.isSubset(of: Set(((snapshot["slots"] as? [[String: Any]]) ?? []).compactMap { $0["device"] as? String }))
        }
        let (snapshot, _, _) = try expectSameWithoutLabels(["status", "--json", "--socket", harness.socketPath], normalize: ownDrives)
        // A protected drive (this machine's own disk, when the daemon sees one) says why in codes.
        let slots = ((snapshot as? [String: Any])?["slots"] as? [[String: Any]]) ?? []
        for slot in slots where slot["state"] as? String == "protected" {
            #expect((slot["reasonCodes"] as? [String])?.isEmpty == false, "\(slot)")
        }
    }
}
