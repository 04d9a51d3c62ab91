import ArdoiseSupport
import ErasureRecords
import Foundation
import Testing
@testable import Certificates

@Suite struct PDFTests {
    /// Writes the French and English PDFs of the fixture certificate.
    static func makePDF(language: Language = .french, in directory: String,
                        input: CertificateInput = Fixture.input()) throws -> (SignedCertificate, String) {
        let signed = try Fixture.signed(input)
        let pdf = try CertificatePDF.render(payload: signed.payload, signedJSON: signed.signedJSON, sha256: signed.sha256,
                                            keyID: signed.keyID, language: language)
        let path = directory + "/\(signed.payload.id)-\(language.rawValue).pdf"
        try pdf.write(to: URL(fileURLWithPath: path))
        return (signed, path)
    }

    @Test(.enabled(if: Fixture.has("pdftotext"), "needs pdftotext (poppler-utils)"), arguments: Language.allCases)
    func pdftotextShowsSerialStatusAndID(language: Language) throws {
        let pdftotext = try #require(Fixture.tool("pdftotext"))
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (signed, path) = try Self.makePDF(language: language, in: directory)
        let result = try Fixture.run(pdftotext, ["-enc", "UTF-8", path, "-"])
        let text = String(decoding: result.output, as: UTF8.self)
        #expect(result.status == 0, "\(result.error)")
        #expect(text.contains("WD-WCC4N7KZ1234"))
        #expect(text.contains(signed.payload.id))
        #expect(text.contains(language == .french ? "EFFACÉ" : "ERASED"))
        // One language on the page: the status in words, not beside its code.
        #expect(!text.contains("(erased)"))
        #expect(text.contains(signed.keyID))
        #expect(text.contains(language == .french ? "Zoé Lefèvre" : "Zoé Lefèvre"))
        #expect(text.contains(language == .french ? "Écoles" : "Écoles"))
        #expect(text.contains(language == .french ? "Passe 1" : "Pass 1"))
    }

    @Test(.enabled(if: Fixture.has("pdfdetach"), "needs pdfdetach (poppler-utils)"))
    func pdfdetachExtractsTheSignedJSON() throws {
        let pdfdetach = try #require(Fixture.tool("pdfdetach"))
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (signed, path) = try Self.makePDF(in: directory)
        let out = directory + "/detached"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let result = try Fixture.run(pdfdetach, ["-saveall", "-o", out, path])
        #expect(result.status == 0, "\(result.error)")
        let files = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(files == ["\(signed.payload.id).json"])
        #expect(FileManager.default.contents(atPath: out + "/\(signed.payload.id).json") == signed.signedJSON)
    }

    @Test(.enabled(if: Fixture.has("pdftoppm", "zbarimg"), "needs pdftoppm (poppler-utils) and zbarimg (zbar-tools)"))
    func qrCodeDecodesToIDAndHash() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (signed, path) = try Self.makePDF(in: directory)
        let text = try Self.decodeQRCode(path, in: directory)
        #expect(text == "ARDOISE1;\(signed.payload.id);\(signed.sha256)")
        #expect(QRText.parse(text)?.sha256 == signed.sha256)
    }

    /// A bench that sends to a store names the certificate's page there: the QR code opens it
    /// with the paper's hash, and the PDF still verifies page for page.
    @Test(.enabled(if: Fixture.has("pdftoppm", "zbarimg"), "needs pdftoppm (poppler-utils) and zbarimg (zbar-tools)"))
    func qrCodeOpensTheStorePageWhenTheCertificateNamesOne() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var input = Fixture.input()
        let page = "https://registre.ogo.example/c/" + input.id.uuidString.lowercased()
        input.verificationURL = page
        let (signed, path) = try Self.makePDF(in: directory, input: input)
        #expect(signed.payload.verificationURL == page)
        #expect(try Self.decodeQRCode(path, in: directory) == page + "?h=" + signed.sha256)
        #expect(signed.qrText == page + "?h=" + signed.sha256)
        let report = CertificateVerifier.verifyPDF(try Data(contentsOf: URL(fileURLWithPath: path)), trusting: Fixture.trusted)
        #expect(report.verdict == .valid, "\(report.reasons)")
    }

    /// The text of the QR code on the PDF's first page (pdftoppm, then zbarimg).
    static func decodeQRCode(_ path: String, in directory: String) throws -> String {
        let pdftoppm = try #require(Fixture.tool("pdftoppm"))
        let zbarimg = try #require(Fixture.tool("zbarimg"))
        let render = try Fixture.run(pdftoppm, ["-png", "-r", "150", "-f", "1", "-l", "1", path, directory + "/page"])
        #expect(render.status == 0, "\(render.error)")
        let image = try #require(try FileManager.default.contentsOfDirectory(atPath: directory).first { $0.hasPrefix("page") && $0.hasSuffix(".png") })
        let decoded = try Fixture.run(zbarimg, ["--raw", "-q", directory + "/" + image])
        return String(decoding: decoded.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func renderingIsDeterministic() throws {
        let signed = try Fixture.signed()
        let first = try CertificatePDF.render(payload: signed.payload, signedJSON: nil, sha256: signed.sha256, keyID: signed.keyID, language: .french)
        let second = try CertificatePDF.render(payload: signed.payload, signedJSON: nil, sha256: signed.sha256, keyID: signed.keyID, language: .french)
        #expect(PDFScanner(data: [UInt8](first)).pageContentStreams() == PDFScanner(data: [UInt8](second)).pageContentStreams())
        #expect(!PDFScanner(data: [UInt8](first)).pageContentStreams().isEmpty)
    }

    @Test(.enabled(if: Fixture.has("pdftotext"), "needs pdftotext (poppler-utils)"))
    func lotPDFListsEveryDrive() throws {
        var payloads: [CertificatePayload] = []
        for index in 0..<60 {
            let id = UUID(uuidString: String(format: "00000000-0000-4000-8000-%012d", index))!
            let outcome: CertificateInput.Outcome = index % 7 == 3 ? .interrupted(reason: "removed") : .completed
            let input = Fixture.input(id: id, serial: String(format: "SN%04d", index),
                                      finalVerification: index % 5 == 4 ? nil : VerificationRecord(mode: "full", result: .passed),
                                      outcome: outcome)
            payloads.append(CertificatePayload(input: input))
        }
        let pdf = try LotCertificatePDF.render(payloads: payloads, language: .french)
        let pdftotext = try #require(Fixture.tool("pdftotext"))
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try pdf.write(to: URL(fileURLWithPath: directory + "/lot.pdf"))
        let text = String(decoding: try Fixture.run(pdftotext, ["-enc", "UTF-8", directory + "/lot.pdf", "-"]).output, as: UTF8.self)
        for payload in payloads {
            #expect(text.contains(payload.id))
            #expect(text.contains(payload.media.serial))
        }
        let counts = Dictionary(grouping: payloads, by: \.result.status).mapValues(\.count)
        #expect(text.contains("Mairie de Villeurbanne"))
        #expect(text.contains("LOT-2026-042"))
        #expect(text.contains("NON EFFACÉ : \(counts[.notErased] ?? 0)"))
        #expect(text.contains("EFFACÉ AVEC RÉSERVES : \(counts[.erasedWithExceptions] ?? 0)"))
    }

    @Test(.enabled(if: Fixture.has("python3"), "needs python3 (zlib reference streams)"))
    func inflateReadsZlibStreams() throws {
        // A stored block, fixed Huffman and dynamic Huffman streams made by Python's zlib.
        let python = try #require(Fixture.tool("python3"))
        let original = (0..<5000).map { "ligne \($0 % 97) é\n" }.joined()
        for level in [0, 1, 9] {
            let result = try Fixture.run(python, ["-c", "import sys,zlib; sys.stdout.buffer.write(zlib.compress(sys.argv[1].encode(), \(level)))", original])
            #expect(try Inflate.zlib([UInt8](result.output)) == Array(original.utf8), "level \(level)")
        }
        #expect(throws: Inflate.Failure.self) { try Inflate.zlib([0x78, 0x9C, 0xFF, 0xFF, 0, 0, 0, 0]) }
    }
}
