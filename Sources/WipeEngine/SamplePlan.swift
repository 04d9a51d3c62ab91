import ErasureRecords
/// Where a sampled verification reads. Deterministic from its seed, so a plan can be
/// rebuilt later from the journal instead of storing every offset.
public struct SamplePlan: Sendable, Equatable {
    /// The samples in ascending order, each `sampleLength` bytes (the first and last blocks included).
    public let ranges: [ByteRange]
    public let sampleLength: Int
    /// Equal sub-sections the target was cut into (each holds `samplesPerSubsection` samples).
    public let subsectionCount: Int
    public let samplesPerSubsection: Int
    /// Words for the record: scheme, sub-sections, sample size.
    public let description: String

    /// The plan a verification mode asks for: nil for `none` and `full`, and when the target
    /// is too small to sample (the caller then reads everything, which is stronger).
    public static func forMode(_ mode: VerificationMode, sizeInBytes: UInt64, logicalSectorSize: Int, sampleLength: Int, seed: UInt64) -> SamplePlan? {
        switch mode {
        case .none, .full:
            return nil
        case .nistSample:
            return nist(sizeInBytes: sizeInBytes, logicalSectorSize: logicalSectorSize, sampleLength: sampleLength, seed: seed)
        case .samplePercent(let value):
            return percent(value, sizeInBytes: sizeInBytes, logicalSectorSize: logicalSectorSize, sampleLength: sampleLength, seed: seed)
        }
    }

    /// NIST SP 800-88 Rev.1 §4.7.3 sampling: at least `subsections` (1,000) equal sub-sections,
    /// two pseudo-random non-overlapping samples in each, plus the first and last addressable
    /// blocks. Returns nil when the target is too small for that many samples of one sector
    /// (the caller then reads everything, which is stronger).
    public static func nist(sizeInBytes: UInt64, logicalSectorSize: Int, sampleLength: Int, seed: UInt64, subsections: Int = 1000) -> SamplePlan? {
        make(sizeInBytes: sizeInBytes, logicalSectorSize: logicalSectorSize, sampleLength: sampleLength, seed: seed,
             subsections: subsections, perSubsection: 2, scheme: "NIST SP 800-88 Rev.1")
    }

    /// Samples covering about `percent` % of the target: one sample in each of
    /// ⌈percent·size / sampleLength⌉ equal sub-sections, plus the first and last blocks.
    /// Returns nil when that would read half the target or more (read everything instead).
    public static func percent(_ percent: Double, sizeInBytes: UInt64, logicalSectorSize: Int, sampleLength: Int, seed: UInt64) -> SamplePlan? {
        let wanted = (percent / 100) * Double(sizeInBytes) / Double(max(sampleLength, 1))
        let count = max(1, Int(wanted.rounded(.up)))
        guard percent < 50,
              let plan = make(sizeInBytes: sizeInBytes, logicalSectorSize: logicalSectorSize, sampleLength: sampleLength, seed: seed,
                     subsections: count, perSubsection: 1, scheme: "\(VerificationMode.formatPercent(percent))%"),
              // Shrunk samples would cover less than asked: read everything instead.
              plan.sampleLength >= min(sampleLength, Int(sizeInBytes))
        else { return nil }
        return plan
    }

    private static func make(
        sizeInBytes: UInt64, logicalSectorSize: Int, sampleLength requestedLength: Int, seed: UInt64,
        subsections: Int, perSubsection: Int, scheme: String
    ) -> SamplePlan? {
        let sector = UInt64(logicalSectorSize)
        guard sector > 0, subsections > 0 else { return nil }
        let sectorCount = sizeInBytes / sector
        var sampleSectors = max(1, UInt64(requestedLength) / sector)
        // Shrink the samples until each sub-section holds its samples at most half-full,
        // otherwise sampling would not be meaningfully cheaper than a full read.
        while sampleSectors > 1, sectorCount / UInt64(subsections) < 2 * UInt64(perSubsection) * sampleSectors {
            sampleSectors /= 2
        }
        guard sectorCount / UInt64(subsections) >= 2 * UInt64(perSubsection) * sampleSectors else { return nil }
        let sampleLength = sampleSectors * sector
        var generator = Xoshiro256StarStar(seed: seed)
        var ranges: [ByteRange] = [ByteRange(start: 0, end: sampleLength)]
        ranges.reserveCapacity(subsections * perSubsection + 2)
        let total = UInt64(subsections)
        for index in 0..<total {
            // Sub-section i spans sectors [i·N/k, (i+1)·N/k): equal to within one sector.
            let first = index * sectorCount / total
            let last = (index + 1) * sectorCount / total
            let slots = (last - first) / sampleSectors
            var chosen: [UInt64] = []
            while chosen.count < perSubsection {
                let slot = generator.next() % slots
                if !chosen.contains(slot) { chosen.append(slot) }
            }
            for slot in chosen.sorted() {
                let start = (first + slot * sampleSectors) * sector
                ranges.append(ByteRange(start: start, end: start + sampleLength))
            }
        }
        ranges.append(ByteRange(start: sizeInBytes - sampleLength, end: sizeInBytes))
        ranges.sort { $0.start < $1.start }
        return SamplePlan(
            ranges: ranges, sampleLength: Int(sampleLength), subsectionCount: subsections,
            samplesPerSubsection: perSubsection,
            description: "\(scheme): \(subsections) sub-sections × \(perSubsection) samples of \(sampleLength) bytes + first and last blocks")
    }
}
