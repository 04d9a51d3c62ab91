import Testing
@testable import Sanitize

@Suite struct SanitizeSmokeTests {
    @Test func moduleLoads() { #expect(Bool(true)) }
}
