import Foundation

/// A plain printable sheet of labelled sections (the PC sheet of `ardoise inventory --pdf`),
/// drawn with the certificate's canvas and section layout so every Ardoise PDF looks alike.
public enum SheetPDF {
    public struct Section: Sendable {
        public var title: String
        public var rows: [(label: String, value: String)]
        public init(title: String, rows: [(label: String, value: String)]) { self.title = title; self.rows = rows }
    }

    /// One part of the sheet in one language: a title, a headline (the one-line summary) and
    /// its sections. Each part starts on a new page.
    public struct Part: Sendable {
        public var title: String
        public var headline: String
        public var sections: [Section]
        public init(title: String, headline: String, sections: [Section]) {
            self.title = title; self.headline = headline; self.sections = sections
        }
    }

    /// Renders the parts in order; `attachment` (e.g. the signed JSON) is embedded when given.
    /// - Throws: `CertificateError.rendering` / `.fileSystem` from libharu.
    public static func render(parts: [Part], documentTitle: String, keywords: String, footer: String,
                              attachment: (name: String, contents: Data)? = nil) throws -> Data {
        let canvas = try PDFCanvas()
        canvas.setInfo(title: documentTitle, subject: parts.first?.headline ?? "", keywords: keywords, creator: "Ardoise sheet layout 1")
        if let attachment { try canvas.attach(name: attachment.name, contents: attachment.contents) }
        canvas.footer = footer
        let left = PDFCanvas.margin
        let right = PDFCanvas.pageWidth - PDFCanvas.margin
        for part in parts {
            canvas.newPage()
            canvas.text(part.title, x: left, y: canvas.y - 12, size: 17, bold: true)
            canvas.y -= 34
            for line in canvas.wrap(part.headline, maxWidth: right - left, size: 11, bold: true) {
                canvas.text(line, x: left, y: canvas.y, size: 11, bold: true)
                canvas.y -= 14
            }
            canvas.y -= 6
            CertificatePDF.draw(sections: part.sections.map { CertificateSummary.Section(title: $0.title, rows: $0.rows) }, on: canvas)
        }
        return try canvas.data()
    }
}
