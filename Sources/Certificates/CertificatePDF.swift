import ArdoiseSupport
import Foundation

/// The printable certificate (libharu). The page content depends only on the payload, the key
/// id, the hash and the language, so `cert verify` can render it again and compare.
public enum CertificatePDF {
    /// Names the page layout in the Info `Creator`. Bump it whenever the page content changes
    /// (text, order, geometry): `cert verify` compares pages exactly only for the current
    /// layout, and falls back to checking the id and hash on older ones.
    public static let layoutCreator = "Ardoise certificate layout 2"
    /// Renders one drive's certificate; `signedJSON` is attached as `<id>.json` unless nil.
    public static func render(payload: CertificatePayload, signedJSON: Data?, sha256: String, keyID: String,
                              language: Language) throws -> Data {
        let summary = CertificateSummary(payload: payload, keyID: keyID, sha256: sha256, language: language)
        let french = language == .french
        let canvas = try PDFCanvas()
        canvas.setInfo(title: summary.title + " " + payload.id,
                       subject: "\(payload.media.model) \(payload.media.serial) — \(payload.result.status.rawValue)",
                       keywords: QRText.make(id: payload.id, sha256: sha256), creator: layoutCreator)
        if let signedJSON { try canvas.attach(name: "\(payload.id).json", contents: signedJSON) }
        canvas.footer = (french ? "Certificat " : "Certificate ") + payload.id
            + (french ? " · vérifier : ardoise cert verify FICHIER · page" : " · verify: ardoise cert verify FILE · page")
        canvas.newPage()

        let left = PDFCanvas.margin
        let right = PDFCanvas.pageWidth - PDFCanvas.margin
        let qrSide: Float = 118
        try canvas.qrCode(QRText.code(for: payload, sha256: sha256), x: right - qrSide, y: PDFCanvas.pageHeight - PDFCanvas.margin - qrSide + 8, side: qrSide)

        canvas.text(summary.title, x: left, y: canvas.y - 12, size: 17, bold: true)
        canvas.text(french ? "Selon NIST SP 800-88 — signé (JWS Ed25519)" : "Per NIST SP 800-88 — signed (JWS Ed25519)",
                    x: left, y: canvas.y - 30, size: 9)
        canvas.text(payload.organisation.name, x: left, y: canvas.y - 46, size: 11, bold: true)
        canvas.text((french ? "Certificat n° " : "Certificate id ") + payload.id, x: left, y: canvas.y - 62, size: 9)
        canvas.y -= 84

        // The status banner: colour plus a mark plus the word, so it reads in black and white.
        let (red, green, blue, mark): (Float, Float, Float, String) = switch payload.result.status {
        case .erased: (0.10, 0.50, 0.20, "4")
        case .erasedWithExceptions: (0.85, 0.50, 0.05, "4")
        case .notErased: (0.75, 0.10, 0.10, "8")
        }
        let bannerWidth = right - qrSide - left - 12
        canvas.fillRectangle(x: left, y: canvas.y - 12, width: bannerWidth, height: 32, red: red, green: green, blue: blue)
        canvas.fillRectangle(x: left + 6, y: canvas.y - 7, width: 22, height: 22, red: 1, green: 1, blue: 1)
        canvas.dingbat(mark, x: left + 9, y: canvas.y - 2, size: 16)
        canvas.setFill(red: 1, green: 1, blue: 1)
        canvas.text(summary.statusLabel, x: left + 36, y: canvas.y - 1, size: 15, bold: true)
        canvas.setFill(red: 0, green: 0, blue: 0)
        canvas.y -= 40

        draw(sections: summary.sections, on: canvas)
        return try canvas.data()
    }

    static func draw(sections: [CertificateSummary.Section], on canvas: PDFCanvas) {
        let left = PDFCanvas.margin
        let right = PDFCanvas.pageWidth - PDFCanvas.margin
        let labelWidth: Float = 150
        let size: Float = 8
        let leading: Float = 10
        for section in sections {
            canvas.ensureSpace(32)
            canvas.y -= 5
            canvas.text(section.title, x: left, y: canvas.y, size: 10, bold: true)
            canvas.line(fromX: left, toX: right, y: canvas.y - 3)
            canvas.y -= 13
            for row in section.rows {
                let lines = canvas.wrap(row.value, maxWidth: right - left - labelWidth, size: size)
                canvas.ensureSpace(Float(lines.count) * leading)
                canvas.text(row.label, x: left, y: canvas.y, size: size, bold: true)
                for line in lines {
                    canvas.text(line, x: left + labelWidth, y: canvas.y, size: size)
                    canvas.y -= leading
                }
            }
        }
    }
}

/// One PDF for a whole lot: donor, date range, count by status and every drive's certificate.
public enum LotCertificatePDF {
    /// The certificates of one lot among `payloads`: those whose `lot` is `lot` (nil: the lot
    /// of the first payload), in the given order, and how many others were left out.
    public static func select(_ payloads: [CertificatePayload], lot: String?) -> (lot: String?, certificates: [CertificatePayload], skipped: Int) {
        // When the first certificate has no lot, the lot is "no lot".
        let chosen = lot ?? payloads.first?.lot
        let kept = payloads.filter { $0.lot == chosen }
        return (chosen, kept, payloads.count - kept.count)
    }

    /// Renders the lot PDF of `payloads`, which must all be of one lot (see `select`);
    /// `skipped` certificates of other lots are mentioned on the page. Footers read "page i / N".
    public static func render(payloads: [CertificatePayload], language: Language, skipped: Int = 0) throws -> Data {
        guard let first = payloads.first else {
            throw CertificateError(code: .invalidInput, message: .init(fr: "Aucun certificat pour ce lot.", en: "No certificate for this lot."))
        }
        guard payloads.allSatisfy({ $0.lot == first.lot }) else {
            throw CertificateError(code: .invalidInput, message: .init(
                fr: "Un certificat de lot ne reprend que des certificats d'un même lot.",
                en: "A lot certificate lists the certificates of one lot only."))
        }
        let french = language == .french
        func t(_ fr: String, _ en: String) -> String { french ? fr : en }
        let sorted = payloads.sorted { ($0.timing.startedAt, $0.id) < ($1.timing.startedAt, $1.id) }
        let lot = first.lot ?? "-"
        let donor = first.donor ?? "-"
        let canvas = try PDFCanvas()
        canvas.setInfo(title: t("Certificat de lot ", "Lot certificate ") + lot, subject: donor, keywords: "ARDOISE-LOT1;\(lot)")
        canvas.footer = t("Lot ", "Lot ") + lot + t(" · page", " · page")
        canvas.footerCountsPages = true
        canvas.newPage()
        let left = PDFCanvas.margin
        let right = PDFCanvas.pageWidth - PDFCanvas.margin
        canvas.text(t("Certificat d'effacement — lot", "Erasure certificate — lot"), x: left, y: canvas.y - 12, size: 17, bold: true)
        canvas.text(first.organisation.name, x: left, y: canvas.y - 30, size: 11, bold: true)
        canvas.y -= 48

        let start = sorted.map(\.timing.startedAt).min() ?? first.timing.startedAt
        let end = sorted.map(\.timing.endedAt).max() ?? first.timing.endedAt
        var counts: [ErasureStatus: Int] = [:]
        for payload in sorted { counts[payload.result.status, default: 0] += 1 }
        let countText = ErasureStatus.allCases.map {
            "\(CertificateSummary.statusLabel($0, language: language)) : \(counts[$0] ?? 0)"
        }.joined(separator: " · ")
        let mixedDonors = Set(sorted.map { $0.donor ?? "-" }).count > 1
        CertificatePDF.draw(sections: [CertificateSummary.Section(title: t("Lot", "Lot"), rows: [
            (t("Donateur", "Donor"), donor + (mixedDonors ? t(" (plusieurs donateurs)", " (several donors)") : "")),
            (t("Lot", "Lot"), lot),
            (t("Période", "Period"), CertificateSummary.date(start) + " — " + CertificateSummary.date(end)),
            (t("Disques", "Drives"), "\(sorted.count)"),
            (t("Par statut", "By status"), countText),
        ] + (skipped > 0 ? [(t("Non repris", "Left out"),
                             t("\(skipped) certificat(s) d'un autre lot", "\(skipped) certificate(s) of another lot"))] : [])
        )], on: canvas)

        canvas.ensureSpace(40)
        canvas.y -= 12
        let columns: [(String, Float)] = [("#", left), (t("Modèle", "Model"), left + 18), (t("N° de série", "Serial"), left + 142),
                                          (t("Certificat", "Certificate"), left + 247), (t("Statut", "Status"), left + 397)]
        func header() {
            for (title, x) in columns { canvas.text(title, x: x, y: canvas.y, size: 8.5, bold: true) }
            canvas.line(fromX: left, toX: right, y: canvas.y - 3)
            canvas.y -= 13
        }
        header()
        for (index, payload) in sorted.enumerated() {
            if canvas.y - 11 < PDFCanvas.margin {
                canvas.newPage()
                header()
            }
            let values = ["\(index + 1)", String(payload.media.model.prefix(26)), String(payload.media.serial.prefix(20)),
                          payload.id, CertificateSummary.statusLabel(payload.result.status, language: language)]
            for ((_, x), value) in zip(columns, values) {
                canvas.text(value, x: x, y: canvas.y, size: value == payload.id ? 6.5 : 7.5)
            }
            canvas.y -= 11
        }
        return try canvas.data()
    }
}
