import Testing
@testable import DeviceKit

@Suite struct DeviceKitSmokeTests {
    @Test func moduleLoads() { #expect(Bool(true)) }
}
