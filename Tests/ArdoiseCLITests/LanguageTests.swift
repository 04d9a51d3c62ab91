import Testing
import ArdoiseSupport

@Suite struct LanguageTests {
    @Test(arguments: [
        (["LANG": "en_GB.UTF-8"], Language.english),
        (["LANG": "fr_FR.UTF-8"], .french),
        ([:], .french),
        (["LC_ALL": "en_US.UTF-8", "LANG": "fr_FR.UTF-8"], .english),
        (["LANG": "C.UTF-8"], .french),
    ])
    func environmentPicksLanguage(environment: [String: String], expected: Language) {
        #expect(Language.fromEnvironment(environment) == expected)
    }
}
