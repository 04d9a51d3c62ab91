import ArdoiseSupport
import Bench
import Foundation
import Testing
import WipeEngine

/// examples/ardoise.toml is the file docs/configuration.md documents and `make install`
/// can copy to /etc/ardoise: it must load, with every profile it names known.
@Suite struct ExampleConfigTests {
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static var examplePath: String { checkout.appendingPathComponent("examples/ardoise.toml").path }

    static func knownProfiles() throws -> Set<String> {
        let library = try ProfileLibrary.load(directories: [checkout.appendingPathComponent("Profiles").path])
        return Set(library.profiles.map(\.name))
    }

    @Test func theExampleLoadsWithEveryKeySet() throws {
        let config = try BenchConfig.load(path: Self.examplePath, knownProfiles: try Self.knownProfiles())
        #expect(config.benchID == "ogo-rennes-1")
        #expect(config.benchName == "Banc 1 — Rennes")
        #expect(config.language == .french)
        #expect(config.organisationName == "Ordi Grand Ouest")
        #expect(config.organisationAddress == "12 rue de la Réparation, 35000 Rennes")
        #expect(config.technician == "Awa Diallo")
        #expect(config.donor == "Mairie de Rennes")
        #expect(config.lot == "2026-11-A")
        #expect(config.destination == "external-reuse")
        #expect(config.policy == .manual)
        #expect(config.graceSeconds == 30)
        #expect(config.onReplug == .restart)
        #expect(config.allowedTransports == ["sata", "sas", "scsi", "nvme", "usb", "mmc", "ata", "virtio"])
        #expect(config.allowVirtual == false)
        #expect(config.loopBackingDirectory == nil)
        #expect(config.maxConcurrentJobs == 8)
        #expect(config.profiles == ["hdd": "nist-800-88-clear", "ssd": "nist-800-88-clear", "usb": "zero",
                                    "default": "nist-800-88-clear"])
        #expect(config.dataDirectory == "/var/lib/ardoise")
        #expect(config.outputDirectory == "/var/lib/ardoise/certificates")
        #expect(config.controlSocket == "/run/ardoise/control.sock")
        #expect(config.profileDirectories == [])
        #expect(config.bufferSize == 4 << 20)
        #expect(config.inventoryAtStart == false)
    }

    /// The example shows the defaults: loading it must give the same bench as no file at all,
    /// apart from the keys that have no useful default (names, people, profiles per media).
    @Test func theExampleRestatesTheDefaults() throws {
        var config = try BenchConfig.load(path: Self.examplePath, knownProfiles: try Self.knownProfiles())
        let defaults = BenchConfig()
        config.benchID = defaults.benchID
        config.benchName = defaults.benchName
        config.organisationName = defaults.organisationName
        config.organisationAddress = defaults.organisationAddress
        config.technician = defaults.technician
        config.donor = defaults.donor
        config.lot = defaults.lot
        config.profiles = defaults.profiles
        #expect(config == defaults)
    }

    /// Every key docs/configuration.md documents appears in the example, and the other way round.
    @Test func theDocumentationAndTheExampleNameTheSameKeys() throws {
        let example = try String(contentsOfFile: Self.examplePath, encoding: .utf8)
        let documentation = try String(contentsOf: Self.checkout.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        var section = ""
        var exampleKeys: Set<String> = []
        for raw in example.split(separator: "\n") {
            // Commented-out keys (loop-backing-directory) count: the example shows them.
            let line = raw.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "# ", with: "", options: .anchored)
            if line.hasPrefix("["), let end = line.firstIndex(of: "]") {
                section = String(line[line.index(after: line.startIndex)..<end])
            } else if let equals = line.firstIndex(of: "="), !line.hasPrefix("#") {
                let key = line[..<equals].trimmingCharacters(in: .whitespaces)
                if !key.contains(" ") { exampleKeys.insert("\(section).\(key)") }
            }
        }
        #expect(exampleKeys.count == 37, "\(exampleKeys.sorted())")
        for key in exampleKeys {
            #expect(documentation.contains("`\(key)`"), "docs/configuration.md does not document \(key)")
        }
    }

    @Test func aBadValueInTheExampleIsReportedWithItsLine() throws {
        let example = try String(contentsOfFile: Self.examplePath, encoding: .utf8)
        let broken = example.replacingOccurrences(of: "max-concurrent-jobs = 8", with: "max-concurrent-jobs = 0")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-example-\(UUID().uuidString).toml").path
        try broken.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let expectedLine = (broken.components(separatedBy: "\n").firstIndex { $0.hasPrefix("max-concurrent-jobs") } ?? -1) + 1
        let known = try Self.knownProfiles()
        do {
            _ = try BenchConfig.load(path: path, knownProfiles: known)
            Issue.record("max-concurrent-jobs = 0 was accepted")
        } catch {
            #expect(error.field == "policy.max-concurrent-jobs")
            #expect(error.line == expectedLine)
        }
    }
}
