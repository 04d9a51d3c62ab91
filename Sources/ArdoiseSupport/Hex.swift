/// The one hex encoder and decoder: lowercase, two digits per byte.
///
/// `encode` writes digits back to back (hashes, seeds, patterns: "0a1bff"); `bytes` separates
/// them with one space (the pass-through audit trace: "85 08 0e 00"); `fixed` writes a number
/// with "0x" and a fixed width.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// "0a1bff".
    public static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// "0e".
    public static func byte(_ value: UInt8) -> String { encode(CollectionOfOne(value)) }

    /// "85 08 0e …".
    public static func bytes(_ values: [UInt8]) -> String {
        values.map(byte).joined(separator: " ")
    }

    /// "0x" and `width` lowercase hex digits (width 2 for a byte, 8 for a dword).
    public static func fixed(_ value: UInt64, width: Int) -> String {
        var text = [UInt8]()
        for shift in stride(from: (width - 1) * 4, through: 0, by: -4) {
            text.append(digits[Int((value >> UInt64(shift)) & 0xF)])
        }
        return "0x" + String(decoding: text, as: UTF8.self)
    }

    /// Strict decoding of `encode`'s output (digits back to back, either case); nil otherwise.
    public static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    /// Lenient parsing for files people write: "85 08 0e", "85080e" or "85:08:0e"; nil on any
    /// other character or an odd digit count.
    public static func parse(_ text: String) -> [UInt8]? {
        decode(String(text.filter { !$0.isWhitespace && $0 != ":" }))
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
