import Foundation
import Testing
@testable import Certificates

/// The optional `health` member (docs/certificate.md): signed with the rest, absent when no
/// health check ran, so certificates made before it existed read and verify as before.
@Suite struct HealthMemberTests {
    static let health = DriveHealth(
        verdict: "discard",
        reasons: [DriveHealth.Reason(code: "ata_reallocated_sectors", severity: "discard", attribute: "5 Reallocated_Sector_Ct",
                                     value: .number(2472), threshold: .number(100)),
                  DriveHealth.Reason(code: "nvme_spare_below_threshold", severity: "discard",
                                     field: "nvme_smart_health_information_log.critical_warning", value: .number(5), threshold: .text("bit 0"))],
        powerOnHours: 41022, policyVersion: "ardoise-default 2026.12-1", checkedAt: Fixture.start.addingTimeInterval(0.7))

    static func payloadBytes(_ signed: SignedCertificate) -> Data {
        var encoded = signed.jws.payload.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while encoded.count % 4 != 0 { encoded += "=" }
        return Data(base64Encoded: encoded) ?? Data()
    }

    @Test func healthIsSignedAndVerifies() throws {
        var input = Fixture.input()
        input.health = Self.health
        let signed = try Fixture.signed(input)
        let report = CertificateVerifier.verify(data: signed.signedJSON, trusting: Fixture.trusted)
        #expect(report.verdict == .valid, "\(report.reasons)")
        #expect(report.payload?.health == Self.health)
        let object = try #require(try JSONSerialization.jsonObject(with: Self.payloadBytes(signed)) as? [String: Any])
        let health = try #require(object["health"] as? [String: Any])
        #expect(health["verdict"] as? String == "discard")
        #expect(health["checkedAt"] as? String == "2026-09-21T14:13:20Z")
        let reasons = try #require(health["reasons"] as? [[String: Any]])
        #expect(reasons[0]["value"] as? Int == 2472)
        #expect(reasons[1]["threshold"] as? String == "bit 0")
        // The health verdict never changes the erasure status.
        #expect(signed.payload.result.status == .erased)
    }

    @Test func theSummaryNamesTheVerdictInWords() throws {
        var input = Fixture.input()
        input.health = Self.health
        let payload = CertificatePayload(input: input)
        let french = CertificateSummary(payload: payload, keyID: nil, sha256: nil, language: .french)
        let section = try #require(french.sections.first { $0.title.hasPrefix("Santé du disque") })
        #expect(section.rows.first?.value == "à détruire (discard)")
        #expect(section.rows.contains { $0.value.contains("ata_reallocated_sectors = 2472 (seuil 100)") })
        let english = CertificateSummary(payload: payload, keyID: nil, sha256: nil, language: .english)
        #expect(english.sections.contains { $0.title == "Drive health (before erasure)" })
        let none = CertificateSummary(payload: CertificatePayload(input: Fixture.input()), keyID: nil, sha256: nil, language: .french)
        #expect(!none.sections.contains { $0.title.hasPrefix("Santé") })
    }

    @Test(.enabled(if: Fixture.has("pdftotext"), "needs pdftotext (poppler-utils)"))
    func thePDFShowsTheHealthSectionOnItsPage() throws {
        var input = Fixture.input()
        input.health = Self.health
        let signed = try Fixture.signed(input)
        let pdf = try CertificatePDF.render(payload: signed.payload, signedJSON: signed.signedJSON, sha256: signed.sha256,
                                            keyID: signed.keyID, language: .french)
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/health.pdf"
        try pdf.write(to: URL(fileURLWithPath: path))
        let result = try Fixture.run(try #require(Fixture.tool("pdftotext")), ["-enc", "UTF-8", path, "-"])
        let text = String(decoding: result.output, as: UTF8.self)
        #expect(text.contains("Santé du disque"))
        #expect(text.contains("à détruire (discard)"))
        #expect(text.contains(signed.keyID))  // the proof section still fits after it
    }

    @Test func withoutHealthTheMemberIsAbsent() throws {
        let signed = try Fixture.signed(Fixture.input())
        let object = try #require(try JSONSerialization.jsonObject(with: Self.payloadBytes(signed)) as? [String: Any])
        #expect(object["health"] == nil)
        #expect(signed.payload.health == nil)
        #expect(CertificateVerifier.verify(data: signed.signedJSON, trusting: Fixture.trusted).verdict == .valid)
    }
}

@Suite struct HealthSchemaTests {
    /// A payload carrying `health` validates against docs/certificate.schema.json; a wrong
    /// verdict or an unknown member in it does not.
    @Test(.enabled(if: Fixture.hasPython("jsonschema"), "needs python3 with jsonschema (pip install jsonschema)"))
    func healthFollowsTheDocumentedSchema() throws {
        let python = try #require(Fixture.tool("python3"))
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var input = Fixture.input()
        input.health = HealthMemberTests.health
        let signed = try Fixture.signed(input)
        let path = directory + "/health.json"
        try HealthMemberTests.payloadBytes(signed).write(to: URL(fileURLWithPath: path))
        let script = """
        import json, sys, jsonschema
        schema = json.load(open(sys.argv[1]))
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
        doc = json.load(open(sys.argv[2]))
        validator.validate(doc)
        doc["health"]["verdict"] = "fine"
        assert not validator.is_valid(doc)
        doc["health"]["verdict"] = "reuse"
        doc["health"]["mood"] = "good"
        assert not validator.is_valid(doc)
        print("health-schema-ok")
        """
        let result = try Fixture.run(python, ["-c", script, SchemaAndCLITests.repositoryRoot + "/docs/certificate.schema.json", path])
        #expect(result.status == 0, "\(result.error)")
        #expect(String(decoding: result.output, as: UTF8.self).contains("health-schema-ok"))
    }
}
