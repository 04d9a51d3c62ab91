import Foundation

/// The base block of an EDID (VESA E-EDID 1.4, 128 bytes): vendor and product, physical size,
/// and the first detailed timing (the panel's native mode). Never traps on bad input: a
/// short block or a wrong header is an `error`, a wrong checksum is reported and the fields
/// are decoded anyway (as edid-decode does).
public struct EDID: Sendable, Equatable {
    public var manufacturerID: String?
    public var productCode: UInt16?
    public var serialNumber: UInt32?
    public var week: Int?
    public var year: Int?
    public var version: String?
    public var widthCm: Int?
    public var heightCm: Int?
    /// Image size of the first detailed timing, in mm.
    public var imageWidthMm: Int?
    public var imageHeightMm: Int?
    public var nativeWidth: Int?
    public var nativeHeight: Int?
    /// Display product name (descriptor tag FCh).
    public var name: String?
    /// Display serial (FFh).
    public var serialString: String?
    /// Unspecified text descriptors (FEh), in order (laptop panels put the panel part number there).
    public var texts: [String] = []
    public var checksumValid: Bool
    public var error: String?

    /// The 8-byte header 00 FF FF FF FF FF FF 00 (E-EDID 1.4 §3.3).
    static let header: [UInt8] = [0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00]

    public init(bytes: [UInt8]) {
        checksumValid = false
        guard bytes.count >= 128 else {
            error = bytes.isEmpty ? "edid_empty" : "edid_too_short"
            return
        }
        guard Array(bytes[0..<8]) == Self.header else {
            error = "edid_bad_header"
            return
        }
        // §3.11: the 128 bytes of the block sum to 0 mod 256.
        checksumValid = bytes[0..<128].reduce(UInt8(0), &+) == 0
        // 08h–09h: three 5-bit letters, big-endian, 1 = "A".
        let id = UInt16(bytes[8]) << 8 | UInt16(bytes[9])
        let letters = [(id >> 10) & 0x1F, (id >> 5) & 0x1F, id & 0x1F]
        if letters.allSatisfy({ (1...26).contains($0) }) {
            manufacturerID = String(letters.map { Character(Unicode.Scalar(UInt8(64 + $0))) })
        }
        // 0Ah–0Bh product code, 0Ch–0Fh serial: little-endian.
        productCode = UInt16(bytes[10]) | UInt16(bytes[11]) << 8
        let serial = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[12 + $1]) << (8 * $1) }
        serialNumber = serial == 0 ? nil : serial
        // 10h week (FFh = model year), 11h year − 1990.
        if bytes[16] != 0, bytes[16] != 0xFF { week = Int(bytes[16]) }
        year = 1990 + Int(bytes[17])
        version = "\(bytes[18]).\(bytes[19])"
        // 15h/16h: maximum image size in cm (0 = undefined: projector or aspect ratio only).
        if bytes[21] != 0, bytes[22] != 0 {
            widthCm = Int(bytes[21])
            heightCm = Int(bytes[22])
        }
        // 36h–7Dh: four 18-byte descriptors.
        var foundTiming = false
        for index in 0..<4 {
            let d = Array(bytes[(0x36 + 18 * index)..<(0x36 + 18 * (index + 1))])
            let pixelClock = UInt16(d[0]) | UInt16(d[1]) << 8
            if pixelClock != 0 {
                // Detailed timing (§3.10.2): active pixels = byte 2 + upper nibble of byte 4, etc.
                guard !foundTiming else { continue }
                foundTiming = true
                nativeWidth = Int(d[2]) | Int(d[4] >> 4) << 8
                nativeHeight = Int(d[5]) | Int(d[7] >> 4) << 8
                let widthMm = Int(d[12]) | Int(d[14] >> 4) << 8
                let heightMm = Int(d[13]) | Int(d[14] & 0x0F) << 8
                if widthMm > 0, heightMm > 0 {
                    imageWidthMm = widthMm
                    imageHeightMm = heightMm
                }
                continue
            }
            // Display descriptor (§3.10.3): tag at byte 3, text at 5–17 ending with 0Ah.
            let text = Self.descriptorText(Array(d[5..<18]))
            switch d[3] {
            case 0xFC: name = text
            case 0xFF: serialString = text
            case 0xFE: if let text { texts.append(text) }
            default: break
            }
        }
    }

    static func descriptorText(_ bytes: [UInt8]) -> String? {
        let end = bytes.firstIndex(of: 0x0A) ?? bytes.count
        let text = String(decoding: bytes[0..<end].filter { $0 >= 0x20 && $0 < 0x7F }, as: UTF8.self)
            .trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? nil : text
    }

    /// Diagonal in inches, one decimal: from the detailed timing's mm (precise), else the cm.
    public var diagonalInches: Double? {
        let millimetres: Double
        if let w = imageWidthMm, let h = imageHeightMm {
            millimetres = (Double(w * w + h * h)).squareRoot()
        } else if let w = widthCm, let h = heightCm {
            millimetres = (Double(w * w + h * h)).squareRoot() * 10
        } else {
            return nil
        }
        return (millimetres / 25.4 * 10).rounded() / 10
    }
}
