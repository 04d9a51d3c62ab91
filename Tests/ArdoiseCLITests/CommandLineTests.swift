import ArdoiseTestSupport
import Foundation
import Testing

/// Runs the built `ardoise` executable as a technician would, and checks messages and exit codes.
enum ArdoiseBinary {
    static var path: String { ArdoiseExecutable.path }

    static func run(_ arguments: [String], environment: [String: String] = [:], input: String? = nil,
                    asUser user: String? = nil) throws -> (status: Int32, output: String, error: String) {
        var env = ProcessInfo.processInfo.environment
        env["LANG"] = nil
        env["LC_ALL"] = nil
        env["LC_MESSAGES"] = nil
        env.merge(environment) { $1 }
        let result: (status: Int32, standardOutput: String, standardError: String)
        if let user {
            result = try Shell.runCapturing("/usr/bin/setpriv", ["--reuid=\(user)", "--regid=\(user)", "--clear-groups", path] + arguments,
                                            environment: env, input: input)
        } else {
            result = try Shell.runCapturing(path, arguments, environment: env, input: input)
        }
        return (result.status, result.standardOutput, result.standardError)
    }
}

@Suite struct BadInputTests {
    @Test func aMissingDeviceIsNamedInFrenchByDefault() throws {
        let result = try ArdoiseBinary.run(["check", "/dev/ardoise-absent"])
        #expect(result.status == 10)
        #expect(result.error == "Erreur : /dev/ardoise-absent : aucun périphérique à ce nom. Vérifiez le nom avec « ardoise list ».\n")
    }

    @Test func englishWithLangOptionOrEnvironment() throws {
        let byOption = try ArdoiseBinary.run(["check", "/dev/ardoise-absent", "--lang", "en"])
        let byEnvironment = try ArdoiseBinary.run(["check", "/dev/ardoise-absent"], environment: ["LANG": "en_GB.UTF-8"])
        for result in [byOption, byEnvironment] {
            #expect(result.status == 10)
            #expect(result.error == "Error: /dev/ardoise-absent: no such device. Check the name with `ardoise list`.\n")
        }
    }

    @Test(arguments: [("/dev/null", "périphérique caractère"), ("/tmp", "dossier")])
    func notADrive(path: String, words: String) throws {
        let result = try ArdoiseBinary.run(["check", path])
        #expect(result.status == 11)
        #expect(result.error.contains(words))
    }

    @Test func aRegularFileGetsTheImageHint() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-cli-\(UUID().uuidString).img")
        FileManager.default.createFile(atPath: file.path, contents: Data(count: 4096))
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try ArdoiseBinary.run(["check", file.path, "--lang", "en"])
        #expect(result.status == 11)
        #expect(result.error.contains("add --image"))
    }

    @Test func anUnknownLanguageIsAUsageError() throws {
        let result = try ArdoiseBinary.run(["list", "--lang", "de"])
        #expect(result.status == 64)
    }

    @Test(.enabled(if: LoopDevice.isAvailable, "needs root and losetup"))
    func aPartitionNamesItsDisk() throws {
        let loop = try LoopDevice(sizeInBytes: 32 << 20, partitionScan: true)
        defer { loop.detach() }
        try Shell.run("/sbin/sfdisk", ["-q", loop.path], input: "label: dos\n,\n")
        _ = try? Shell.run("/usr/bin/partx", ["-a", loop.path])
        defer { _ = try? Shell.run("/usr/bin/partx", ["-d", loop.path]) }
        let result = try ArdoiseBinary.run(["check", loop.path + "p1", "--allow-virtual"])
        #expect(result.status == 12)
        #expect(result.error.contains("le disque est \(loop.path)"))
    }

    @Test(.enabled(if: LoopDevice.isAvailable, "needs root to create a loop device, then drops to nobody"))
    func withoutRootTheDriveIsNotOpened() throws {
        let loop = try LoopDevice(sizeInBytes: 16 << 20)
        defer { loop.detach() }
        let result = try ArdoiseBinary.run(["check", loop.path, "--allow-virtual", "--lang", "en"], asUser: "65534")
        // `check` only classifies: it works without root and says the loop is wipeable…
        #expect(result.status == 0, "\(result.error)")
        // …and the system disk stays protected for everybody.
        let list = try ArdoiseBinary.run(["list", "--json", "--lang", "en"], asUser: "65534")
        #expect(list.status == 0)
        #expect(list.output.contains("\"verdict\": \"protected\""))
    }
}
