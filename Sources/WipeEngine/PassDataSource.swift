import Crypto
import _CryptoExtras
import Foundation

/// The exact bytes one pass writes, as a function of the absolute offset: fills buffers and
/// compares read-back data without storing anything per offset.
struct PassDataSource: Sendable {
    enum Kind: Sendable {
        /// Byte at offset `o` is `bytes[o % bytes.count]`.
        case fixed([UInt8])
        case xoshiro(XoshiroBlockStream)
        case aesCTR(SymmetricKey)
    }

    let kind: Kind
    /// The stream is bitwise inverted (complement of a PRNG pass).
    let inverted: Bool

    init(kind: Kind, inverted: Bool = false) {
        self.kind = kind
        self.inverted = inverted
    }

    /// The pattern bytes for a fixed pass (already inverted if needed), nil for a stream.
    var fixedBytes: [UInt8]? {
        if case .fixed(let bytes) = kind { return inverted ? bytes.map { ~$0 } : bytes }
        return nil
    }

    /// The complement of this pass's data: what a following `complement` pass writes.
    var complemented: PassDataSource {
        switch kind {
        case .fixed(let bytes): PassDataSource(kind: .fixed(bytes.map { ~$0 }), inverted: inverted)
        // A stream is inverted on the fly rather than stored.
        default: PassDataSource(kind: kind, inverted: !inverted)
        }
    }

    /// Fills `buffer` with the bytes of offsets `offset ..< offset + buffer.count`.
    /// `offset` and `buffer.count` must be multiples of 16; the buffer must be 8-byte aligned.
    func fill(_ buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        switch kind {
        case .fixed:
            Self.fillFixed(fixedBytes ?? [0], into: buffer, at: offset)
        case .xoshiro(let stream):
            Self.fillXoshiro(stream, into: buffer, at: offset)
            if inverted { Self.invert(base, count: buffer.count) }
        case .aesCTR(let key):
            Self.fillAES(key, into: buffer, at: offset)
            if inverted { Self.invert(base, count: buffer.count) }
        }
    }

    /// Offset (relative to `buffer`) of the first byte that differs from the expected data,
    /// or nil. `scratch` is a work area (a few KiB to a few MiB, 8-byte aligned).
    func firstMismatch(in buffer: UnsafeRawBufferPointer, at offset: UInt64, scratch: UnsafeMutableRawBufferPointer) -> Int? {
        guard let base = buffer.baseAddress, let scratchBase = scratch.baseAddress else { return nil }
        if case .xoshiro(let stream) = kind {
            return firstXoshiroMismatch(stream, in: buffer, at: offset, scratch: scratch)
        }
        // Work in pieces that fit the scratch area; pieces stay multiples of 4096 so a
        // stream block is never split (except for the final piece).
        let pieceSize = max(4096, scratch.count & ~4095)
        var position = 0
        while position < buffer.count {
            let length = min(pieceSize, buffer.count - position)
            let expected = UnsafeMutableRawBufferPointer(start: scratchBase, count: length)
            fill(expected, at: offset + UInt64(position))
            if memcmp(base + position, scratchBase, length) != 0 {
                let actual = base + position
                for index in 0..<length where actual.load(fromByteOffset: index, as: UInt8.self) != scratchBase.load(fromByteOffset: index, as: UInt8.self) {
                    return position + index
                }
            }
            position += length
        }
        return nil
    }

    /// Whole 4 KiB blocks are checked by the fused generate-and-compare; partial blocks at
    /// either end, and a block that differs (to find the byte), go through `fill` + compare.
    private func firstXoshiroMismatch(_ stream: XoshiroBlockStream, in buffer: UnsafeRawBufferPointer, at offset: UInt64,
                                      scratch: UnsafeMutableRawBufferPointer) -> Int? {
        guard let base = buffer.baseAddress, let scratchBase = scratch.baseAddress, scratch.count >= XoshiroBlockStream.blockSize else { return nil }
        let blockSize = XoshiroBlockStream.blockSize
        let mask: UInt64 = inverted ? ~0 : 0
        var position = 0
        while position < buffer.count {
            let absolute = offset + UInt64(position)
            let within = Int(absolute % UInt64(blockSize))
            let length = min(blockSize - within, buffer.count - position)
            if within == 0, length == blockSize,
               !stream.blockDiffers(absolute / UInt64(blockSize), from: base + position, mask: mask) {
                position += length
                continue
            }
            let expected = UnsafeMutableRawBufferPointer(start: scratchBase, count: length)
            fill(expected, at: absolute)
            if memcmp(base + position, scratchBase, length) != 0 {
                for index in 0..<length where (base + position).load(fromByteOffset: index, as: UInt8.self) != scratchBase.load(fromByteOffset: index, as: UInt8.self) {
                    return position + index
                }
            }
            position += length
        }
        return nil
    }

    // MARK: Fillers

    static func invert(_ base: UnsafeMutableRawPointer, count: Int) {
        let words = base.assumingMemoryBound(to: UInt64.self)
        for index in 0..<(count / 8) { words[index] = ~words[index] }
        for index in (count & ~7)..<count {
            base.storeBytes(of: ~base.load(fromByteOffset: index, as: UInt8.self), toByteOffset: index, as: UInt8.self)
        }
    }

    /// Phase-aligned pattern fill: one period is written byte by byte, then the filled part
    /// is doubled with `memcpy` until the buffer is full, so the cost is a few memcpy calls.
    static func fillFixed(_ bytes: [UInt8], into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) {
        guard let base = buffer.baseAddress else { return }
        if bytes.count == 1 {
            memset(base, Int32(bytes[0]), buffer.count)
            return
        }
        let period = bytes.count
        var phase = Int(offset % UInt64(period))
        let seed = min(period, buffer.count)
        for index in 0..<seed {
            base.storeBytes(of: bytes[phase], toByteOffset: index, as: UInt8.self)
            phase += 1
            if phase == period { phase = 0 }
        }
        // Copying whole periods keeps the phase: byte i + k·period equals byte i.
        var filled = seed
        while filled < buffer.count {
            let copy = min(filled - filled % period, buffer.count - filled)
            memcpy(base + filled, base, copy)
            filled += copy
        }
    }

    static func fillXoshiro(_ stream: XoshiroBlockStream, into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) {
        guard let base = buffer.baseAddress else { return }
        let blockSize = XoshiroBlockStream.blockSize
        var position = 0
        var absolute = offset
        // A 4 KiB block buffer on the stack for the partial blocks at either end.
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: blockSize / 8) { temporary in
            while position < buffer.count {
                let block = absolute / UInt64(blockSize)
                let within = Int(absolute % UInt64(blockSize))
                let length = min(blockSize - within, buffer.count - position)
                if within == 0, length == blockSize {
                    stream.generateBlock(block, into: (base + position).assumingMemoryBound(to: UInt64.self))
                } else {
                    stream.generateBlock(block, into: temporary.baseAddress!)
                    memcpy(base + position, UnsafeRawPointer(temporary.baseAddress!) + within, length)
                }
                position += length
                absolute += UInt64(length)
            }
        }
    }

    /// A read-only run of zeros shared by every AES-CTR fill (CTR encrypts zeros into keystream).
    /// Written once at first use, then only read, from any thread.
    nonisolated(unsafe) static let zeros: UnsafeRawBufferPointer = {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: aesSegment, alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        return UnsafeRawBufferPointer(buffer)
    }()
    static let aesSegment = 1 << 20

    /// AES-256-CTR keystream with the 128-bit counter block = offset / 16 (big-endian).
    /// Calls never cross a 2^32-block boundary, so the result does not depend on whether an
    /// implementation carries the increment beyond the low 32 bits.
    static func fillAES(_ key: SymmetricKey, into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) {
        guard let base = buffer.baseAddress else { return }
        precondition(offset % 16 == 0, "AES-CTR offsets are multiples of 16")
        var position = 0
        while position < buffer.count {
            let absolute = offset + UInt64(position)
            let counter = absolute / 16
            let toBoundary = (UInt64(1) << 36) - (absolute & ((UInt64(1) << 36) - 1))
            let length = Int(min(UInt64(min(aesSegment, buffer.count - position)), toBoundary))
            var nonce = [UInt8](repeating: 0, count: 16)
            for index in 0..<8 { nonce[8 + index] = UInt8(truncatingIfNeeded: counter >> (56 - 8 * UInt64(index))) }
            do {
                let keystream = try AES._CTR.encrypt(
                    UnsafeRawBufferPointer(rebasing: zeros[0..<length]), using: key,
                    nonce: try AES._CTR.Nonce(nonceBytes: nonce))
                keystream.withUnsafeBytes { source in
                    (base + position).copyMemory(from: source.baseAddress!, byteCount: length)
                }
            } catch {
                // Only a wrong key size or nonce size can throw, and both are fixed here.
                preconditionFailure("AES-CTR with a 256-bit key and 16-byte nonce cannot fail: \(error)")
            }
            position += length
        }
    }
}
