import ArdoiseTestSupport
import Crypto
import Foundation
import Journal
import Testing
@testable import Certificates

@Suite struct SigningTests {
    @Test func roundTripIssueThenVerifyJSONAndPDF() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = try JournalDatabase(dataDirectory: directory + "/data")
        let input = Fixture.input()
        try journal.startJob(JobRecord(id: input.jobID, driveID: nil, profile: input.profile, technician: "Zoé", lot: input.lot))
        try journal.finishJob(id: input.jobID, status: .completed)

        let issuer = CertificateIssuer(key: Fixture.key, outputDirectory: directory + "/out", journal: journal)
        let issued = try issuer.issue(input)
        #expect(issued.status == .erased)
        #expect(issued.jsonPath.hasSuffix("/\(input.id.uuidString.lowercased()).json"))

        let json = try CertificateVerifier.verify(fileAt: issued.jsonPath, trusting: Fixture.trusted)
        #expect(json.verdict == .valid, "\(json.reasons)")
        #expect(json.payload == issued.signed.payload)
        #expect(json.keyID == Fixture.key.thumbprint)
        let pdf = try CertificateVerifier.verify(fileAt: issued.pdfPath, trusting: Fixture.trusted)
        #expect(pdf.verdict == .valid, "\(pdf.reasons)")
        #expect(pdf.signedJSONSHA256 == issued.signed.sha256)

        let records = try journal.certificates(jobID: input.jobID)
        #expect(records.count == 1)
        #expect(records.first?.signedJSONSHA256 == issued.signed.sha256)
        #expect(try journal.pendingOutbox().map(\.certificateID) == [input.id])
        #expect(try journal.events(jobID: input.jobID).map(\.kind).last == JournalEventKind.certificateIssued)
        #expect(try journal.verifyChain().isIntact)
    }

    @Test func lotFromTheJournal() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = try JournalDatabase(dataDirectory: directory + "/data")
        let issuer = CertificateIssuer(key: Fixture.key, outputDirectory: directory + "/out", journal: journal, language: .english)
        for index in 0..<4 {
            var input = Fixture.input(id: UUID(), jobID: UUID(), serial: "SN-\(index)",
                                      outcome: index == 3 ? .driveRemoved : .completed)
            input.lot = "LOT-7"
            try journal.startJob(JobRecord(id: input.jobID, driveID: nil, profile: input.profile, technician: "t", lot: "LOT-7"))
            try journal.finishJob(id: input.jobID, status: index == 3 ? .failed : .completed)
            _ = try issuer.issue(input)
        }
        let path = try issuer.issueLot(lot: "LOT-7", fileName: "LOT-7.pdf")
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(try issuer.issueLot(lot: "LOT-7", fileName: "again.pdf").hasSuffix("again.pdf"))
        #expect(throws: CertificateError.self) { try issuer.issueLot(lot: "EMPTY", fileName: "x.pdf") }
        // A certificate edited on disk is refused.
        let record = try #require(try journal.certificates().first)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: record.jsonPath)))
        bytes[30] = bytes[30] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        try Data(bytes).write(to: URL(fileURLWithPath: record.jsonPath))
        #expect(throws: CertificateError.self) { try issuer.issueLot(lot: "LOT-7", fileName: "LOT-7.pdf") }
    }

    /// Random damage to a PDF never crashes the verifier, and never yields "valid" for a
    /// different certificate (flips in unsigned metadata such as /Producer may stay valid).
    @Test func damagedPDFsNeverCrashOrLie() throws {
        let signed = try Fixture.signed()
        let pdf = [UInt8](try CertificatePDF.render(payload: signed.payload, signedJSON: signed.signedJSON, sha256: signed.sha256,
                                                    keyID: signed.keyID, language: .french))
        var random = SplitMix64(seed: 20_261_127)
        var valid = 0
        for round in 0..<100 {
            var copy = pdf
            let flips = 1 + Int(random.next() % 4)
            for _ in 0..<flips { copy[Int(random.next() % UInt64(copy.count))] ^= UInt8(1 + random.next() % 255) }
            if round % 10 == 0 { copy = Array(copy.prefix(Int(random.next() % UInt64(copy.count)))) }
            let report = CertificateVerifier.verify(data: Data(copy), trusting: Fixture.trusted)
            if report.verdict == .valid {
                valid += 1
                #expect(report.payload == signed.payload)
                #expect(report.signedJSONSHA256 == signed.sha256)
            }
        }
        #expect(valid < 100)
    }

    @Test func flippingAnyByteOfTheSignedJSONIsNeverValid() throws {
        let signed = try Fixture.signed()
        let bytes = [UInt8](signed.signedJSON)
        var verdicts: [CertificateVerdict: Int] = [:]
        for position in bytes.indices {
            for mask: UInt8 in [0x01, 0x20] {
                var copy = bytes
                copy[position] ^= mask
                let report = CertificateVerifier.verify(data: Data(copy), trusting: Fixture.trusted)
                #expect(report.verdict != .valid, "byte \(position) ^ \(mask) still verifies")
                verdicts[report.verdict, default: 0] += 1
            }
        }
        // Flips inside the three base64url strings that stay in the alphabet are caught by the
        // signature, not by parsing.
        #expect((verdicts[.tampered] ?? 0) > bytes.count / 2)
    }

    @Test func flippingEachPayloadAndSignatureCharacterIsTampered() throws {
        let signed = try Fixture.signed()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        for field in ["payload", "signature"] {
            let original = field == "payload" ? signed.jws.payload : signed.jws.signature
            var characters = Array(original)
            for position in stride(from: 0, to: characters.count, by: max(1, characters.count / 400)) {
                let saved = characters[position]
                // Another character of the alphabet, so the text stays base64url.
                characters[position] = alphabet[(alphabet.firstIndex(of: saved)! + 1) % alphabet.count]
                var jws = signed.jws
                if field == "payload" { jws.payload = String(characters) } else { jws.signature = String(characters) }
                let report = CertificateVerifier.verify(data: jws.serialized(), trusting: Fixture.trusted)
                #expect(report.verdict == .tampered, "\(field)[\(position)]: \(report.verdict)")
                characters[position] = saved
            }
        }
    }

    @Test func anotherKeyIsUnknownKey() throws {
        let signed = try Fixture.signed(key: Fixture.otherKey)
        let report = CertificateVerifier.verify(data: signed.signedJSON, trusting: Fixture.trusted)
        #expect(report.verdict == .unknownKey)
        #expect(report.verdict.exitStatus == 3)
        #expect(report.keyID == Fixture.otherKey.thumbprint)

        // Without the embedded JWK the verifier cannot check the signature at all: still unknown key.
        let bare = try CertificateSigner.signRaw(payload: Array(Base64URL.decode(signed.jws.payload)!), with: Fixture.otherKey,
                                                 embedPublicKey: false)
        #expect(CertificateVerifier.verify(data: bare.serialized(), trusting: Fixture.trusted).verdict == .unknownKey)
        // And with no trusted key at all.
        #expect(CertificateVerifier.verify(data: try Fixture.signed().signedJSON, trusting: TrustedKeys()).verdict == .unknownKey)
    }

    @Test func headerIsAlgEd25519WithThumbprintKid() throws {
        let signed = try Fixture.signed()
        let header = try JSONSerialization.jsonObject(with: Data(Base64URL.decode(signed.jws.protected)!)) as? [String: Any]
        #expect(header?["alg"] as? String == "Ed25519")
        #expect(header?["kid"] as? String == Fixture.key.thumbprint)
        #expect(header?["typ"] as? String == "jose+json")
        let outer = try JSONSerialization.jsonObject(with: signed.signedJSON) as? [String: Any]
        #expect(Set(outer?.keys.map { $0 } ?? []) == ["payload", "protected", "signature"])
    }

    /// RFC 8037 Appendix A.3: the thumbprint of the A.2 public key.
    @Test func thumbprintMatchesRFC8037Vector() throws {
        #expect(Fixture.key.publicJWK.x == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
        #expect(Fixture.key.thumbprint == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")
    }

    /// A second, standard implementation: joserfc (PyPI) with `alg: Ed25519` (RFC 9864), and
    /// pyca/cryptography's raw Ed25519 over `protected.payload`.
    @Test(.enabled(if: Fixture.hasPython("joserfc", "cryptography"), "needs python3 with joserfc and cryptography (pip install joserfc)"))
    func independentJOSELibraryVerifies() throws {
        let python = try #require(Fixture.tool("python3"))
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let signed = try Fixture.signed()
        try signed.signedJSON.write(to: URL(fileURLWithPath: directory + "/cert.json"))
        try Fixture.key.publicJWK.jsonData().write(to: URL(fileURLWithPath: directory + "/key.jwk"))
        try Fixture.otherKey.publicJWK.jsonData().write(to: URL(fileURLWithPath: directory + "/other.jwk"))
        let script = """
        import json, sys, base64
        from joserfc import jws
        from joserfc.jwk import OKPKey
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        d = sys.argv[1]
        doc = json.load(open(d + "/cert.json"))
        key = OKPKey.import_key(json.load(open(d + "/key.jwk")))
        obj = jws.deserialize_json(doc, key, algorithms=["Ed25519"])
        assert obj.headers()["alg"] == "Ed25519", obj.headers()
        payload = json.loads(obj.payload)
        print(payload["id"], payload["result"]["status"])
        other = OKPKey.import_key(json.load(open(d + "/other.jwk")))
        try:
            jws.deserialize_json(doc, other, algorithms=["Ed25519"])
            print("OTHER-KEY-ACCEPTED")
        except Exception:
            pass
        b64 = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
        jwk = json.load(open(d + "/key.jwk"))
        Ed25519PublicKey.from_public_bytes(b64(jwk["x"])).verify(b64(doc["signature"]), (doc["protected"] + "." + doc["payload"]).encode())
        print("raw-ok")
        """
        let result = try Fixture.run(python, ["-c", script, directory])
        let output = String(decoding: result.output, as: UTF8.self)
        #expect(result.status == 0, "\(result.error)")
        #expect(output.contains("\(signed.payload.id) erased"))
        #expect(output.contains("raw-ok"))
        #expect(!output.contains("OTHER-KEY-ACCEPTED"))
    }

    /// The other direction: a JWS made by joserfc with `alg: Ed25519` over our payload is
    /// accepted by our verifier.
    @Test(.enabled(if: Fixture.hasPython("joserfc"), "needs python3 with joserfc (pip install joserfc)"))
    func jwsSignedByJOSELibraryIsValid() throws {
        let python = try #require(Fixture.tool("python3"))
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let signed = try Fixture.signed()
        try Data(Base64URL.decode(signed.jws.payload)!).write(to: URL(fileURLWithPath: directory + "/payload.json"))
        let privateJWK = try JSONEncoder().encode(PrivateJWK(key: Fixture.key.privateKey))
        try privateJWK.write(to: URL(fileURLWithPath: directory + "/private.jwk"))
        let script = """
        import json, sys
        from joserfc import jws
        from joserfc.jwk import OKPKey
        d = sys.argv[1]
        key = OKPKey.import_key(json.load(open(d + "/private.jwk")))
        member = {"protected": {"alg": "Ed25519", "kid": key.thumbprint()}}
        out = jws.serialize_json(member, open(d + "/payload.json", "rb").read(), key, algorithms=["Ed25519"])
        json.dump(out, open(d + "/jose.json", "w"))
        """
        let result = try Fixture.run(python, ["-c", script, directory])
        #expect(result.status == 0, "\(result.error)")
        let data = try #require(FileManager.default.contents(atPath: directory + "/jose.json"))
        let report = CertificateVerifier.verify(data: data, trusting: Fixture.trusted)
        #expect(report.verdict == .valid, "\(report.reasons)")
        #expect(report.payload == signed.payload)
    }

    @Test func base64URLIsStrict() {
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.decode("-_8") == [0xFB, 0xFF])
        #expect(Base64URL.decode("-_9") == nil)      // non-zero unused bits
        #expect(Base64URL.decode("-_8=") == nil)     // padding
        #expect(Base64URL.decode("+/8") == nil)      // standard alphabet
        #expect(Base64URL.decode("A") == nil)
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
    }
}
