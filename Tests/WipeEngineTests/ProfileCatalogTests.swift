import ArdoiseSupport
import Testing
@testable import WipeEngine

@Suite struct ProfileCatalogTests {
    @Test func tableHasOneRowPerProfileInTheChosenLanguage() throws {
        let library = try builtInProfiles()
        let french = ProfileCatalog.table(library, language: .french).split(separator: "\n")
        let english = ProfileCatalog.table(library, language: .english).split(separator: "\n")
        #expect(french.count == library.profiles.count + 1)
        #expect(french[0].hasPrefix("NOM") && english[0].hasPrefix("NAME"))
        let gutmann = try #require(english.first { $0.hasPrefix("gutmann ") })
        #expect(gutmann.contains("Gutmann (35 passes)") && gutmann.contains(" 35 ") && gutmann.contains("clear"))
        let zero = try #require(french.first { $0.hasPrefix("zero ") })
        #expect(zero.contains("Remplissage de zéros"))
    }

    @Test func showListsEveryPass() throws {
        let library = try builtInProfiles()
        let lines = ProfileCatalog.details(try library.requireProfile(named: "dod-5220-22m"), language: .english)
        let passes = lines.drop { $0 != "Passes:" }.dropFirst()
        #expect(Array(passes) == [
            "  1. random byte (drawn per job), full verification",
            "  2. complement of the previous pass, full verification",
            "  3. pseudo-random stream xoshiro256**, full verification",
        ])
        let gutmann = ProfileCatalog.details(try library.requireProfile(named: "gutmann"), language: .french)
        #expect(gutmann.filter { $0.hasPrefix("  ") || $0.hasPrefix("   ") }.count == 35)
        #expect(gutmann.contains("   7. motif 0x92 0x49 0x24 [ordre tiré au hasard], sans vérification"))
        let nist = ProfileCatalog.details(try library.requireProfile(named: "nist-800-88-clear"), language: .english)
        #expect(nist.last == "  1. constant byte 0x00, NIST 800-88 sampled verification")
    }
}
