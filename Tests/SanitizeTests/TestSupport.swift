import ArdoiseSupport
import DeviceKit
@testable import Sanitize

/// "85 08 0e" → bytes; traps on a typo in a test literal.
func hex(_ text: String) -> [UInt8] {
    guard let bytes = Hex.parse(text) else { preconditionFailure("bad hex literal in test: \(text)") }
    return bytes
}

/// An eraser over `transport` that never sleeps and uses a fixed password.
func makeEraser(_ transport: PassthroughTransport, _ type: PassthroughDeviceType, store: SecretStore = InMemorySecretStore(),
                password: String = "ardoise-0011223344556677", progress: @escaping (FirmwareEraseProgress) -> Void = { _ in }) -> FirmwareEraser {
    FirmwareEraser(transport: transport, deviceType: type, secretStore: store, sleep: { _ in }, progress: progress,
                   makePassword: { AtaPassword(text: password)! })
}

let ataKey = "ata:ARDOISE SIM SSD 240GB:SIM0000000001"
