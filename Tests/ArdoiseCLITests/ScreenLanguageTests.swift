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
