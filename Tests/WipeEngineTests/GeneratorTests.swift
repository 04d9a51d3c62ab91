import Crypto
import _CryptoExtras
import Foundation
import Testing
@testable import WipeEngine

@Suite struct GeneratorTests {
    /// Reference outputs of xoshiro256** 1.0 from state {1, 2, 3, 4} (the authors' C code).
    @Test func xoshiroMatchesReferenceOutputs() {
        var generator = Xoshiro256StarStar(s0: 1, s1: 2, s2: 3, s3: 4)
        #expect((0..<4).map { _ in generator.next() } == [11520, 0, 1_509_978_240, 1_215_971_899_390_074_240])
    }

    static func fill(_ source: PassDataSource, offset: UInt64, count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { source.fill($0, at: offset) }
        return bytes
    }

    static let sources: [(String, PassDataSource)] = {
        let key = PassPlanner.passKey(seed: testSeed, label: "ardoise.pass", index: 3)
        let xoshiro = PassDataSource(kind: .xoshiro(XoshiroBlockStream(key: PassPlanner.words(key))))
        let aes = PassDataSource(kind: .aesCTR(SymmetricKey(data: key)))
        return [
            ("xoshiro", xoshiro), ("aes-ctr", aes), ("inverted xoshiro", xoshiro.complemented),
            ("pattern", PassDataSource(kind: .fixed([0x92, 0x49, 0x24]))), ("constant", PassDataSource(kind: .fixed([0xA5]))),
            ("7-byte pattern", PassDataSource(kind: .fixed([1, 2, 3, 4, 5, 6, 7]))),
        ]
    }()

    /// Any piece regenerated alone equals the same bytes inside a larger fill: blocks are
    /// independent and patterns stay phase-aligned across buffer boundaries.
    @Test(arguments: sources.map(\.0))
    func piecesMatchTheWhole(name: String) throws {
        let source = try #require(Self.sources.first { $0.0 == name }?.1)
        let whole = Self.fill(source, offset: 8192, count: 64 << 10)
        for (start, length) in [(0, 4096), (512, 512), (4096 + 16, 8192 - 32), (12_288, 4096 * 5 + 512), ((64 << 10) - 512, 512)] {
            #expect(Self.fill(source, offset: 8192 + UInt64(start), count: length) == Array(whole[start..<start + length]))
        }
        if let fixed = source.fixedBytes {
            #expect(whole.enumerated().allSatisfy { $1 == fixed[(8192 + $0) % fixed.count] })
        }
    }

    @Test func streamsDependOnSeedPassAndBlock() {
        let a = PassPlanner.words(PassPlanner.passKey(seed: testSeed, label: "ardoise.pass", index: 1))
        let b = PassPlanner.words(PassPlanner.passKey(seed: testSeed, label: "ardoise.pass", index: 2))
        let c = PassPlanner.words(PassPlanner.passKey(seed: Array(repeating: 9, count: 32), label: "ardoise.pass", index: 1))
        let first = Self.fill(PassDataSource(kind: .xoshiro(XoshiroBlockStream(key: a))), offset: 0, count: 8192)
        #expect(first == Self.fill(PassDataSource(kind: .xoshiro(XoshiroBlockStream(key: a))), offset: 0, count: 8192))
        #expect(first != Self.fill(PassDataSource(kind: .xoshiro(XoshiroBlockStream(key: b))), offset: 0, count: 8192))
        #expect(first != Self.fill(PassDataSource(kind: .xoshiro(XoshiroBlockStream(key: c))), offset: 0, count: 8192))
        #expect(Array(first[0..<4096]) != Array(first[4096..<8192]))
        // Roughly uniform bytes: every value appears, none dominates.
        var counts = [Int](repeating: 0, count: 256)
        for byte in Self.fill(PassDataSource(kind: .xoshiro(XoshiroBlockStream(key: a))), offset: 0, count: 1 << 20) { counts[Int(byte)] += 1 }
        #expect(counts.min()! > 3500 && counts.max()! < 4700)
    }

    /// The AES-CTR stream is AES-256-CTR with counter block = offset / 16, as documented.
    @Test func aesStreamIsCounterModeAtOffset() throws {
        let key = SymmetricKey(data: Array(repeating: UInt8(0x42), count: 32))
        let source = PassDataSource(kind: .aesCTR(key))
        let offset: UInt64 = 1 << 20
        var nonce = [UInt8](repeating: 0, count: 16)
        let counter = offset / 16
        for index in 0..<8 { nonce[8 + index] = UInt8(truncatingIfNeeded: counter >> (56 - 8 * UInt64(index))) }
        let reference = try AES._CTR.encrypt([UInt8](repeating: 0, count: 4096), using: key, nonce: AES._CTR.Nonce(nonceBytes: nonce))
        #expect(Self.fill(source, offset: offset, count: 4096) == [UInt8](reference))
        // Across the 2^36-byte segment boundary the stream continues with the next counter.
        let boundary: UInt64 = 1 << 36
        let across = Self.fill(source, offset: boundary - 4096, count: 8192)
        #expect(Array(across[4096...]) == Self.fill(source, offset: boundary, count: 4096))
    }

    @Test func randomByteAndComplementAreResolvedPerPass() throws {
        let dod = try builtInProfiles().requireProfile(named: "dod-5220-22m")
        let plan = PassPlanner.plan(profile: dod, seed: testSeed)
        let byte = try #require(plan[0].fixedPattern)
        #expect(byte.count == 1)
        #expect(plan[1].fixedPattern == [~byte[0]])
        #expect(plan[2].fixedPattern == nil)
        #expect(plan[0].record.seedSHA256 != nil)
        // Another seed gives another byte for at least one of a few seeds.
        let others = (1...4).map { PassPlanner.plan(profile: dod, seed: Array(repeating: UInt8($0), count: 32))[0].fixedPattern }
        #expect(others.contains { $0 != byte })
    }

    /// Prints the generators' speed (bytes generated per second on one core) for the report.
    /// Not a pass/fail criterion: debug builds are several times slower than release.
    @Test func generatorThroughput() throws {
        let size = 64 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        for (name, source) in Self.sources {
            let clock = ContinuousClock()
            let start = clock.now
            var offset: UInt64 = 0
            while offset < UInt64(size) {
                source.fill(buffer, at: offset)
                offset += UInt64(buffer.count)
            }
            let seconds = (clock.now - start).seconds
            print(String(format: "generator %@: %.2f GB/s", name, Double(size) / seconds / 1e9))
        }
        // Comparison speed (regenerate and compare, as full verification does).
        let key = PassPlanner.passKey(seed: testSeed, label: "ardoise.pass", index: 3)
        let xoshiro = PassDataSource(kind: .xoshiro(XoshiroBlockStream(key: PassPlanner.words(key))))
        xoshiro.fill(buffer, at: 0)
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 4096)
        defer { scratch.deallocate() }
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<16 { #expect(xoshiro.firstMismatch(in: UnsafeRawBufferPointer(buffer), at: 0, scratch: scratch) == nil) }
        print(String(format: "compare xoshiro: %.2f GB/s", Double(16 * buffer.count) / (clock.now - start).seconds / 1e9))
    }
}

@Suite struct XoshiroLaneTests {
    /// Word `i` of a block comes from lane `i % 2`, each lane a plain xoshiro256**.
    @Test func lanesInterleaveScalarGenerators() {
        let stream = XoshiroBlockStream(key: (1, 2, 3, 4))
        var (a, b) = stream.laneGenerators(77)
        var words = [UInt64](repeating: 0, count: 512)
        words.withUnsafeMutableBufferPointer { stream.generateBlock(77, into: $0.baseAddress!) }
        let expected = (0..<256).flatMap { _ in [a.next(), b.next()] }
        #expect(words.map { UInt64(littleEndian: $0) } == expected)
    }
}

@Suite struct MismatchSearchTests {
    /// The fused stream comparison finds the exact first differing byte, for plain and
    /// inverted streams, at block starts, block ends and unaligned starts.
    @Test(arguments: [false, true], [0, 1, 4095, 4096, 12_345, 65_535])
    func findsTheFirstDifferentByte(inverted: Bool, badIndex: Int) {
        let key = PassPlanner.words(PassPlanner.passKey(seed: testSeed, label: "ardoise.pass", index: 1))
        var source = PassDataSource(kind: .xoshiro(XoshiroBlockStream(key: key)))
        if inverted { source = source.complemented }
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 16384, alignment: 4096)
        defer { scratch.deallocate() }
        for start: UInt64 in [0, 512, 8208] {
            var bytes = [UInt8](repeating: 0, count: 65_536)
            bytes.withUnsafeMutableBytes { source.fill($0, at: start) }
            #expect(bytes.withUnsafeBytes { source.firstMismatch(in: $0, at: start, scratch: scratch) } == nil)
            bytes[badIndex] ^= 0x10
            bytes[min(badIndex + 100, 65_535)] ^= 0x01
            #expect(bytes.withUnsafeBytes { source.firstMismatch(in: $0, at: start, scratch: scratch) } == badIndex)
        }
    }
}

@Suite struct ConstantCompareTests {
    @Test(arguments: [0, 1, 4095, 4096, 8191, 10_000, 16_383])
    func findsTheFirstByteThatIsNotTheConstant(badIndex: Int) {
        var bytes = [UInt8](repeating: 0xA5, count: 16_384)
        #expect(bytes.withUnsafeBytes { JobRunner.firstDifference($0, fromByte: 0xA5) } == nil)
        bytes[badIndex] = 0xA4
        bytes[16_383] = 0
        #expect(bytes.withUnsafeBytes { JobRunner.firstDifference($0, fromByte: 0xA5) } == badIndex)
        #expect(Array(bytes[1...]).withUnsafeBytes { JobRunner.firstDifference($0, fromByte: 0xA5) } == (badIndex == 0 ? 16_382 : badIndex - 1))
    }
}
