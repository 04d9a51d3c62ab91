import Foundation
import Testing
@testable import Certificates

@Suite struct BadInputTests {
    @Test func truncatedJSONIsMalformed() throws {
        let signed = try Fixture.signed()
        for length in [0, 1, 10, signed.signedJSON.count / 2, signed.signedJSON.count - 1] {
            let report = CertificateVerifier.verify(data: signed.signedJSON.prefix(length), trusting: Fixture.trusted)
            #expect(report.verdict == .malformed, "length \(length)")
            #expect(report.verdict.exitStatus == 4)
        }
    }

    @Test func editedPayloadIsTampered() throws {
        let signed = try Fixture.signed(Fixture.input(outcome: .interrupted(reason: "power loss")))
        #expect(signed.payload.result.status == .notErased)
        var text = String(decoding: Base64URL.decode(signed.jws.payload)!, as: UTF8.self)
        text = text.replacingOccurrences(of: "\"status\":\"not_erased\"", with: "\"status\":\"erased\"")
        var jws = signed.jws
        jws.payload = Base64URL.encode(Array(text.utf8))
        let report = CertificateVerifier.verify(data: jws.serialized(), trusting: Fixture.trusted)
        #expect(report.verdict == .tampered)
        #expect(report.verdict.exitStatus == 2)
    }

    @Test func unknownSchemaVersionIsMalformed() throws {
        let signed = try Fixture.signed()
        var text = String(decoding: Base64URL.decode(signed.jws.payload)!, as: UTF8.self)
        text = text.replacingOccurrences(of: "\"schemaVersion\":1", with: "\"schemaVersion\":2")
        let jws = try CertificateSigner.signRaw(payload: Array(text.utf8), with: Fixture.key)
        let report = CertificateVerifier.verify(data: jws.serialized(), trusting: Fixture.trusted)
        #expect(report.verdict == .malformed)
        #expect(report.reasons.contains { $0.english.contains("Unknown schema version") })
    }

    @Test func missingRequiredFieldIsMalformed() throws {
        let signed = try Fixture.signed()
        var object = try JSONSerialization.jsonObject(with: Data(Base64URL.decode(signed.jws.payload)!)) as! [String: Any]
        var media = object["media"] as! [String: Any]
        media.removeValue(forKey: "serial")
        object["media"] = media
        let jws = try CertificateSigner.signRaw(payload: [UInt8](try JSONSerialization.data(withJSONObject: object)), with: Fixture.key)
        let report = CertificateVerifier.verify(data: jws.serialized(), trusting: Fixture.trusted)
        #expect(report.verdict == .malformed)
        #expect(report.reasons.contains { $0.english.contains("media.serial") })
    }

    @Test func otherAlgorithmIsMalformed() throws {
        let signed = try Fixture.signed()
        let header = #"{"alg":"HS256","kid":"x"}"#
        var jws = signed.jws
        jws.protected = Base64URL.encode(Array(header.utf8))
        #expect(CertificateVerifier.verify(data: jws.serialized(), trusting: Fixture.trusted).verdict == .malformed)
    }

    @Test func pdfWithoutAttachmentIsMalformed() throws {
        let signed = try Fixture.signed()
        let pdf = try CertificatePDF.render(payload: signed.payload, signedJSON: nil, sha256: signed.sha256, keyID: signed.keyID, language: .french)
        let report = CertificateVerifier.verify(data: pdf, trusting: Fixture.trusted)
        #expect(report.verdict == .malformed)
        #expect(report.isPDF)
    }

    @Test func pdfWhosePageWasEditedIsTampered() throws {
        let signed = try Fixture.signed()
        let pdf = try CertificatePDF.render(payload: signed.payload, signedJSON: signed.signedJSON, sha256: signed.sha256,
                                            keyID: signed.keyID, language: .french)
        #expect(CertificateVerifier.verify(data: pdf, trusting: Fixture.trusted).verdict == .valid)
        // Same length, so the cross-reference table stays valid and only the page text differs.
        let edited = replacing(Array("WD-WCC4N7KZ1234".utf8), with: Array("WD-WCC4N7KZ9999".utf8), in: [UInt8](pdf))
        #expect(edited != [UInt8](pdf))
        let report = CertificateVerifier.verify(data: Data(edited), trusting: Fixture.trusted)
        #expect(report.verdict == .tampered, "\(report.reasons)")
    }

    @Test func olderLayoutIsCheckedByIDAndHash() throws {
        let signed = try Fixture.signed()
        let pdf = [UInt8](try CertificatePDF.render(payload: signed.payload, signedJSON: signed.signedJSON, sha256: signed.sha256,
                                                    keyID: signed.keyID, language: .french))
        // Pretend an older Ardoise made it (same length keeps the xref valid), and change the
        // page: the exact comparison is skipped, the id and hash are still required.
        let older = replacing(Array(CertificatePDF.layoutCreator.utf8), with: Array("Ardoise certificate layout 0".utf8), in: pdf)
        let report = CertificateVerifier.verify(data: Data(older), trusting: Fixture.trusted)
        #expect(report.verdict == .valid)
        #expect(report.reasons.contains { $0.english.contains("Layout of another version") })
        let edited = replacing(Array("WD-WCC4N7KZ1234".utf8), with: Array("WD-WCC4N7KZ9999".utf8), in: older)
        #expect(CertificateVerifier.verify(data: Data(edited), trusting: Fixture.trusted).verdict == .valid)
        let noHash = replacing(Array(signed.sha256.prefix(20).utf8), with: Array(String(repeating: "0", count: 20).utf8), in: older)
        #expect(CertificateVerifier.verify(data: Data(noHash), trusting: Fixture.trusted).verdict == .tampered)
    }

    @Test func pdfWithAnotherCertificateAttachedIsTampered() throws {
        let first = try Fixture.signed()
        let second = try Fixture.signed(Fixture.input(id: UUID(), serial: "OTHER-SERIAL"))
        // The page and keywords of the first, the attachment of the second.
        let pdf = try CertificatePDF.render(payload: first.payload, signedJSON: second.signedJSON, sha256: first.sha256,
                                            keyID: first.keyID, language: .english)
        #expect(CertificateVerifier.verify(data: pdf, trusting: Fixture.trusted).verdict == .tampered)
    }

    @Test func notAPDFNorJSON() {
        #expect(CertificateVerifier.verify(data: Data("%PDF-1.4 garbage".utf8), trusting: Fixture.trusted).verdict == .malformed)
        #expect(CertificateVerifier.verify(data: Data([0xFF, 0x00, 0x12]), trusting: Fixture.trusted).verdict == .malformed)
    }

    private func replacing(_ needle: [UInt8], with replacement: [UInt8], in bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        var index = 0
        while index + needle.count <= out.count {
            if Array(out[index..<(index + needle.count)]) == needle {
                out.replaceSubrange(index..<(index + needle.count), with: replacement)
                index += needle.count
            } else {
                index += 1
            }
        }
        return out
    }
}
