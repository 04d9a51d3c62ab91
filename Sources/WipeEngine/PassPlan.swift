import ArdoiseSupport
import ErasureRecords
import Crypto
import Foundation

/// One pass with the job's random choices made: the order (Gutmann), the random bytes, the
/// complement resolved, and the generator keyed. Derived from the job seed only, so the
/// same seed always gives the same plan (the journal keeps the seed; the certificate its hash).
public struct PlannedPass: Sendable {
    /// 1-based position in the executed order.
    public let index: Int
    public let specification: PassSpecification
    let source: PassDataSource
    /// SHA-256 (hex) of the pass key derived from the job seed.
    public let seedSHA256: String?

    /// The bytes this pass writes at offsets `offset ..< offset + count` (offset a multiple of 16).
    public func expectedBytes(at offset: UInt64, count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: (count + 15) & ~15)
        bytes.withUnsafeMutableBytes { source.fill($0, at: offset) }
        return Array(bytes.prefix(count))
    }

    /// The repeated bytes of a fixed pass (after random choice and complement), nil for a stream.
    public var fixedPattern: [UInt8]? { source.fixedBytes }

    /// `kind pattern/generator`, as `ardoise profiles show` and the progress lines print it.
    public var summary: String {
        var text = specification.pattern.kindName
        if let bytes = source.fixedBytes {
            text += " 0x" + bytes.hexString
        } else if case .prng(let algorithm) = specification.pattern {
            text += " \(algorithm.rawValue)"
        } else if specification.pattern == .complement {
            text += " (~prng)"
        }
        if !specification.writes { text += " (read-only)" }
        return text
    }

    var record: PassRecord {
        var algorithm: String?
        var inverted = false
        switch source.kind {
        case .fixed: break
        case .xoshiro: algorithm = PRNGAlgorithm.xoshiro256StarStar.rawValue; inverted = source.inverted
        case .aesCTR: algorithm = PRNGAlgorithm.aesCTR.rawValue; inverted = source.inverted
        }
        return PassRecord(
            index: index, kind: specification.pattern.kindName, patternHex: source.fixedBytes?.hexString,
            prngAlgorithm: algorithm, invertedStream: inverted, seedSHA256: seedSHA256,
            writes: specification.writes, isFinalBlank: specification.isFinalBlank, bytesWritten: 0,
            startedAt: nil, endedAt: nil, durationSeconds: 0, bytesPerSecond: 0, ioErrorCount: 0, badRanges: [], verification: nil, completed: false)
    }
}

extension [UInt8] {
    var hexString: String { Hex.encode(self) }
}

/// Turns a profile and a seed into the passes to execute.
public enum PassPlanner {
    /// The per-pass key: SHA-256(seed ‖ "ardoise.pass" ‖ index as UInt32 little-endian).
    static func passKey(seed: [UInt8], label: String, index: Int) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: seed)
        hasher.update(data: Array(label.utf8))
        withUnsafeBytes(of: UInt32(index).littleEndian) { hasher.update(bufferPointer: $0) }
        return Array(hasher.finalize())
    }

    static func words(_ key: [UInt8]) -> (UInt64, UInt64, UInt64, UInt64) {
        func word(_ at: Int) -> UInt64 {
            (0..<8).reduce(UInt64(0)) { $0 | UInt64(key[at + $1]) << (8 * UInt64($1)) }
        }
        return (word(0), word(8), word(16), word(24))
    }

    /// A 64-bit seed for the job's own choices (`label` names the choice).
    static func choiceSeed(seed: [UInt8], label: String, index: Int = 0) -> UInt64 {
        words(passKey(seed: seed, label: label, index: index)).0
    }

    /// The passes of `profile` for this `seed`, in executed order.
    public static func plan(profile: WipeProfile, seed: [UInt8]) -> [PlannedPass] {
        var specifications = profile.passes
        // Gutmann: the passes marked `shuffle` are permuted among their own positions
        // (Fisher–Yates driven by xoshiro256** seeded from the job seed).
        let positions = specifications.indices.filter { specifications[$0].shuffled }
        if positions.count > 1 {
            var generator = Xoshiro256StarStar(seed: choiceSeed(seed: seed, label: "ardoise.shuffle"))
            var order = positions.map { specifications[$0] }
            for index in stride(from: order.count - 1, to: 0, by: -1) {
                let other = Int(generator.next() % UInt64(index + 1))
                order.swapAt(index, other)
            }
            for (position, specification) in zip(positions, order) { specifications[position] = specification }
        }
        var planned: [PlannedPass] = []
        var previous: PassDataSource?
        for (offset, specification) in specifications.enumerated() {
            let index = offset + 1
            let key = passKey(seed: seed, label: "ardoise.pass", index: index)
            var keyHash: String? = Array(SHA256.hash(data: key)).hexString
            let source: PassDataSource
            switch specification.pattern {
            case .constant(let byte):
                source = PassDataSource(kind: .fixed([byte]))
                keyHash = nil
            case .pattern(let bytes):
                source = PassDataSource(kind: .fixed(bytes))
                keyHash = nil
            case .randomByte:
                source = PassDataSource(kind: .fixed([key[0]]))
            case .complement:
                // The parser guarantees a writing pass before; fall back to 0xFF over zeros.
                source = (previous ?? PassDataSource(kind: .fixed([0]))).complemented
                keyHash = planned.last?.seedSHA256
            case .prng(.xoshiro256StarStar):
                source = PassDataSource(kind: .xoshiro(XoshiroBlockStream(key: words(key))))
            case .prng(.aesCTR):
                source = PassDataSource(kind: .aesCTR(SymmetricKey(data: key)))
            }
            planned.append(PlannedPass(index: index, specification: specification, source: source, seedSHA256: keyHash))
            if specification.writes { previous = source }
        }
        return planned
    }
}
