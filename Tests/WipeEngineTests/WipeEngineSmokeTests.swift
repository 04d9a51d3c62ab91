import Testing
@testable import WipeEngine

@Suite struct WipeEngineSmokeTests {
    @Test func moduleLoads() { #expect(Bool(true)) }
}
