import CZlib

/// zlib (RFC 1950) decoding through Debian's libz, used only to read back the attachment and
/// page streams of the PDFs this module writes (libharu compresses embedded files with
/// FlateDecode; Foundation on Linux exposes no zlib API). Output is capped so a hostile PDF
/// cannot exhaust memory.
enum Inflate {
    struct Failure: Error {}

    static let maximumOutput = 32 << 20

    /// Decodes a complete zlib stream (header, DEFLATE data, Adler-32 checked by libz).
    /// - Throws: `Failure` on a damaged, truncated or over-long stream.
    static func zlib(_ input: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit_(&stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw Failure() }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        var input = input
        return try input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = UInt32(source.count)
            while true {
                let status = chunk.withUnsafeMutableBufferPointer { destination -> Int32 in
                    stream.next_out = destination.baseAddress
                    stream.avail_out = UInt32(destination.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                output.append(contentsOf: chunk[0..<produced])
                guard output.count <= maximumOutput else { throw Failure() }
                if status == Z_STREAM_END { return output }
                // Z_DATA_ERROR (damaged), Z_NEED_DICT, Z_MEM_ERROR; Z_BUF_ERROR means no progress.
                guard status == Z_OK, produced > 0 || stream.avail_in > 0 else { throw Failure() }
            }
        }
    }
}
