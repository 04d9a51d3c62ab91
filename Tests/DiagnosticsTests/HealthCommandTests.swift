import ArdoiseTestSupport
import Foundation
import Testing

/// `ardoise health` as a technician runs it: the built binary, its output and exit status.
@Suite struct HealthCommandTests {
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String, error: String) {
        var env = ProcessInfo.processInfo.environment
        env["LANG"] = nil
        env["LC_ALL"] = nil
        env["LC_MESSAGES"] = nil
        env.merge(environment) { $1 }
        let result = try Shell.runCapturing(ArdoiseExecutable.path, ["health"] + arguments, environment: env)
        return (result.status, result.standardOutput, result.standardError)
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test(arguments: [("ata-hdd-healthy.json", Int32(0), "reuse"), ("ata-crc-only.json", 85, "caution"),
                      ("ata-hdd-failing.json", 86, "discard"), ("usb-bridge-refused.json", 87, "unknown")])
    func smartFromGivesVerdictAndExitStatus(file: String, status: Int32, verdict: String) throws {
        let result = try Self.run(["--smart-from", Fixture.path(file), "--json"])
        #expect(result.status == status, "\(result.error)")
        let object = try Self.json(result.output)
        #expect(object["verdict"] as? String == verdict)
        #expect((object["source"] as? [String: Any])?["kind"] as? String == "file")
    }

    @Test func textIsFrenchByDefaultAndEnglishOnRequest() throws {
        let french = try Self.run(["--smart-from", Fixture.path("ata-hdd-failing.json")])
        #expect(french.status == 86)
        #expect(french.output.contains("Verdict : à détruire"))
        #expect(french.output.contains("secteurs réalloués (ATA 5 Reallocated_Sector_Ct) : 2472 (seuil 100)"))
        let english = try Self.run(["--smart-from", Fixture.path("ata-hdd-failing.json"), "--lang", "en"])
        #expect(english.output.contains("Verdict: discard"))
        #expect(english.output.contains("reallocated sectors (ATA 5 Reallocated_Sector_Ct): 2472 (threshold 100)"))
        // JSON is the same whatever the language, but for the check time.
        let jsonFrench = try Self.json(try Self.run(["--smart-from", Fixture.path("nvme-worn.json"), "--json"]).output)
        let jsonEnglish = try Self.json(try Self.run(["--smart-from", Fixture.path("nvme-worn.json"), "--json", "--lang", "en"]).output)
        #expect(jsonFrench["reasons"] as? [[String: AnyHashable]] == jsonEnglish["reasons"] as? [[String: AnyHashable]])
    }

    @Test func anInvalidPolicyIsRefusedWithFileLineAndField() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-cli-policy-\(UUID().uuidString).toml").path
        FileManager.default.createFile(atPath: path, contents: Data("schema = 1\nname = \"x\"\nversion = \"1\"\n[smart]\noverall-failed = \"maybe\"\n".utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try Self.run(["--smart-from", Fixture.path("ata-hdd-healthy.json"), "--policy", path, "--lang", "en"])
        #expect(result.status == 88)
        #expect(result.error == "Error: \(path):5: field 'smart.overall-failed': unknown 'maybe'; expected ignore, caution or discard\n")
    }

    @Test func badArgumentsAreUsageErrors() throws {
        #expect(try Self.run([]).status == 64)
        #expect(try Self.run(["--smart-from", "x.json", "--surface"]).status == 64)
        #expect(try Self.run(["/dev/sda", "--device-type", "sat;reboot"]).status == 64)
        #expect(try Self.run(["/dev/sda", "--self-test", "medium"]).status == 64)
    }

    @Test(.enabled(if: LoopDevice.isAvailable, "needs root and losetup"))
    func aLoopDeviceIsUnknownAndItsSurfaceIsScanned() throws {
        let loop = try LoopDevice(sizeInBytes: 16 << 20, fill: 0x11)
        defer { loop.detach() }
        let result = try Self.run([loop.path, "--surface", "--json"])
        #expect(result.status == 87, "\(result.error)")
        let object = try Self.json(result.output)
        #expect(object["verdict"] as? String == "unknown")
        let surface = try #require(object["surface"] as? [String: Any])
        #expect(surface["bytesRead"] as? Int == 16 << 20)
        #expect((surface["unreadableRanges"] as? [Any])?.isEmpty == true)
        let histogram = try #require(surface["histogram"] as? [String: Any])
        #expect(histogram["blocks"] as? Int == 16)
        #expect(histogram["slowerThan500ms"] as? Int == 0)
        let text = try Self.run([loop.path])
        #expect(text.status == 87)
        #expect(text.output.contains("santé inconnue"))
    }

    @Test(.enabled(if: LoopDevice.isAvailable, "needs root and losetup"))
    func aLoopDeviceCannotRunASelfTest() throws {
        let loop = try LoopDevice(sizeInBytes: 8 << 20)
        defer { loop.detach() }
        let result = try Self.run([loop.path, "--self-test", "short"])
        #expect(result.status == 87)
        #expect(result.output.contains("Autotest short : impossible sur ce disque"), "\(result.output)")
        let json = try Self.json(try Self.run([loop.path, "--self-test", "short", "--json"]).output)
        #expect((json["selfTest"] as? [String: Any])?["result"] as? String == "not_supported")
    }

    @Test func aMissingDeviceKeepsItsDeviceExitStatusWithSurface() throws {
        let result = try Self.run(["/dev/ardoise-absent", "--surface"])
        #expect(result.status == 10)
    }
}
