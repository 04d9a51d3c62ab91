import ArdoiseTestSupport
import Foundation
import Testing

/// systemd/ardoise.service as `make install` and the bench image (image/build.sh) install it:
/// the daemon says when it is ready (`READY=1`, checked by every DaemonHarness start), so the
/// unit waits for it.
@Suite struct SystemdUnitTests {
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static var unitPath: String { checkout.appendingPathComponent("systemd/ardoise.service").path }

    /// `key=value` lines of the unit's `[Service]` section (comments skipped).
    static func serviceSettings() throws -> [String: [String]] {
        let text = try String(contentsOfFile: unitPath, encoding: .utf8)
        var section = ""
        var settings: [String: [String]] = [:]
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") { section = line; continue }
            guard section == "[Service]", let equals = line.firstIndex(of: "=") else { continue }
            settings[String(line[..<equals]), default: []].append(String(line[line.index(after: equals)...]))
        }
        return settings
    }

    @Test func theServiceWaitsForTheDaemonsReadiness() throws {
        let settings = try Self.serviceSettings()
        #expect(settings["Type"] == ["notify"])
        // smartctl, a child of the daemon, must not be able to say the bench is ready.
        #expect(settings["NotifyAccess"] == ["main"])
        #expect(settings["ExecStart"]?.first?.hasPrefix("/usr/local/bin/ardoise daemon ") == true)
    }

    /// systemd's own parser reads every line without a warning (the executable is replaced
    /// by one that exists here, since `verify` checks it).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"), "needs systemd-analyze"))
    func systemdAcceptsTheUnit() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-unit-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = try String(contentsOfFile: Self.unitPath, encoding: .utf8)
            .replacingOccurrences(of: "ExecStart=/usr/local/bin/ardoise ", with: "ExecStart=/bin/true ")
        let copy = directory.appendingPathComponent("ardoise.service")
        try text.write(to: copy, atomically: true, encoding: .utf8)
        let result = try Shell.runCapturing("/usr/bin/systemd-analyze", ["verify", copy.path])
        #expect(result.status == 0)
        #expect(result.standardOutput + result.standardError == "")
    }

    /// The bench image installs this very file, not a copy of its own, and its drop-ins
    /// (image/overlay/…/ardoise.service.d) do not change how the service starts.
    @Test func theImageInstallsThisUnitUnchanged() throws {
        let build = try String(contentsOfFile: Self.checkout.appendingPathComponent("image/build.sh").path, encoding: .utf8)
        #expect(build.contains("install -D -m 0644 \"$repo/systemd/ardoise.service\" \"$root/etc/systemd/system/ardoise.service\""))
        let units = Self.checkout.appendingPathComponent("image/overlay/etc/systemd/system")
        #expect(!FileManager.default.fileExists(atPath: units.appendingPathComponent("ardoise.service").path))
        let dropIns = units.appendingPathComponent("ardoise.service.d")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dropIns.path)) ?? [] {
            let text = try String(contentsOfFile: dropIns.appendingPathComponent(name).path, encoding: .utf8)
            for key in ["Type=", "NotifyAccess=", "ExecStart="] {
                #expect(!text.split(separator: "\n").contains { $0.hasPrefix(key) }, "\(name) sets \(key)")
            }
        }
    }
}
