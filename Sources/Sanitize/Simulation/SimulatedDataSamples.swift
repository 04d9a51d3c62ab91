/// The content of a simulated drive, kept as a fixed number of sampled sectors spread evenly
/// over the native capacity, so a "2 TB" drive costs a few hundred bytes and an erase is
/// still observable (every sample changes) — including samples inside a hidden area.
public struct SimulatedDataSamples: Sendable, Hashable {
    /// Sector number of each sample.
    public private(set) var sectors: [UInt64]
    /// One content byte per sample: what a read of that sector would return (repeated).
    public private(set) var contents: [UInt8]

    public init(nativeSectors: UInt64, count: Int = 64, seed: UInt64) {
        // Evenly spread from sector 0 to the last native sector, so the top of the drive (where
        // an HPA or DCO area lives) is always sampled.
        let n = UInt64(max(2, count))
        let last = max(1, nativeSectors) - 1
        sectors = (0..<n).map { $0 * last / (n - 1) }
        var state = seed | 1
        contents = sectors.map { _ in
            // xorshift64: deterministic "user data" that is never 00h/FFh.
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return UInt8(truncatingIfNeeded: state % 200) + 20
        }
    }

    /// Sets every sample below `limit` (all when nil) to `value`.
    mutating func fill(_ value: UInt8, below limit: UInt64? = nil) {
        for i in sectors.indices where limit == nil || sectors[i] < limit! { contents[i] = value }
    }

    /// Replaces every sample below `limit` with new pseudo-random content (crypto erase: the
    /// old key is gone, the media now reads as noise).
    mutating func scramble(seed: UInt64, below limit: UInt64? = nil) {
        var state = seed | 1
        for i in sectors.indices where limit == nil || sectors[i] < limit! {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            var next = UInt8(truncatingIfNeeded: state)
            if next == contents[i] { next &+= 1 }
            contents[i] = next
        }
    }

    /// True when no sample (below `limit`) still holds the content it had in `before`.
    public func differsEverywhere(from before: SimulatedDataSamples, below limit: UInt64? = nil) -> Bool {
        sectors.indices.allSatisfy { i in
            (limit != nil && sectors[i] >= limit!) || contents[i] != before.contents[i]
        }
    }

    /// True when every sample (below `limit`) reads `value`.
    public func allEqual(_ value: UInt8, below limit: UInt64? = nil) -> Bool {
        sectors.indices.allSatisfy { i in (limit != nil && sectors[i] >= limit!) || contents[i] == value }
    }
}

/// What a simulated erase did to the media, for tests that back a simulated drive with a
/// real file (`SimulatedMediaFile`) so the bench's read-back sees the erase.
public enum SimulatedMediaChange: Sendable, Hashable {
    /// Every sector below `belowSector` (all when nil) reads `byte`.
    case fill(UInt8, belowSector: UInt64?)
    /// Every sector reads `bytes` repeated from its start (an overwrite pattern).
    case pattern([UInt8])
    /// Every sector below `belowSector` reads new noise (a crypto erase).
    case scramble(seed: UInt64, belowSector: UInt64?)
}

extension SimulatedDataSamples {
    mutating func apply(_ change: SimulatedMediaChange) {
        switch change {
        case .fill(let byte, let limit): fill(byte, below: limit)
        case .pattern(let bytes): fill(bytes.first ?? 0, below: nil)
        case .scramble(let seed, let limit): scramble(seed: seed, below: limit)
        }
    }
}
