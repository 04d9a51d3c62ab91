import Foundation

/// A request on the control socket: one JSON object per line.
///
/// `{"command":"status"}`, `{"command":"start","device":"/dev/sdb"}`,
/// `{"command":"start","device":"/dev/sdb","resume":true}` (`false`: start the profile over),
/// `{"command":"cancel","device":"/dev/sdb"}`,
/// `{"command":"set","technician":"Awa","donor":"Mairie de Rennes","lot":"2026-11-A"}`,
/// `{"command":"watch"}`: the connection stays open and receives one response line now and
/// one after every change of the bench (the same response as `status`), until it closes.
public struct ControlRequest: Sendable, Codable, Hashable {
    public enum Command: String, Sendable, Codable {
        case status, start, cancel, set, watch
    }

    public var command: Command
    public var device: String?
    public var technician: String?
    public var donor: String?
    public var lot: String?
    /// For `start` on a re-plugged drive: resume its interrupted job (true) or start the
    /// profile over (false); nil follows `policy.on-replug`.
    public var resume: Bool?

    public init(command: Command, device: String? = nil, technician: String? = nil, donor: String? = nil, lot: String? = nil,
                resume: Bool? = nil) {
        self.resume = resume
        self.command = command
        self.device = device
        self.technician = technician
        self.donor = donor
        self.lot = lot
    }
}

/// The answer: `ok`, an error message when not, and the bench as it is now.
public struct ControlResponse: Sendable, Codable, Hashable {
    public var ok: Bool
    public var error: String?
    public var snapshot: BenchSnapshot?

    public init(ok: Bool, error: String? = nil, snapshot: BenchSnapshot? = nil) {
        self.ok = ok
        self.error = error
        self.snapshot = snapshot
    }
}

enum ControlCoding {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
