import ArdoiseSupport
import Foundation
import Testing
@testable import WipeEngine

@Suite struct ProfileLibraryTests {
    static let expectedNames = [
        "afssi-5020", "bsi-vsitr", "csec-itsg-06", "dod-5220-22m", "dod-5220-22m-ece", "gutmann",
        "hmg-is5-baseline", "hmg-is5-enhanced", "nist-800-88-clear", "nist-800-88-purge", "nist-800-88-purge-overwrite",
        "random", "rcmp-tssit-ops-ii",
        "schneier", "verify-zero", "zero",
    ]

    @Test func everyBuiltInProfileParses() throws {
        let library = try builtInProfiles()
        #expect(library.profiles.map(\.name) == Self.expectedNames)
        for profile in library.profiles {
            #expect(!profile.title.french.isEmpty && !profile.title.english.isEmpty)
            #expect(!profile.passes.isEmpty)
        }
    }

    /// The passes of each profile, exactly as standards.md lists them.
    @Test func passesMatchTheStandards() throws {
        let library = try builtInProfiles()
        func patterns(_ name: String) throws -> [PassPattern] {
            try #require(library.profile(named: name)).passes.map(\.pattern)
        }
        let prng = PassPattern.prng(.xoshiro256StarStar)
        #expect(try patterns("zero") == [.constant(0)])
        #expect(try patterns("random") == [prng])
        #expect(try patterns("nist-800-88-clear") == [.constant(0)])
        // Purge: the drive's firmware first; the zero pass is the hard-disk fallback
        // (or, in the -overwrite variant, the final verified pass).
        #expect(try library.requireProfile(named: "nist-800-88-purge").firmware?.method == "auto")
        #expect(try library.requireProfile(named: "nist-800-88-clear").firmware == nil)
        #expect(try patterns("nist-800-88-purge") == [.constant(0)])
        #expect(try patterns("nist-800-88-purge-overwrite") == [.constant(0)])
        #expect(try library.requireProfile(named: "nist-800-88-clear").passes[0].verification == .nistSample)
        #expect(try patterns("dod-5220-22m") == [.randomByte, .complement, prng])
        #expect(try library.requireProfile(named: "dod-5220-22m").passes.allSatisfy { $0.verification == .full })
        #expect(try patterns("dod-5220-22m-ece") == [.randomByte, .complement, prng, .randomByte, .randomByte, .complement, prng])
        #expect(try library.requireProfile(named: "dod-5220-22m-ece").passes.map { $0.verification != .none }
            == [false, false, true, false, false, false, true])
        #expect(try patterns("hmg-is5-baseline") == [.constant(0)])
        #expect(try patterns("hmg-is5-enhanced") == [.constant(0), .constant(0xFF), prng])
        #expect(try patterns("bsi-vsitr") == [0, 0xFF, 0, 0xFF, 0, 0xFF, 0xAA].map { PassPattern.constant($0) })
        #expect(try patterns("rcmp-tssit-ops-ii") == [0, 0xFF, 0, 0xFF, 0, 0xFF].map { PassPattern.constant($0) } + [prng])
        #expect(try patterns("schneier") == [.constant(0xFF), .constant(0)] + Array(repeating: .prng(.aesCTR), count: 5))
        #expect(try patterns("csec-itsg-06") == [.constant(0), .complement, prng])
        #expect(try patterns("afssi-5020") == [.constant(0), .constant(0xFF), prng])
        let verifyZero = try library.requireProfile(named: "verify-zero")
        #expect(verifyZero.isReadOnly && verifyZero.nistCategory == .none)

        let gutmann = try library.requireProfile(named: "gutmann")
        #expect(gutmann.passes.count == 35)
        #expect(gutmann.passes.prefix(4).allSatisfy { $0.pattern == prng && !$0.shuffled })
        #expect(gutmann.passes.suffix(4).allSatisfy { $0.pattern == prng && !$0.shuffled })
        let fixed: [PassPattern] = [.constant(0x55), .constant(0xAA), .pattern([0x92, 0x49, 0x24]), .pattern([0x49, 0x24, 0x92]),
                                    .pattern([0x24, 0x92, 0x49])] + stride(from: 0, through: 0xFF, by: 0x11).map { .constant(UInt8($0)) }
            + [.pattern([0x92, 0x49, 0x24]), .pattern([0x49, 0x24, 0x92]), .pattern([0x24, 0x92, 0x49]),
               .pattern([0x6D, 0xB6, 0xDB]), .pattern([0xB6, 0xDB, 0x6D]), .pattern([0xDB, 0x6D, 0xB6])]
        #expect(gutmann.passes[4..<31].map(\.pattern) == fixed)
        #expect(gutmann.passes[4..<31].allSatisfy { $0.shuffled })
    }

    @Test func gutmannOrderIsShuffledBySeedAndRecorded() throws {
        let gutmann = try builtInProfiles().requireProfile(named: "gutmann")
        let first = PassPlanner.plan(profile: gutmann, seed: testSeed).map { $0.fixedPattern ?? [] }
        let again = PassPlanner.plan(profile: gutmann, seed: testSeed).map { $0.fixedPattern ?? [] }
        let other = PassPlanner.plan(profile: gutmann, seed: Array(repeating: 7, count: 32)).map { $0.fixedPattern ?? [] }
        #expect(first == again)
        #expect(first != other)
        let fixedInProfile = gutmann.passes[4..<31].map { spec -> [UInt8] in
            switch spec.pattern {
            case .constant(let byte): [byte]
            case .pattern(let bytes): bytes
            default: []
            }
        }
        #expect(first[4..<31].sorted { $0.lexicographicallyPrecedes($1) } == fixedInProfile.sorted { $0.lexicographicallyPrecedes($1) })
    }

    // MARK: Malformed files

    static let header = """
        name = "bad"
        standard = "Test"
        nist-category = "clear"

        [title]
        fr = "Essai"
        en = "Test"

        """

    /// (file text, expected line, expected field)
    static let malformed: [(String, Int, String)] = [
        (header + "[[pass]]\nkind = \"constant\"\nbyte = 300\n", 10, "pass[1].byte"),
        (header + "[[pass]]\nkind = \"constant\"\nbyte = 0\n\n[[pass]]\nkind = \"wobble\"\n", 13, "pass[2].kind"),
        (header + "[[pass]]\nkind = \"constant\"\nbyte = 0\nverfy = \"full\"\n", 11, "pass[1].verfy"),
        (header + "[[pass]]\nkind = \"constant\"\nbyte = 0\nverify = \"sample\"\n", 8, "pass[1].sample"),
        (header + "[[pass]]\nkind = \"constant\"\nbyte = 0\nverify = \"sample\"\nsample-percent = 150\n", 12, "pass[1].sample-percent"),
        (header + "[[pass]]\nkind = \"complement\"\n", 9, "pass[1].kind"),
        (header + "[[pass]]\nkind = \"pattern\"\npattern = [0x92, \"x\"]\n", 10, "pass[1].pattern"),
        (header + "[[pass]]\nkind = \"prng\"\ngenerator = \"rc4\"\n", 10, "pass[1].generator"),
        (header + "[[pass]]\nkind = \"constant\"\nbyte = \"zero\"\n", 10, "pass[1].byte"),
        (header, 1, "pass"),
        ("name = \"bad\"\nstandard = \"Test\"\nnist-category = \"dirty\"\n[title]\nfr = \"a\"\nen = \"b\"\n[[pass]]\nkind = \"constant\"\nbyte = 0\n", 3, "nist-category"),
        ("name = \"bad\"\nstandard = \"Test\"\nnist-category = \"clear\"\n[title]\nfr = \"a\"\n[[pass]]\nkind = \"constant\"\nbyte = 0\n", 4, "title.en"),
        ("name = \"other\"\nstandard = \"Test\"\n", 1, "name"),
        ("name = \"bad\"\nstandard = \"Test\"\nnist-category = clear\n", 3, "nist-category"),
        (header + "[[pass]]\nkind = \"constant\"\nbyte = 0\n\n[final-blank]\nbyte = 0\nverify = \"full\"\nkind = \"x\"\n", 15, "final-blank.kind"),
        ("name = \"bad\"\nstandard = \"Test\"\nnist-category = \"clear\"\ntitle.fr = \"a\"\ntitle.en = 5\n[[pass]]\nkind = \"constant\"\nbyte = 0\n", 5, "title.en"),
        (header + "[[pass]]\nkind = \"prng\"\nwrite = false\nverify = \"full\"\n", 10, "pass[1].write"),
    ]

    @Test(arguments: malformed)
    func malformedProfileNamesFileLineAndField(text: String, line: Int, field: String) throws {
        let directory = NSTemporaryDirectory() + "ardoise-profiles-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/bad.toml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let error = try #require(throws: WipeEngineError.self) { try ProfileLibrary.load(directories: [directory]) }
        #expect(error.code == .invalidProfile)
        #expect(error.file == path)
        #expect(error.line == line)
        #expect(error.field == field)
        #expect(error.text(in: .english).hasPrefix("\(path):\(line): field '\(field)': "))
        #expect(error.text(in: .french).hasPrefix("\(path):\(line): champ '\(field)' : "))
    }

    @Test func oneBadFileFailsTheWholeLoad() throws {
        let directory = NSTemporaryDirectory() + "ardoise-profiles-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let builtIn = try ProfileLibrary.builtInDirectory()
        try FileManager.default.copyItem(atPath: builtIn + "/zero.toml", toPath: directory + "/zero.toml")
        try (Self.header + "[[pass]]\nkind = \"constant\"\nbyte = -1\n").write(toFile: directory + "/bad.toml", atomically: true, encoding: .utf8)
        #expect(throws: WipeEngineError.self) { try ProfileLibrary.load(directories: [directory]) }
        // The administrator's directory is optional, but a bad file there still fails the load.
        #expect(throws: WipeEngineError.self) { try ProfileLibrary.load(directories: [builtIn], optionalDirectories: [directory]) }
        let fine = try ProfileLibrary.load(directories: [builtIn], optionalDirectories: [directory + "/missing"])
        #expect(fine.profiles.count == Self.expectedNames.count)
    }

    @Test func duplicateNamesAreRejected() throws {
        let directory = NSTemporaryDirectory() + "ardoise-profiles-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let builtIn = try ProfileLibrary.builtInDirectory()
        try FileManager.default.copyItem(atPath: builtIn + "/zero.toml", toPath: directory + "/zero.toml")
        let error = try #require(throws: WipeEngineError.self) {
            try ProfileLibrary.load(directories: [builtIn], optionalDirectories: [directory])
        }
        #expect(error.code == .duplicateProfile)
    }

    @Test func finalBlankAndSamplePercentParse() throws {
        let directory = NSTemporaryDirectory() + "ardoise-profiles-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let text = Self.header.replacingOccurrences(of: "\"bad\"", with: "\"custom\"")
            + "[[pass]]\nkind = \"prng\"\ngenerator = \"aes-ctr\"\nverify = \"sample\"\nsample-percent = 2.5\n\n[final-blank]\nbyte = 0x00\nverify = \"full\"\n"
        try text.write(toFile: directory + "/custom.toml", atomically: true, encoding: .utf8)
        let profile = try #require(ProfileLibrary.load(directories: [directory]).profile(named: "custom"))
        #expect(profile.passes.count == 2)
        #expect(profile.passes[0].verification == .samplePercent(2.5))
        #expect(profile.passes[1].isFinalBlank && profile.passes[1].pattern == .constant(0) && profile.passes[1].verification == .full)
    }

    @Test func builtInDirectorySearchOrder() throws {
        let root = NSTemporaryDirectory() + "ardoise-search-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/explicit", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/env", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/prefix/bin", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/prefix/share/ardoise/profiles", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/checkout/Profiles", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/checkout/.build/debug", withIntermediateDirectories: true)
        let env = ["ARDOISE_PROFILES_DIR": root + "/env"]
        let installed = root + "/prefix/bin/ardoise"
        let inCheckout = root + "/checkout/.build/debug/ardoise"
        #expect(try ProfileLibrary.builtInDirectory(explicit: root + "/explicit", environment: env, executablePath: installed, currentDirectory: "/") == root + "/explicit")
        #expect(try ProfileLibrary.builtInDirectory(environment: env, executablePath: installed, currentDirectory: "/") == root + "/env")
        #expect(try ProfileLibrary.builtInDirectory(environment: [:], executablePath: installed, currentDirectory: "/") == root + "/prefix/share/ardoise/profiles")
        #expect(try ProfileLibrary.builtInDirectory(environment: [:], executablePath: inCheckout, currentDirectory: "/") == root + "/checkout/Profiles")
        #expect(try ProfileLibrary.builtInDirectory(environment: [:], executablePath: nil, currentDirectory: root + "/checkout/.build") == root + "/checkout/Profiles")
        #expect(throws: WipeEngineError.self) {
            try ProfileLibrary.builtInDirectory(explicit: root + "/nope", environment: env, executablePath: installed, currentDirectory: "/")
        }
    }

    @Test func unknownProfileListsKnownNames() throws {
        let error = try #require(throws: WipeEngineError.self) { try builtInProfiles().requireProfile(named: "dod") }
        #expect(error.code == .profileNotFound)
        #expect(error.text(in: .english).contains("dod-5220-22m"))
    }
}
