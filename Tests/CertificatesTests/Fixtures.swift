import ArdoiseTestSupport
import ArdoiseSupport
import Crypto
import ErasureRecords
import Foundation
import Journal
@testable import Certificates

/// Deterministic inputs and helpers shared by the certificate tests.
enum Fixture {
    static let start = Date(timeIntervalSince1970: 1_790_000_000)
    static let capacity: UInt64 = 500_107_862_016

    /// A fixed key (RFC 8037 Appendix A.1's test key), so signatures are reproducible.
    static var key: BenchKey {
        let seed = Base64URL.decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")!
        return BenchKey(privateKey: try! Curve25519.Signing.PrivateKey(rawRepresentation: seed))
    }

    /// A second key, derived from a fixed seed.
    static var otherKey: BenchKey {
        BenchKey(privateKey: try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 7, count: 32)))
    }

    static func input(id: UUID = UUID(uuidString: "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f")!,
                      jobID: UUID = UUID(uuidString: "11111111-2222-4333-8444-555555555555")!,
                      serial: String = "WD-WCC4N7KZ1234",
                      passes: [PassRecord]? = nil,
                      finalVerification: VerificationRecord? = VerificationRecord(mode: "full", result: .passed, sampleCount: 122_096_646),
                      hiddenAreas: HiddenAreas? = HiddenAreas(detected: false, erased: nil),
                      firmware: [FirmwareOperation] = [],
                      outcome: CertificateInput.Outcome = .completed,
                      extra: [ErasureException] = []) -> CertificateInput {
        CertificateInput(
            id: id, jobID: jobID, benchID: "atelier-1",
            organisation: Organisation(name: "Atelier Réemploi Solidaire", address: "12 rue des Écoles, 69001 Lyon", contact: "contact@example.org"),
            technician: Person(name: "Zoé Lefèvre", title: "Technicienne"),
            validator: Person(name: "Jérôme Durand", title: "Responsable qualité"),
            donor: "Mairie de Villeurbanne", lot: "LOT-2026-042",
            media: Media(manufacturer: "Western Digital", model: "WDC WD5000AAKX-00ERMA0", serial: serial,
                         wwn: "0x50014ee2b5c8a1f3", firmware: "15.01H15", type: .magnetic, capacityBytes: capacity,
                         transport: "sata", logicalSectorSize: 512, physicalSectorSize: 4096),
            sourceHost: SourceHost(vendor: "Dell Inc.", model: "OptiPlex 7010", serial: "5XK2Q12"),
            hiddenAreas: hiddenAreas, category: .clear, profile: "nist-800-88-clear",
            passes: passes ?? [PassRecord(index: 1, kind: "constant", patternHex: "00", bytesWritten: capacity,
                                          durationSeconds: 3_721.5,
                                          verification: VerificationRecord(mode: "full", result: .passed, sampleCount: 122_096_646))],
            firmwareOperations: firmware, finalVerification: finalVerification,
            tool: Tool(name: "ardoise", version: "0.1.0"), outcome: outcome,
            startedAt: start, endedAt: start.addingTimeInterval(7_500), destination: .externalReuse,
            additionalExceptions: extra)
    }

    static func signed(_ input: CertificateInput = Fixture.input(), key: BenchKey = Fixture.key) throws -> SignedCertificate {
        try CertificateSigner.sign(CertificatePayload(input: input, issuedAt: start.addingTimeInterval(7_600)), with: key)
    }

    static var trusted: TrustedKeys { TrustedKeys([key.publicJWK]) }

    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-cert-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// True when every tool is on PATH (for `.enabled(if:)`: a missing tool is a visible skip).
    static func has(_ tools: String...) -> Bool { tools.allSatisfy { tool($0) != nil } }

    /// True when python3 can import every module.
    static func hasPython(_ modules: String...) -> Bool {
        guard let python = tool("python3") else { return false }
        return (try? run(python, ["-c", "import " + modules.joined(separator: ", ")]).status == 0) ?? false
    }

    /// The `ardoise` executable built next to the test bundle (.build/<triple>/debug).
    static func ardoise() -> String? { ArdoiseExecutable.located }

    /// Full path of an executable on PATH, or nil.
    static func tool(_ name: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    struct RunResult { var status: Int32; var output: Data; var error: String }

    /// Runs a tool to completion (output collected through files, so no pipe can fill up).
    static func run(_ executable: String, _ arguments: [String]) throws -> RunResult {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outPath = directory + "/out", errPath = directory + "/err"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try process.run()
        process.waitUntilExit()
        return RunResult(status: process.terminationStatus,
                         output: FileManager.default.contents(atPath: outPath) ?? Data(),
                         error: String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self))
    }
}
