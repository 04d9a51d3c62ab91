import ArdoiseSupport
import Foundation
import Testing
@testable import WipeEngine

/// Prints the engine's end-to-end rates on a regular file (in /dev/shm when available, so
/// the medium is not the limit). A figure for the report, not a pass/fail criterion:
/// `ARDOISE_THROUGHPUT_MIB` sets the size (default 16 MiB to keep debug test runs short);
/// run in release for meaningful numbers.
@Suite struct EngineThroughputTests {
    @Test func endToEndRates() throws {
        let mebibytes = Int(ProcessInfo.processInfo.environment["ARDOISE_THROUGHPUT_MIB"] ?? "") ?? 16
        let size = UInt64(mebibytes) << 20
        let directory = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let path = directory + "/ardoise-throughput-\(UUID().uuidString).img"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: size)
        try handle.close()
        // The first write of a sparse tmpfs file allocates its pages: not the engine's cost.
        let warmUp = WipeProfile(name: "warm", title: LocalizedText(fr: "w", en: "w"), standard: "w", nistCategory: .clear,
                                 passes: [PassSpecification(pattern: .constant(0xFF))])
        _ = try WipeJob(profile: warmUp, target: try FileWipeTarget(path: path, logicalSectorSize: 4096), options: WipeOptions(seed: testSeed)).runBlocking()
        let cases: [(String, PassSpecification)] = [
            ("zero write", PassSpecification(pattern: .constant(0))),
            ("pattern write", PassSpecification(pattern: .pattern([0x92, 0x49, 0x24]))),
            ("xoshiro write", PassSpecification(pattern: .prng(.xoshiro256StarStar))),
            ("aes-ctr write", PassSpecification(pattern: .prng(.aesCTR))),
            ("zero write+verify", PassSpecification(pattern: .constant(0), verification: .full)),
            ("xoshiro write+verify", PassSpecification(pattern: .prng(.xoshiro256StarStar), verification: .full)),
        ]
        for (name, pass) in cases {
            let profile = WipeProfile(name: "bench", title: LocalizedText(fr: "b", en: "b"), standard: "b", nistCategory: .clear, passes: [pass])
            let job = try WipeJob(profile: profile, target: try FileWipeTarget(path: path, logicalSectorSize: 4096), options: WipeOptions(seed: testSeed))
            let report = job.runBlocking()
            #expect(report.succeeded)
            let record = try #require(report.passes.first)
            var line = String(format: "engine %@: write %.2f GB/s", name, record.bytesPerSecond / 1e9)
            if let verification = record.verification, verification.durationSeconds > 0 {
                line += String(format: ", verify %.2f GB/s", Double(verification.bytesCompared) / verification.durationSeconds / 1e9)
            }
            print(line + " (\(mebibytes) MiB)")
        }
    }
}
