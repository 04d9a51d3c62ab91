/// Reads back the few things `cert verify` needs from a PDF written by `CertificatePDF`:
/// the embedded file, the Info keywords and the page content streams. It is not a general PDF
/// parser: it relies on libharu's layout (one object per `N 0 obj … endobj`, no object streams)
/// and treats anything else as "not found", which the verifier reports as malformed/tampered.
struct PDFScanner {
    let data: [UInt8]

    // MARK: Queries

    /// The decoded bytes of the first embedded file (`/EF << /F n 0 R >>`, PDF 1.7 §7.11.4).
    func firstEmbeddedFile() -> [UInt8]? {
        guard let ef = find("/EF", from: 0) else { return nil }
        var cursor = ef + 3
        skipWhitespace(&cursor)
        guard match("<<", at: cursor) else { return nil }
        cursor += 2
        skipWhitespace(&cursor)
        guard match("/F", at: cursor) else { return nil }
        cursor += 2
        guard let reference = readReference(&cursor) else { return nil }
        return streamBytes(object: reference)
    }

    /// A literal string of the document Info dictionary (PDF 1.7 §14.3.3).
    func infoString(key: String) -> String? {
        guard let trailer = findLast("trailer") else { return nil }
        guard let info = find("/Info", from: trailer) else { return nil }
        var cursor = info + 5
        guard let reference = readReference(&cursor), let (start, end) = objectRange(reference) else { return nil }
        guard let keyAt = find("/\(key)", from: start), keyAt < end else { return nil }
        cursor = keyAt + key.utf8.count + 1
        skipWhitespace(&cursor)
        return readLiteralString(&cursor)
    }

    /// The decoded content stream of each page object, in file order.
    func pageContentStreams() -> [[UInt8]] {
        var streams: [[UInt8]] = []
        var cursor = 0
        while let typeAt = find("/Type /Page", from: cursor) {
            cursor = typeAt + 11
            // Skip "/Type /Pages".
            if cursor < data.count, data[cursor] == UInt8(ascii: "s") { continue }
            guard let endObject = find("endobj", from: cursor), let contents = find("/Contents", from: typeAt),
                  contents < endObject else { continue }
            var referenceCursor = contents + 9
            if let reference = readReference(&referenceCursor), let bytes = streamBytes(object: reference) {
                streams.append(bytes)
            } else {
                streams.append([])
            }
        }
        return streams
    }

    // MARK: Objects

    /// Start (after "obj") and end (at "endobj") of the last definition of object `number`.
    func objectRange(_ number: Int) -> (Int, Int)? {
        let header = Array("\(number) 0 obj".utf8)
        var found: Int?
        var cursor = 0
        while let at = find(header, from: cursor) {
            if at == 0 || isWhitespace(data[at - 1]) { found = at }
            cursor = at + 1
        }
        guard let start = found, let end = find("endobj", from: start) else { return nil }
        return (start + header.count, end)
    }

    /// The stream data of an object, inflated when its filter is FlateDecode.
    func streamBytes(object number: Int) -> [UInt8]? {
        guard let (start, end) = objectRange(number), let keyword = find("stream", from: start), keyword < end else { return nil }
        let dictionary = String(decoding: data[start..<keyword], as: UTF8.self)
        guard let lengthAt = find("/Length", from: start), lengthAt < keyword else { return nil }
        var cursor = lengthAt + 7
        skipWhitespace(&cursor)
        guard let direct = readInteger(&cursor) else { return nil }
        var length = direct
        var lookahead = cursor
        skipWhitespace(&lookahead)
        if let generation = readInteger(&lookahead), generation == 0 {
            skipWhitespace(&lookahead)
            if lookahead < data.count, data[lookahead] == UInt8(ascii: "R") {
                guard let (valueStart, _) = objectRange(direct) else { return nil }
                var valueCursor = valueStart
                skipWhitespace(&valueCursor)
                guard let indirect = readInteger(&valueCursor) else { return nil }
                length = indirect
            }
        }
        // PDF 1.7 §7.3.8.1: "stream" is followed by CRLF or LF.
        var dataStart = keyword + 6
        if dataStart < data.count, data[dataStart] == 0x0D { dataStart += 1 }
        if dataStart < data.count, data[dataStart] == 0x0A { dataStart += 1 }
        guard length >= 0, dataStart + length <= data.count else { return nil }
        let raw = Array(data[dataStart..<(dataStart + length)])
        if dictionary.contains("/FlateDecode") { return try? Inflate.zlib(raw) }
        guard !dictionary.contains("/Filter") else { return nil }
        return raw
    }

    // MARK: Lexing

    func find(_ needle: String, from start: Int) -> Int? { find(Array(needle.utf8), from: start) }

    func find(_ needle: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, data.count >= needle.count else { return nil }
        var index = max(0, start)
        let first = needle[0]
        while index <= data.count - needle.count {
            if data[index] == first, data[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    func findLast(_ needle: String) -> Int? {
        var found: Int?
        var cursor = 0
        while let at = find(needle, from: cursor) { found = at; cursor = at + 1 }
        return found
    }

    func match(_ text: String, at index: Int) -> Bool {
        let bytes = Array(text.utf8)
        return index + bytes.count <= data.count && data[index..<(index + bytes.count)].elementsEqual(bytes)
    }

    func isWhitespace(_ byte: UInt8) -> Bool { [0x00, 0x09, 0x0A, 0x0C, 0x0D, 0x20].contains(byte) }

    func skipWhitespace(_ cursor: inout Int) {
        while cursor < data.count, isWhitespace(data[cursor]) { cursor += 1 }
    }

    func readInteger(_ cursor: inout Int) -> Int? {
        var value = 0
        let start = cursor
        while cursor < data.count, (0x30...0x39).contains(data[cursor]), cursor - start < 12 {
            value = value * 10 + Int(data[cursor] - 0x30)
            cursor += 1
        }
        return cursor > start ? value : nil
    }

    /// `n 0 R` → n.
    func readReference(_ cursor: inout Int) -> Int? {
        skipWhitespace(&cursor)
        guard let number = readInteger(&cursor) else { return nil }
        skipWhitespace(&cursor)
        guard readInteger(&cursor) != nil else { return nil }
        skipWhitespace(&cursor)
        guard cursor < data.count, data[cursor] == UInt8(ascii: "R") else { return nil }
        cursor += 1
        return number
    }

    /// A `( … )` literal with its escapes (PDF 1.7 §7.3.4.2), as Latin-1 text.
    func readLiteralString(_ cursor: inout Int) -> String? {
        guard cursor < data.count, data[cursor] == UInt8(ascii: "(") else { return nil }
        cursor += 1
        var depth = 1
        var bytes: [UInt8] = []
        while cursor < data.count {
            let byte = data[cursor]
            cursor += 1
            switch byte {
            case UInt8(ascii: "\\"):
                guard cursor < data.count else { return nil }
                let escaped = data[cursor]
                cursor += 1
                switch escaped {
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case 0x30...0x37:
                    var value = Int(escaped - 0x30)
                    for _ in 0..<2 where cursor < data.count && (0x30...0x37).contains(data[cursor]) {
                        value = value * 8 + Int(data[cursor] - 0x30)
                        cursor += 1
                    }
                    bytes.append(UInt8(truncatingIfNeeded: value))
                case 0x0A: break
                default: bytes.append(escaped)
                }
            case UInt8(ascii: "("):
                depth += 1
                bytes.append(byte)
            case UInt8(ascii: ")"):
                depth -= 1
                if depth == 0 { return String(bytes.map { Character(Unicode.Scalar($0)) }) }
                bytes.append(byte)
            default:
                bytes.append(byte)
            }
        }
        return nil
    }
}
