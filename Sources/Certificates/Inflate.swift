/// A small zlib (RFC 1950) / DEFLATE (RFC 1951) decoder, used only to read back the
/// attachment and page streams of the PDFs this module writes: libharu always compresses
/// embedded files with FlateDecode, and Foundation on Linux exposes no zlib API.
/// Output is capped so a hostile PDF cannot exhaust memory.
enum Inflate {
    struct Failure: Error {}

    static let maximumOutput = 32 << 20

    /// Decodes a zlib stream (2-byte header, DEFLATE data, Adler-32).
    static func zlib(_ input: [UInt8]) throws -> [UInt8] {
        guard input.count >= 6 else { throw Failure() }
        let cmf = input[0], flags = input[1]
        // RFC 1950 §2.2: CM = 8 (deflate), FCHECK makes the 16-bit header a multiple of 31,
        // FDICT (bit 5) must be clear: no preset dictionary is used by PDF writers.
        guard cmf & 0x0F == 8, (UInt16(cmf) << 8 | UInt16(flags)) % 31 == 0, flags & 0x20 == 0 else { throw Failure() }
        var decoder = Decoder(input: input, position: 2)
        try decoder.run()
        let trailer = decoder.alignedPosition
        guard trailer + 4 <= input.count else { throw Failure() }
        let expected = UInt32(input[trailer]) << 24 | UInt32(input[trailer + 1]) << 16
            | UInt32(input[trailer + 2]) << 8 | UInt32(input[trailer + 3])
        guard adler32(decoder.output) == expected else { throw Failure() }
        return decoder.output
    }

    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in bytes {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return b << 16 | a
    }

    /// Canonical Huffman code given by its code lengths (RFC 1951 §3.2.2): counts per length
    /// and symbols ordered by code.
    struct Huffman {
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int] = []

        init(lengths: [Int]) throws {
            for length in lengths { counts[length] += 1 }
            counts[0] = 0
            var offsets = [Int](repeating: 0, count: 16)
            for length in 1..<16 { offsets[length] = offsets[length - 1] + counts[length - 1] }
            symbols = [Int](repeating: 0, count: lengths.count)
            for (symbol, length) in lengths.enumerated() where length != 0 {
                symbols[offsets[length]] = symbol
                offsets[length] += 1
            }
        }
    }

    struct Decoder {
        let input: [UInt8]
        var position: Int
        var bitBuffer: UInt32 = 0
        var bitCount = 0
        var output: [UInt8] = []

        init(input: [UInt8], position: Int) {
            self.input = input
            self.position = position
        }

        /// The byte after the last one consumed (the trailer follows the final block).
        var alignedPosition: Int { position - bitCount / 8 }

        mutating func bits(_ count: Int) throws -> Int {
            while bitCount < count {
                guard position < input.count else { throw Failure() }
                bitBuffer |= UInt32(input[position]) << UInt32(bitCount)
                position += 1
                bitCount += 8
            }
            let value = bitBuffer & ((1 << UInt32(count)) - 1)
            bitBuffer >>= UInt32(count)
            bitCount -= count
            return Int(value)
        }

        mutating func decode(_ code: Huffman) throws -> Int {
            // Codes are read MSB-first, one bit at a time (RFC 1951 §3.1.1).
            var value = 0, first = 0, index = 0
            for length in 1..<16 {
                value |= try bits(1)
                let count = code.counts[length]
                if value - count < first { return code.symbols[index + value - first] }
                index += count
                first = (first + count) << 1
                value <<= 1
            }
            throw Failure()
        }

        static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115,
                                 131, 163, 195, 227, 258]
        static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
        static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025,
                                   1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
        static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
        /// Order of the code-length code lengths (RFC 1951 §3.2.7).
        static let lengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

        mutating func run() throws {
            var last = false
            while !last {
                last = try bits(1) == 1
                switch try bits(2) {
                case 0: try stored()
                case 1: try fixed()
                case 2: try dynamic()
                default: throw Failure()
                }
            }
        }

        mutating func stored() throws {
            // §3.2.4: skip to a byte boundary, then LEN and its one's complement NLEN.
            bitBuffer = 0
            bitCount = 0
            guard position + 4 <= input.count else { throw Failure() }
            let length = Int(input[position]) | Int(input[position + 1]) << 8
            let complement = Int(input[position + 2]) | Int(input[position + 3]) << 8
            guard length == ~complement & 0xFFFF, position + 4 + length <= input.count else { throw Failure() }
            output += input[(position + 4)..<(position + 4 + length)]
            position += 4 + length
            guard output.count <= Inflate.maximumOutput else { throw Failure() }
        }

        mutating func fixed() throws {
            // §3.2.6 fixed codes.
            var lengths = [Int](repeating: 8, count: 288)
            for symbol in 144..<256 { lengths[symbol] = 9 }
            for symbol in 256..<280 { lengths[symbol] = 7 }
            try codes(literal: Huffman(lengths: lengths), distance: Huffman(lengths: [Int](repeating: 5, count: 30)))
        }

        mutating func dynamic() throws {
            let literalCount = try bits(5) + 257
            let distanceCount = try bits(5) + 1
            let codeLengthCount = try bits(4) + 4
            guard literalCount <= 286, distanceCount <= 30 else { throw Failure() }
            var codeLengths = [Int](repeating: 0, count: 19)
            for index in 0..<codeLengthCount { codeLengths[Self.lengthOrder[index]] = try bits(3) }
            let lengthCode = try Huffman(lengths: codeLengths)
            var lengths: [Int] = []
            while lengths.count < literalCount + distanceCount {
                let symbol = try decode(lengthCode)
                switch symbol {
                case 0..<16:
                    lengths.append(symbol)
                case 16:
                    guard let previous = lengths.last else { throw Failure() }
                    lengths += [Int](repeating: previous, count: 3 + (try bits(2)))
                case 17:
                    lengths += [Int](repeating: 0, count: 3 + (try bits(3)))
                default:
                    lengths += [Int](repeating: 0, count: 11 + (try bits(7)))
                }
            }
            guard lengths.count == literalCount + distanceCount, lengths[256] != 0 else { throw Failure() }
            try codes(literal: Huffman(lengths: Array(lengths[0..<literalCount])),
                      distance: Huffman(lengths: Array(lengths[literalCount...])))
        }

        mutating func codes(literal: Huffman, distance: Huffman) throws {
            while true {
                let symbol = try decode(literal)
                if symbol < 256 {
                    output.append(UInt8(symbol))
                } else if symbol == 256 {
                    return
                } else {
                    let lengthIndex = symbol - 257
                    guard lengthIndex < 29 else { throw Failure() }
                    let length = Self.lengthBase[lengthIndex] + (try bits(Self.lengthExtra[lengthIndex]))
                    let distanceSymbol = try decode(distance)
                    guard distanceSymbol < 30 else { throw Failure() }
                    let back = Self.distanceBase[distanceSymbol] + (try bits(Self.distanceExtra[distanceSymbol]))
                    guard back <= output.count else { throw Failure() }
                    let start = output.count - back
                    for offset in 0..<length { output.append(output[start + offset]) }
                }
                guard output.count <= Inflate.maximumOutput else { throw Failure() }
            }
        }
    }
}
