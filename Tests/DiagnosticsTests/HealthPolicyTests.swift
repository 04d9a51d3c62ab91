import Foundation
import Testing
@testable import Diagnostics

@Suite struct HealthPolicyTests {
    /// Writes `text` to a fresh file and parses it.
    static func parse(_ text: String) throws(DiagnosticsError) -> HealthPolicy {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-policy-\(UUID().uuidString).toml").path
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try HealthPolicy.load(path: path)
    }

    static func defaultText() throws -> String {
        try String(contentsOfFile: try defaultPolicy().sourcePath, encoding: .utf8)
    }

    /// The default file with one line replaced (or appended when `old` is nil).
    static func variant(replacing old: String?, with new: String) throws -> String {
        let text = try defaultText()
        guard let old else { return text + "\n" + new + "\n" }
        #expect(text.contains(old), "default policy lacks \(old)")
        return text.replacingOccurrences(of: old, with: new)
    }

    static func lineOf(_ needle: String, in text: String) -> Int {
        (text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(needle) } ?? -1) + 1
    }

    @Test func defaultPolicyLoads() throws {
        let policy = try defaultPolicy()
        #expect(policy.name == "ardoise-default")
        #expect(policy.schema == 1)
        #expect(policy.ataAttributes.map(\.id) == [5, 187, 188, 197, 198, 199])
        #expect(policy.ataAttributes.last?.threshold.discardAt == nil)
        #expect(policy.nvmeCriticalWarning[3] == .discard)
        #expect(policy.nvmeCriticalWarning[1] == .caution)
        #expect(policy.overallFailed == .discard)
        #expect(policy.surfaceUnreadable.discardAt == 1)
    }

    @Test func loadStandardPrefersExplicitThenSystemThenBuiltIn() throws {
        let builtIn = (try defaultPolicy().sourcePath as NSString).deletingLastPathComponent
        let none = try HealthPolicy.loadStandard(systemPath: "/nonexistent/health.toml", builtInDirectory: builtIn)
        #expect(none.name == "ardoise-default")
        let text = try Self.variant(replacing: #"name = "ardoise-default""#, with: #"name = "atelier-nord""#)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-system-\(UUID().uuidString).toml").path
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try HealthPolicy.loadStandard(systemPath: path, builtInDirectory: builtIn).name == "atelier-nord")
        #expect(try HealthPolicy.loadStandard(explicitPath: none.sourcePath, systemPath: path, builtInDirectory: builtIn).name == "ardoise-default")
    }

    @Test(arguments: [
        // (old line, new line, field, error words)
        ("discard-at = 100\n\n[[ata-attribute]]\nid = 187", "discard-at = \"many\"\n\n[[ata-attribute]]\nid = 187", "ata-attribute[1].discard-at", "string instead of integer"),
        ("id = 188", "id = 300", "ata-attribute[3].id", "not an ATA attribute number"),
        ("id = 188", "id = 5", "ata-attribute[3].id", "already has a rule"),
        ("code = \"ata_interface_crc_errors\"\ncaution-at = 100", "code = \"ata_interface_crc_errors\"\ncaution-at = 100\ndiscard-at = 1000", "ata-attribute[6].discard-at", "points at the cable"),
        ("overall-failed = \"discard\"", "overall-failed = \"destroy\"", "smart.overall-failed", "expected ignore, caution or discard"),
        ("read-only = \"discard\"", "read-only = \"discard\"\nread-write = \"caution\"", "nvme.read-write", "unknown field"),
        ("grown-defects-discard-at = 100", "grown-defects-discard-at = 0", "scsi.grown-defects-discard-at", "≥ 1"),
        ("uncorrected-errors-discard-at = 10", "uncorrected-errors-discard-at = 0", "scsi.uncorrected-errors-discard-at", "≥ 1"),
        ("media-errors-discard-at = 100", "media-errors-discard-at = 0", "nvme.media-errors-discard-at", "≥ 1"),
        ("percentage-used-discard-at = 100", "percentage-used-discard-at = 50", "nvme.percentage-used-discard-at", "must be ≥ percentage-used-caution-at"),
        ("schema = 1", "schema = 2", "schema", "schema 2 not supported"),
        ("code = \"ata_pending_sectors\"", "code = \"Pending Sectors\"", "ata-attribute[4].code", "lowercase"),
        ("latest-failed = \"discard\"", "", "self-test.latest-failed", "required field missing"),
    ])
    func invalidPolicyNamesFileLineAndField(old: String, new: String, field: String, words: String) throws {
        let text = try Self.variant(replacing: old, with: new)
        do {
            _ = try Self.parse(text)
            Issue.record("accepted: \(new)")
        } catch {
            #expect(error.code == .invalidPolicy)
            #expect(error.field == field)
            #expect(error.message.english.contains(words), "\(error.message.english)")
            #expect(error.file?.hasSuffix(".toml") == true)
            let key = String(field.split(separator: ".").last ?? "")
            let original = try Self.defaultText()
            if !new.isEmpty, let range = original.range(of: old),
               let offset = new.split(separator: "\n", omittingEmptySubsequences: false).firstIndex(where: { $0.hasPrefix(key + " ") }) {
                // The line named is the line of the offending key in the file.
                let expected = original[..<range.lowerBound].filter { $0 == "\n" }.count + 1 + offset
                #expect(error.line == expected, "line \(error.line ?? 0) vs \(expected) for \(field)")
            }
            #expect(error.text(in: .english).hasPrefix("\(error.file!):\(error.line!): field '\(field)': "))
        }
    }

    @Test func missingSectionAndSyntaxError() throws {
        let text = try Self.defaultText()
        let withoutScsi = text.replacingOccurrences(of: "[scsi]", with: "[scsi-old]")
        do { _ = try Self.parse(withoutScsi); Issue.record("accepted") } catch {
            #expect(error.field == "scsi-old")
            #expect(error.line == Self.lineOf("[scsi-old]", in: withoutScsi))
        }
        let broken = text.replacingOccurrences(of: "overall-failed = \"discard\"", with: "overall-failed = \"discard")
        do { _ = try Self.parse(broken); Issue.record("accepted") } catch {
            #expect(error.code == .invalidPolicy)
            #expect(error.line == Self.lineOf("overall-failed", in: broken))
            #expect(error.message.english.contains("invalid TOML syntax"))
        }
        do { _ = try HealthPolicy.load(path: "/nonexistent/policy.toml"); Issue.record("accepted") } catch {
            #expect(error.code == .policyUnreadable)
            #expect(error.exitCode == 88)
        }
    }

    @Test func anOrganisationCanTightenAndLoosen() throws {
        // A stricter bench: any pending sector is discard; a looser one ignores the overall status.
        let strict = try Self.parse(try Self.variant(replacing: "code = \"ata_reallocated_sectors\"\ncaution-at = 1\ndiscard-at = 100",
                                                     with: "code = \"ata_reallocated_sectors\"\ncaution-at = 1\ndiscard-at = 10"))
        #expect(try judge("ata-hdd-caution.json", policy: strict).verdict == .discard)
        let loose = try Self.parse(try Self.variant(replacing: "overall-failed = \"discard\"", with: "overall-failed = \"ignore\""))
        let report = try judge("nvme-worn.json", policy: loose)
        #expect(!report.codes.contains("smart_status_failed"))
        #expect(report.verdict == .discard)  // the critical-warning bits still condemn it
    }
}
