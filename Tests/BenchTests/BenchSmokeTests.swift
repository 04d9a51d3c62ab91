import Testing
@testable import Bench

@Suite struct BenchSmokeTests {
    @Test func moduleLoads() { #expect(Bool(true)) }
}
