import ArdoiseTestSupport
import Foundation
import Testing

/// One language per screen (issue 11, item 10): `wipe`'s results and `journal jobs` say job
/// states and certificate statuses in the chosen language, not as raw codes.
@Suite struct ScreenLanguageTests {
    @Test func wipeAndJournalJobsSpeakTheChosenLanguage() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-screen-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data").path
        let image = directory.appendingPathComponent("disk.img")
        FileManager.default.createFile(atPath: image.path, contents: Data(repeating: 0x5A, count: 2 << 20))
        let wipe = try ArdoiseBinary.run(["wipe", image.path, "--image", "--yes", "--profile", "zero", "--data-dir", data, "--technician", "T"])
        #expect(wipe.status == 0, "\(wipe.error)")
        #expect(wipe.output.contains("certificat (effacé) : "), "\(wipe.output)")
        #expect(!wipe.output.contains("(erased)"))

        let french = try ArdoiseBinary.run(["journal", "jobs", "--data-dir", data])
        #expect(french.output.contains("  terminé  ") && french.output.contains("certificat : effacé"), "\(french.output)")
        #expect(!french.output.contains("completed") && !french.output.contains(" erased"))
        let english = try ArdoiseBinary.run(["journal", "jobs", "--data-dir", data, "--lang", "en"])
        #expect(english.output.contains("  completed  ") && english.output.contains("certificate: erased"), "\(english.output)")
        #expect(!english.output.contains("terminé"))
    }
}

/// The configuration is read one way for the daemon and for `wipe` (issue 11, item 4): a
/// profile name the bench does not know is refused by both, with file and line.
@Suite struct ConfigLoadingTests {
    @Test func wipeRefusesAConfigurationNamingAnUnknownProfileAsTheDaemonDoes() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("ardoise.toml").path
        try "[profiles]\ndefault = \"no-such-profile\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let image = directory.appendingPathComponent("disk.img")
        FileManager.default.createFile(atPath: image.path, contents: Data(repeating: 0x5A, count: 1 << 20))
        let wipe = try ArdoiseBinary.run(["wipe", image.path, "--image", "--yes", "--profile", "zero", "--config", config,
                                          "--data-dir", directory.appendingPathComponent("data").path, "--lang", "en"])
        #expect(wipe.status == 40, "\(wipe.error)")
        #expect(wipe.error.contains("\(config):2"), "\(wipe.error)")
        #expect(FileManager.default.contents(atPath: image.path) == Data(repeating: 0x5A, count: 1 << 20))
    }
}
