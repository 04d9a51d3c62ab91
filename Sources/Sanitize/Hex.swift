/// Hex formatting used by the audit trace and error messages: lowercase, two digits per
/// byte, bytes separated by one space ("85 08 0e 00"). The same separator is used for the CDB
/// and for the `data=` payload, which is always the last field of a trace line.
public enum Hex {
    private static let digits: [Character] = Array("0123456789abcdef")

    public static func byte(_ value: UInt8) -> String {
        String([digits[Int(value >> 4)], digits[Int(value & 0xF)]])
    }

    /// "85 08 0e …".
    public static func bytes(_ values: [UInt8]) -> String {
        values.map(byte).joined(separator: " ")
    }

    /// "0x" and `width` lowercase hex digits (width 2 for a byte, 8 for a dword).
    public static func fixed(_ value: UInt64, width: Int) -> String {
        var text = ""
        for shift in stride(from: (width - 1) * 4, through: 0, by: -4) {
            text.append(digits[Int((value >> UInt64(shift)) & 0xF)])
        }
        return "0x" + text
    }

    /// Parses "85 08 0e", "85080e" or "85:08:0e"; nil on any non-hex character or odd digit count.
    public static func parse(_ text: String) -> [UInt8]? {
        let cleaned = text.filter { !$0.isWhitespace && $0 != ":" }
        guard cleaned.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var iterator = cleaned.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let h = high.hexDigitValue, let l = low.hexDigitValue else { return nil }
            out.append(UInt8(h << 4 | l))
        }
        return out
    }
}

/// Little-endian field access on byte buffers (ATA words, NVMe structures).
extension Array where Element == UInt8 {
    func le16(_ offset: Int) -> UInt16 { UInt16(self[offset]) | UInt16(self[offset + 1]) << 8 }
    func le32(_ offset: Int) -> UInt32 { UInt32(le16(offset)) | UInt32(le16(offset + 2)) << 16 }
    func le64(_ offset: Int) -> UInt64 { UInt64(le32(offset)) | UInt64(le32(offset + 4)) << 32 }
    func be16(_ offset: Int) -> UInt16 { UInt16(self[offset]) << 8 | UInt16(self[offset + 1]) }
    func be32(_ offset: Int) -> UInt32 { UInt32(be16(offset)) << 16 | UInt32(be16(offset + 2)) }
}
