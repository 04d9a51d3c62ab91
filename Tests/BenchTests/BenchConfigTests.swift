import Foundation
import Testing
@testable import Bench

@Suite struct BenchConfigTests {
    static let full = """
    # Banc 1 de l'atelier de Rennes
    [bench]
    id = "ogo-rennes-1"
    name = "Banc 1 — Rennes"
    language = "fr"

    [organisation]
    name = "Ordi Grand Ouest"
    address = "12 rue de la Réparation, 35000 Rennes"

    [session]
    technician = "Awa Diallo"
    donor = "Mairie de Rennes"
    lot = "2026-11-A"
    destination = "external-reuse"

    [policy]
    mode = "auto"
    grace-seconds = 20
    allowed-transports = ["sata", "nvme", "usb", "loop"]
    allow-virtual = true
    loop-backing-directory = "/srv/ardoise-loops"
    max-concurrent-jobs = 4

    [profiles]
    hdd = "nist-800-88-clear"
    ssd = "nist-800-88-clear"
    usb = "zero"

    [paths]
    data-directory = "/srv/ardoise"
    control-socket = "/run/ardoise/control.sock"
    """

    func parse(_ text: String, known: Set<String>? = ["nist-800-88-clear", "zero"]) throws(BenchConfigError) -> BenchConfig {
        try BenchConfig.parse(text: text, path: "/etc/ardoise/ardoise.toml", knownProfiles: known)
    }

    @Test func aFullConfigurationLoads() throws {
        let config = try parse(Self.full)
        #expect(config.benchID == "ogo-rennes-1")
        #expect(config.organisationName == "Ordi Grand Ouest")
        #expect(config.technician == "Awa Diallo" && config.donor == "Mairie de Rennes" && config.lot == "2026-11-A")
        #expect(config.policy == .auto && config.graceSeconds == 20 && config.maxConcurrentJobs == 4)
        #expect(config.allowedTransports == ["sata", "nvme", "usb", "loop"])
        #expect(config.profiles["usb"] == "zero")
        #expect(config.dataDirectory == "/srv/ardoise")
        #expect(config.outputDirectory == "/srv/ardoise/certificates")
    }

    @Test(arguments: [
        ("mode = \"auto\"", "mode = \"sometimes\"", 18, "policy.mode"),
        ("grace-seconds = 20", "grace-seconds = \"20\"", 19, "policy.grace-seconds"),
        ("usb = \"zero\"", "usb = \"shred-everything\"", 28, "profiles.usb"),
        ("max-concurrent-jobs = 4", "max-concurrent-jobs = 0", 23, "policy.max-concurrent-jobs"),
        ("allow-virtual = true", "allow-virtual = true\ncolour = \"blue\"", 22, "policy.colour"),
        ("data-directory = \"/srv/ardoise\"", "data-directory = \"srv/ardoise\"", 31, "paths.data-directory"),
    ])
    func errorsNameFileLineAndField(original: String, replacement: String, line: Int, field: String) {
        let text = Self.full.replacingOccurrences(of: original, with: replacement)
        let error = #expect(throws: BenchConfigError.self) { try parse(text) }
        #expect(error?.file == "/etc/ardoise/ardoise.toml")
        #expect(error?.line == line)
        #expect(error?.field == field)
    }

    @Test func syntaxErrorsGiveTheirLine() {
        let text = Self.full.replacingOccurrences(of: "lot = \"2026-11-A\"", with: "lot = \"2026-11-A")
        let error = #expect(throws: BenchConfigError.self) { try parse(text) }
        #expect(error?.line == 14)
    }

    @Test func allowVirtualNeedsALoopDirectory() {
        let text = Self.full.replacingOccurrences(of: "loop-backing-directory = \"/srv/ardoise-loops\"\n", with: "")
        let error = #expect(throws: BenchConfigError.self) { try parse(text) }
        #expect(error?.field == "policy.allow-virtual")
        #expect(error?.line == 21)
    }

    @Test(arguments: [("restart", BenchConfig.ReplugAction.restart), ("resume", .resume), ("ask", .ask)])
    func onReplugTakesRestartResumeOrAsk(value: String, action: BenchConfig.ReplugAction) throws {
        let text = Self.full.replacingOccurrences(of: "grace-seconds = 20", with: "grace-seconds = 20\non-replug = \"\(value)\"")
        #expect(try parse(text).onReplug == action)
    }

    @Test func anUnknownOnReplugActionIsRefusedWithItsLine() {
        let text = Self.full.replacingOccurrences(of: "grace-seconds = 20", with: "grace-seconds = 20\non-replug = \"continue\"")
        let error = #expect(throws: BenchConfigError.self) { try parse(text) }
        #expect(error?.field == "policy.on-replug")
        #expect(error?.line == 20)
        #expect(error?.message.english == "restart, resume or ask")
    }

    @Test func anUnknownSectionIsRefused() {
        let error = #expect(throws: BenchConfigError.self) { try parse(Self.full + "\n[network]\nurl = \"x\"\n") }
        #expect(error?.field == "network")
        #expect(error?.line == 33)
    }
}

@Suite struct HealthConfigTests {
    @Test func healthSectionDefaultsAndValues() throws {
        let defaults = try BenchConfig.parse(text: "", path: "a.toml", knownProfiles: nil)
        #expect(defaults.healthCheck)
        #expect(defaults.onDiscard == .eraseAndMark)
        #expect(defaults.healthPolicyPath == nil)
        let set = try BenchConfig.parse(text: "[health]\ncheck = false\non-discard = \"skip-and-mark\"\npolicy = \"/etc/x.toml\"\nsmartctl = \"/opt/smartctl\"\n",
                                        path: "a.toml", knownProfiles: nil)
        #expect(!set.healthCheck)
        #expect(set.onDiscard == .skipAndMark)
        #expect(set.healthPolicyPath == "/etc/x.toml")
        #expect(set.smartctlPath == "/opt/smartctl")
    }

    @Test(arguments: [("[health]\non-discard = \"shred\"\n", "health.on-discard", 2),
                      ("[health]\ncheck = true\npolicy = \"relative.toml\"\n", "health.policy", 3),
                      ("[health]\nskip = true\n", "health.skip", 2)])
    func badHealthValuesNameLineAndField(text: String, field: String, line: Int) throws {
        do {
            _ = try BenchConfig.parse(text: text, path: "a.toml", knownProfiles: nil)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.field == field)
            #expect(error.line == line)
        }
    }
}
