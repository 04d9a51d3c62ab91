import Testing
@testable import WipeEngine

@Suite struct SamplePlanTests {
    @Test(arguments: [(UInt64(1) << 30, 512), (UInt64(1) << 30, 4096), (UInt64(16) << 20, 512), (UInt64(1_000_000_000_000), 4096)])
    func nistSchemeProperties(size: UInt64, sector: Int) throws {
        let plan = try #require(SamplePlan.nist(sizeInBytes: size, logicalSectorSize: sector, sampleLength: 64 << 10, seed: 42))
        #expect(plan.subsectionCount == 1000)
        #expect(plan.ranges.count == 2 * 1000 + 2)
        #expect(plan.ranges.first?.start == 0)
        #expect(plan.ranges.last?.end == size)
        #expect(plan.ranges.allSatisfy { $0.count == UInt64(plan.sampleLength) && $0.start % UInt64(sector) == 0 && $0.end <= size })
        // Each sub-section holds exactly two samples, inside it and not overlapping.
        let sectors = size / UInt64(sector)
        let middle = plan.ranges.dropFirst().dropLast()
        var perSubsection: [Int: [ByteRange]] = [:]
        for range in middle {
            let sectorIndex = range.start / UInt64(sector)
            // Sub-section i spans [i·N/1000, (i+1)·N/1000).
            var index = Int(sectorIndex * 1000 / sectors)
            while index > 0, UInt64(index) * sectors / 1000 > sectorIndex { index -= 1 }
            while UInt64(index + 1) * sectors / 1000 <= sectorIndex { index += 1 }
            #expect(range.end <= (UInt64(index + 1) * sectors / 1000) * UInt64(sector))
            perSubsection[index, default: []].append(range)
        }
        #expect(perSubsection.count == 1000)
        for (_, samples) in perSubsection {
            #expect(samples.count == 2)
            #expect(samples[0].end <= samples[1].start || samples[1].end <= samples[0].start)
        }
        // Deterministic from the seed, different for another seed.
        #expect(SamplePlan.nist(sizeInBytes: size, logicalSectorSize: sector, sampleLength: 64 << 10, seed: 42) == plan)
        #expect(SamplePlan.nist(sizeInBytes: size, logicalSectorSize: sector, sampleLength: 64 << 10, seed: 43) != plan)
    }

    @Test func tooSmallTargetsAreReadInFull() {
        #expect(SamplePlan.nist(sizeInBytes: 4 << 20, logicalSectorSize: 4096, sampleLength: 64 << 10, seed: 1) == nil)
        // Samples shrink to fit before giving up: 16 MiB with 4 KiB sectors still works.
        let plan = SamplePlan.nist(sizeInBytes: 16 << 20, logicalSectorSize: 4096, sampleLength: 64 << 10, seed: 1)
        #expect(plan?.sampleLength == 4096)
    }

    @Test func percentSchemeCoversAboutThePercentage() throws {
        let size: UInt64 = 1 << 30
        let plan = try #require(SamplePlan.percent(5, sizeInBytes: size, logicalSectorSize: 512, sampleLength: 64 << 10, seed: 7))
        let covered = plan.ranges.reduce(UInt64(0)) { $0 + $1.count }
        #expect(Double(covered) >= 0.05 * Double(size))
        #expect(Double(covered) <= 0.06 * Double(size))
        #expect(plan.ranges.first?.start == 0 && plan.ranges.last?.end == size)
        #expect(SamplePlan.percent(80, sizeInBytes: size, logicalSectorSize: 512, sampleLength: 64 << 10, seed: 7) == nil)
    }
}
