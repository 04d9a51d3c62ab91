import ArdoiseSupport
import ArdoiseTestSupport
import ErasureRecords
import Foundation
import Testing
@testable import Certificates

/// What a technician and a donor read (issue 11, items 9 and 10): a lot PDF holds one lot and
/// numbers its pages "i / N"; `cert lot` says what it wrote; a certificate speaks one
/// language, counts passes from 1 and does not call a not-erased drive "erased".
@Suite struct ReaderTextTests {
    static func payload(_ index: Int, lot: String, completed: Bool = true) -> CertificatePayload {
        var input = Fixture.input(id: UUID(uuidString: String(format: "00000000-0000-4000-8000-%012d", index))!,
                                  serial: String(format: "SN%04d", index),
                                  outcome: completed ? .completed : .interrupted(reason: "drive removed"))
        input.lot = lot
        return CertificatePayload(input: input)
    }

    func text(of pdf: Data) throws -> String {
        let pdftotext = try #require(Fixture.tool("pdftotext"))
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try pdf.write(to: URL(fileURLWithPath: directory + "/lot.pdf"))
        return String(decoding: try Fixture.run(pdftotext, ["-enc", "UTF-8", directory + "/lot.pdf", "-"]).output, as: UTF8.self)
    }

    @Test(.enabled(if: Fixture.has("pdftotext"), "needs pdftotext (poppler-utils)"))
    func aLotPDFListsOnlyItsLotSaysWhatItLeftOutAndNumbersPagesOfTotal() throws {
        let ours = (0..<70).map { Self.payload($0, lot: "LOT-A") }
        let others = (70..<72).map { Self.payload($0, lot: "LOT-B") }
        let selection = LotCertificatePDF.select(ours + others, lot: nil)
        #expect(selection.lot == "LOT-A" && selection.certificates.count == 70 && selection.skipped == 2)
        let pdf = try LotCertificatePDF.render(payloads: selection.certificates, language: .french, skipped: selection.skipped)
        let text = try text(of: pdf)
        for payload in ours { #expect(text.contains(payload.id)) }
        for payload in others { #expect(!text.contains(payload.id)) }
        #expect(text.contains("2 certificat(s) d'un autre lot"))
        let pages = text.components(separatedBy: "\u{0C}").filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }.count
        #expect(pages >= 2)
        for page in 1...pages { #expect(text.contains("Lot LOT-A · page \(page) / \(pages)"), "page \(page) / \(pages)") }
        // Mixed lots are refused rather than listed under one heading.
        #expect(throws: CertificateError.self) { try LotCertificatePDF.render(payloads: ours + others, language: .english) }
        // An explicit lot picks those.
        #expect(LotCertificatePDF.select(ours + others, lot: "LOT-B").certificates.map(\.id) == others.map(\.id))
    }

    @Test(.enabled(if: Fixture.ardoise() != nil && Fixture.has("pdftotext"), "needs the ardoise executable and pdftotext"))
    func certLotSaysWhatItWroteAndWhatItLeftOut() throws {
        let ardoise = try #require(Fixture.ardoise())
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = directory + "/data"
        let key = try BenchKey.loadOrCreate(dataDirectory: data)
        var files: [String] = []
        for (index, lot) in ["LOT-A", "LOT-A", "LOT-B"].enumerated() {
            var input = Fixture.input(id: UUID(), jobID: UUID(), serial: "SER\(index)")
            input.lot = lot
            files.append(try CertificateIssuer(key: key, outputDirectory: directory + "/out", journal: nil).issue(input).jsonPath)
        }
        let french = try Fixture.run(ardoise, ["cert", "lot"] + files + ["--output", directory + "/lot.pdf", "--data-dir", data])
        #expect(french.status == 0, "\(french.error)")
        #expect(String(decoding: french.output, as: UTF8.self) == "Lot LOT-A : 2 certificat(s) dans \(directory)/lot.pdf (1 d'un autre lot écarté(s))\n")
        #expect(french.error.contains(files[2]))
        let english = try Fixture.run(ardoise, ["cert", "lot"] + files + ["--lot", "LOT-B", "--output", directory + "/b.pdf", "--data-dir", data, "--lang", "en"])
        #expect(String(decoding: english.output, as: UTF8.self) == "Lot LOT-B: 1 certificate(s) in \(directory)/b.pdf (2 of another lot left out)\n")
        let text = try text(of: try Data(contentsOf: URL(fileURLWithPath: directory + "/b.pdf")))
        #expect(text.contains("SER2") && !text.contains("SER0"))
    }

    @Test func aNotErasedCertificateIsNotHeadedErasedAndSpeaksOneLanguage() {
        // A pass that covered half the drive, then the drive was pulled.
        let half = Fixture.capacity / 2
        let input = Fixture.input(passes: [PassRecord(index: 1, kind: "constant", patternHex: "00", bytesWritten: half,
                                                      durationSeconds: 100, verification: nil)],
                                  finalVerification: nil, outcome: .interrupted(reason: "drive removed"))
        let payload = CertificatePayload(input: input)
        #expect(payload.result.status == .notErased)
        // The signed detail counts passes from 1 too; passIndex stays the pass's 0-based index.
        let coverage = payload.result.exceptions.first { $0.kind == .incompleteCoverage }
        #expect(coverage?.detail.hasPrefix("pass 1 covered") == true && coverage?.passIndex == 0, "\(String(describing: coverage))")
        let french = CertificateSummary(payload: payload, keyID: "k", sha256: "h", language: .french)
        let titles = french.sections.map(\.title)
        #expect(!titles.contains("Support effacé") && titles.contains("Support"))
        let exceptions = french.sections.flatMap(\.rows).filter { $0.label == "Exception" }.map(\.value)
        #expect(exceptions.contains { $0.hasPrefix("la passe 1 n'a couvert que 250 053 931 008 octets") }, "\(exceptions)")
        #expect(exceptions.contains("aucune vérification finale"))
        #expect(!french.text.contains("pass 0") && !french.text.contains("covered") && !french.text.contains("(not_erased)"))
        #expect(french.text.contains("Passe 1"))
        let english = CertificateSummary(payload: payload, keyID: "k", sha256: "h", language: .english)
        #expect(!english.sections.map(\.title).contains("Erased medium"))
        #expect(english.text.contains("pass 1 covered only 250 053 931 008 bytes"))
        for word in ["Passe", "octets", "aucune", "travail"] { #expect(!english.text.contains(word), "\(word)") }
        // An erased drive keeps the heading.
        let erased = CertificateSummary(payload: CertificatePayload(input: Fixture.input()), keyID: "k", sha256: "h", language: .french)
        #expect(erased.sections.map(\.title).contains("Support effacé"))
    }
}
