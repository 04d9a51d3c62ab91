import ArdoiseSupport
import Crypto
import Foundation
import Testing
@testable import WipeEngine

/// Re-derives the streams from their written definition in docs/profiles.md with code of its
/// own, so a change to the engine's streams (which would break re-verification from the
/// journal) cannot pass unnoticed.
@Suite struct StreamDefinitionTests {
    struct ReferenceXoshiro {
        var s: [UInt64]
        mutating func next() -> UInt64 {
            func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
            let result = rotl(s[1] &* 5, 7) &* 9
            let t = s[1] << 17
            s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t
            s[3] = rotl(s[3], 45)
            return result
        }
    }

    static func splitMix(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static func passKey(_ index: Int) -> [UInt8] {
        var data = Data(testSeed)
        data.append(contentsOf: Array("ardoise.pass".utf8))
        data.append(contentsOf: [UInt8(index & 0xFF), UInt8((index >> 8) & 0xFF), 0, 0])
        return Array(SHA256.hash(data: data))
    }

    static func word(_ bytes: [UInt8], _ at: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) }
    }

    @Test func xoshiroStreamFollowsTheDocumentedDefinition() throws {
        let profile = WipeProfile(name: "t", title: LocalizedText(fr: "t", en: "t"), standard: "t", nistCategory: .clear,
                                  passes: [PassSpecification(pattern: .constant(0)), PassSpecification(pattern: .prng(.xoshiro256StarStar))])
        let planned = PassPlanner.plan(profile: profile, seed: testSeed)[1]
        let key = Self.passKey(2)
        let k = (0..<4).map { Self.word(key, 8 * $0) }
        for block: UInt64 in [0, 1, 12345] {
            var x = k[0] ^ (block &* 0xD1B5_4A32_D192_ED03)
            let m = (0..<8).map { _ in Self.splitMix(&x) }
            var a = ReferenceXoshiro(s: [m[0] ^ k[1], m[1] ^ k[2], m[2] ^ k[3], m[3]])
            var b = ReferenceXoshiro(s: [m[4] ^ k[3], m[5] ^ k[1], m[6] ^ k[2], m[7]])
            var expected: [UInt8] = []
            for _ in 0..<256 {
                for value in [a.next(), b.next()] {
                    expected += (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
                }
            }
            #expect(planned.expectedBytes(at: block * 4096, count: 4096) == expected)
        }
        #expect(planned.seedSHA256 == Array(SHA256.hash(data: key)).map { String(format: "%02x", $0) }.joined())
    }

    @Test func randomByteIsTheFirstKeyByte() {
        let profile = WipeProfile(name: "t", title: LocalizedText(fr: "t", en: "t"), standard: "t", nistCategory: .clear,
                                  passes: [PassSpecification(pattern: .randomByte)])
        #expect(PassPlanner.plan(profile: profile, seed: testSeed)[0].fixedPattern == [Self.passKey(1)[0]])
    }
}
