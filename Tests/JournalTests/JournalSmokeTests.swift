import Testing
@testable import Journal

@Suite struct JournalSmokeTests {
    @Test func moduleLoads() { #expect(Bool(true)) }
}
