import CHaru
import CQrencode
import Foundation

/// One libharu document being laid out top to bottom on A4 pages. Owns the `HPDF_Doc` (freed
/// in `deinit`); no libharu handle leaves this type. Text is converted to CP1252, the
/// encoding of the base-14 fonts with `WinAnsiEncoding`, so French accents render.
/// Not thread-safe: one canvas per rendering call.
final class PDFCanvas {
    static let pageWidth: Float = 595
    static let pageHeight: Float = 842
    static let margin: Float = 48

    private let document: HPDF_Doc
    private(set) var page: HPDF_Page?
    private let regular: HPDF_Font
    private let bold: HPDF_Font
    private let dingbats: HPDF_Font
    /// Baseline of the next line.
    var y: Float = 0
    private(set) var pageNumber = 0
    var footer: String = ""
    /// Footers read "page i / N": drawn on every page once the last one is known (`data()`).
    var footerCountsPages = false
    private var pages: [HPDF_Page] = []

    init() throws {
        guard let document = HPDF_New(nil, nil) else {
            throw CertificateError(code: .rendering, message: .init(fr: "libharu n'a pas pu créer le PDF.", en: "libharu could not create the PDF."))
        }
        self.document = document
        // Uncompressed page streams keep the page text greppable; the attachment is always
        // FlateDecode in libharu 2.3.
        HPDF_SetCompressionMode(document, UInt32(HPDF_COMP_NONE))
        guard let regular = HPDF_GetFont(document, "Helvetica", "WinAnsiEncoding"),
              let bold = HPDF_GetFont(document, "Helvetica-Bold", "WinAnsiEncoding"),
              let dingbats = HPDF_GetFont(document, "ZapfDingbats", nil) else {
            HPDF_Free(document)
            throw CertificateError(code: .rendering, message: .init(fr: "Polices PDF indisponibles.", en: "PDF fonts unavailable."))
        }
        self.regular = regular
        self.bold = bold
        self.dingbats = dingbats
    }

    deinit { HPDF_Free(document) }

    // MARK: Document

    func setInfo(title: String, subject: String, keywords: String, creator: String = "Ardoise") {
        HPDF_SetInfoAttr(document, HPDF_INFO_TITLE, Self.cp1252(title))
        HPDF_SetInfoAttr(document, HPDF_INFO_SUBJECT, Self.cp1252(subject))
        HPDF_SetInfoAttr(document, HPDF_INFO_KEYWORDS, Self.cp1252(keywords))
        HPDF_SetInfoAttr(document, HPDF_INFO_CREATOR, Self.cp1252(creator))
    }

    /// Embeds `contents` as a file attachment named `name`. libharu reads attachments from a
    /// path and records that path as the name, so the bytes go through a private temporary
    /// directory and the name is then replaced by the bare file name (pdfdetach must not see
    /// an absolute path).
    func attach(name: String, contents: Data) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-attach-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o700])
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = directory.appendingPathComponent(name)
            try contents.write(to: file)
            guard let embedded = HPDF_AttachFile(document, file.path) else {
                throw CertificateError(code: .rendering, message: .init(fr: "Impossible de joindre le JSON signé au PDF.",
                                                                        en: "Cannot attach the signed JSON to the PDF."))
            }
            for key in ["F", "UF"] {
                let value = HPDF_String_New(embedded.pointee.mmgr, name, nil)
                guard HPDF_Dict_Add(embedded, key, UnsafeMutableRawPointer(value)) == HPDF_OK else {
                    throw CertificateError(code: .rendering, message: .init(fr: "Nom de pièce jointe refusé.", en: "Attachment name rejected."))
                }
            }
        } catch let error as CertificateError {
            throw error
        } catch {
            throw CertificateError(code: .fileSystem, message: .init(fr: "Fichier temporaire impossible : \(error)",
                                                                     en: "Cannot write a temporary file: \(error)"))
        }
    }

    /// The finished PDF bytes.
    func data() throws -> Data {
        finishPage()
        if footerCountsPages, !footer.isEmpty {
            for (index, each) in pages.enumerated() {
                page = each
                HPDF_Page_SetRGBFill(each, 0.4, 0.4, 0.4)
                text(footer + " \(index + 1) / \(pages.count)", x: Self.margin, y: 24, size: 7)
                HPDF_Page_SetRGBFill(each, 0, 0, 0)
            }
        }
        guard HPDF_SaveToStream(document) == HPDF_OK else {
            throw CertificateError(code: .rendering, message: .init(fr: "libharu n'a pas pu écrire le PDF (erreur \(HPDF_GetError(document))).",
                                                                    en: "libharu could not write the PDF (error \(HPDF_GetError(document)))."))
        }
        var result = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            var size = UInt32(buffer.count)
            let status = HPDF_ReadFromStream(document, &buffer, &size)
            result.append(contentsOf: buffer[0..<Int(size)])
            if status != HPDF_OK || size == 0 { break }
        }
        return result
    }

    // MARK: Pages

    func newPage() {
        finishPage()
        page = HPDF_AddPage(document)
        if let page { pages.append(page) }
        HPDF_Page_SetSize(page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT)
        pageNumber += 1
        y = Self.pageHeight - Self.margin
    }

    private func finishPage() {
        guard let page, !footer.isEmpty, !footerCountsPages else { return }
        HPDF_Page_SetRGBFill(page, 0.4, 0.4, 0.4)
        text(footer + " — \(pageNumber)", x: Self.margin, y: 24, size: 7)
        HPDF_Page_SetRGBFill(page, 0, 0, 0)
    }

    /// Starts a new page when fewer than `height` points remain above the bottom margin.
    func ensureSpace(_ height: Float) {
        if page == nil || y - height < Self.margin { newPage() }
    }

    // MARK: Drawing

    func text(_ string: String, x: Float, y: Float, size: Float, bold isBold: Bool = false) {
        guard let page else { return }
        HPDF_Page_BeginText(page)
        HPDF_Page_SetFontAndSize(page, isBold ? bold : regular, size)
        HPDF_Page_TextOut(page, x, y, Self.cp1252(string))
        HPDF_Page_EndText(page)
    }

    func width(of string: String, size: Float, bold isBold: Bool = false) -> Float {
        guard let page else { return 0 }
        HPDF_Page_SetFontAndSize(page, isBold ? bold : regular, size)
        return HPDF_Page_TextWidth(page, Self.cp1252(string))
    }

    /// A ZapfDingbats glyph (`4` = ✔, `8` = ✘ in its built-in encoding).
    func dingbat(_ character: String, x: Float, y: Float, size: Float) {
        guard let page else { return }
        HPDF_Page_BeginText(page)
        HPDF_Page_SetFontAndSize(page, dingbats, size)
        HPDF_Page_TextOut(page, x, y, character)
        HPDF_Page_EndText(page)
    }

    func fillRectangle(x: Float, y: Float, width: Float, height: Float, red: Float, green: Float, blue: Float) {
        guard let page else { return }
        HPDF_Page_SetRGBFill(page, red, green, blue)
        HPDF_Page_Rectangle(page, x, y, width, height)
        HPDF_Page_Fill(page)
        HPDF_Page_SetRGBFill(page, 0, 0, 0)
    }

    func setFill(red: Float, green: Float, blue: Float) {
        guard let page else { return }
        HPDF_Page_SetRGBFill(page, red, green, blue)
    }

    func line(fromX: Float, toX: Float, y: Float) {
        guard let page else { return }
        HPDF_Page_SetLineWidth(page, 0.5)
        HPDF_Page_SetRGBStroke(page, 0.6, 0.6, 0.6)
        HPDF_Page_MoveTo(page, fromX, y)
        HPDF_Page_LineTo(page, toX, y)
        HPDF_Page_Stroke(page)
    }

    /// Splits `string` into lines no wider than `maxWidth`, breaking at spaces (or anywhere in
    /// a word longer than a line, such as a hash).
    func wrap(_ string: String, maxWidth: Float, size: Float, bold isBold: Bool = false) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in string.split(separator: " ", omittingEmptySubsequences: false).map(String.init) {
            let candidate = current.isEmpty ? word : current + " " + word
            if width(of: candidate, size: size, bold: isBold) <= maxWidth {
                current = candidate
                continue
            }
            if !current.isEmpty { lines.append(current) }
            current = ""
            for character in word {
                let next = current + String(character)
                if width(of: next, size: size, bold: isBold) > maxWidth, !current.isEmpty {
                    lines.append(current)
                    current = String(character)
                } else {
                    current = next
                }
            }
        }
        if !current.isEmpty || lines.isEmpty { lines.append(current) }
        return lines
    }

    /// Draws `text` as a QR code (ISO/IEC 18004, error correction M, byte mode) with its
    /// 4-module quiet zone, lower-left corner at (x, y), `side` points wide.
    func qrCode(_ text: String, x: Float, y: Float, side: Float) throws {
        guard let page else { return }
        guard let code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1) else {
            throw CertificateError(code: .rendering, message: .init(fr: "libqrencode n'a pas pu coder le QR code.",
                                                                    en: "libqrencode could not encode the QR code."))
        }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        let quiet = 4
        let module = side / Float(width + 2 * quiet)
        HPDF_Page_SetRGBFill(page, 0, 0, 0)
        for row in 0..<width {
            for column in 0..<width {
                // qrencode.h: bit 0 of each byte is 1 for a dark module.
                guard code.pointee.data[row * width + column] & 1 == 1 else { continue }
                HPDF_Page_Rectangle(page, x + Float(column + quiet) * module,
                                    y + side - Float(row + quiet + 1) * module, module, module)
            }
        }
        HPDF_Page_Fill(page)
    }

    /// CP1252 bytes plus NUL; characters outside CP1252 become "?".
    static func cp1252(_ string: String) -> [CChar] {
        var bytes = [CChar]()
        for scalar in string.unicodeScalars {
            if let byte = cp1252Byte(scalar) { bytes.append(CChar(bitPattern: byte)) } else { bytes.append(0x3F) }
        }
        bytes.append(0)
        return bytes
    }

    private static let cp1252High: [UInt32: UInt8] = [
        0x20AC: 0x80, 0x201A: 0x82, 0x0192: 0x83, 0x201E: 0x84, 0x2026: 0x85, 0x2020: 0x86, 0x2021: 0x87,
        0x02C6: 0x88, 0x2030: 0x89, 0x0160: 0x8A, 0x2039: 0x8B, 0x0152: 0x8C, 0x017D: 0x8E, 0x2018: 0x91,
        0x2019: 0x92, 0x201C: 0x93, 0x201D: 0x94, 0x2022: 0x95, 0x2013: 0x96, 0x2014: 0x97, 0x02DC: 0x98,
        0x2122: 0x99, 0x0161: 0x9A, 0x203A: 0x9B, 0x0153: 0x9C, 0x017E: 0x9E, 0x0178: 0x9F,
    ]

    /// Windows-1252: ASCII and Latin-1 (except 0x80–0x9F) map to themselves; 0x80–0x9F hold
    /// the typographic characters above (€, …, ’, “ ”, –, —, Œ, œ…).
    private static func cp1252Byte(_ scalar: Unicode.Scalar) -> UInt8? {
        let value = scalar.value
        if value == 0x202F || value == 0x00A0 { return 0x20 }   // narrow/no-break spaces
        if value >= 0x20 && value < 0x7F { return UInt8(value) }
        if value >= 0xA0 && value <= 0xFF { return UInt8(value) }
        return cp1252High[value]
    }
}
