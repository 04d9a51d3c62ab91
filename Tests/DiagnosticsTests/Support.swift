import Foundation
@testable import Diagnostics

/// This target's fixtures (written for Ardoise from smartmontools' documented JSON format).
enum Fixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    static func path(_ name: String) -> String { "\(directory)/\(name)" }

    static func output(_ name: String) throws -> SmartctlOutput {
        try SmartctlOutput.decode(try Data(contentsOf: URL(fileURLWithPath: path(name))))
    }

    /// Real `smartctl --json` outputs kept beside the project (not copied into it, see their README).
    static let referenceDirectory: String = {
        var directory = URL(fileURLWithPath: #filePath)
        for _ in 0..<8 {
            directory.deleteLastPathComponent()
            let candidate = directory.appendingPathComponent("shared/reference/smartctl-samples").path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return "/work/shared/reference/smartctl-samples"
    }()

    static var referenceAvailable: Bool { FileManager.default.fileExists(atPath: referenceDirectory + "/README.md") }
}

/// The repository's default policy.
func defaultPolicy() throws -> HealthPolicy {
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return try HealthPolicy.load(path: repository.appendingPathComponent("Policies/health-default.toml").path)
}

func judge(_ fixture: String, policy: HealthPolicy? = nil) throws -> HealthReport {
    let policy = try policy ?? defaultPolicy()
    return HealthEvaluator(policy: policy).evaluate(SmartctlRunner.reading(fromFile: Fixture.path(fixture)),
                                                    source: HealthSource(kind: "file", path: fixture))
}

extension HealthReport {
    var codes: [String] { reasons.map(\.code) }
    func reason(_ code: String) -> HealthReason? { reasons.first { $0.code == code } }
}
