import ArdoiseSupport
import Foundation
import Testing
@testable import WipeEngine

@Suite struct WipeJobTests {
    static let mebibyte = 1 << 20

    /// Runs `profile` on a fresh sparse file and checks the file after every pass and at the
    /// end by reading it back with Foundation, independently of the engine's verifier.
    /// Firmware profiles (`nist-800-88-purge*`) need a drive: FirmwareStepTests and the
    /// bench's FirmwarePurgeTests cover them.
    @Test(arguments: ProfileLibraryTests.expectedNames.filter { !$0.hasPrefix("nist-800-88-purge") })
    func profileLeavesExpectedDataAfterEveryPass(name: String) throws {
        let profile = try builtInProfiles().requireProfile(named: name)
        // Gutmann has 35 passes: keep it small. Others: not a multiple of the buffer size.
        let size = UInt64(name == "gutmann" ? Self.mebibyte + 3 * 4096 : 2 * Self.mebibyte + 5 * 4096)
        let image = try TemporaryImage(size: size)
        let snapshots = PassSnapshots()
        let options = WipeOptions(bufferSize: Self.mebibyte, seed: testSeed, passHook: { record in
            snapshots.append(record, (try? image.contents()) ?? [])
        })
        let target = try FileWipeTarget(path: image.path, logicalSectorSize: 4096)
        let job = try WipeJob(profile: profile, target: target, options: options)
        let report = job.runBlocking()

        #expect(report.status == .completed)
        #expect(report.succeeded)
        #expect(report.passes.count == profile.passes.count)
        let passes = snapshots.all
        try #require(passes.count == profile.passes.count)
        var previous: [UInt8]?
        for (index, (record, bytes)) in passes.enumerated() {
            let planned = job.plannedPasses[index]
            #expect(bytes.count == Int(size))
            #expect(record.completed)
            if record.writes { #expect(record.bytesWritten == size) }
            switch planned.specification.pattern {
            case .constant(let byte):
                #expect(bytes.allSatisfy { $0 == byte }, "pass \(index + 1) constant 0x\(String(byte, radix: 16))")
                #expect(record.patternHex == String(format: "%02x", byte))
            case .pattern(let pattern):
                #expect(bytes.enumerated().allSatisfy { $1 == pattern[$0 % pattern.count] }, "pass \(index + 1) pattern")
            case .randomByte:
                let first = try #require(bytes.first)
                #expect(bytes.allSatisfy { $0 == first }, "pass \(index + 1) random byte")
                #expect(record.patternHex == String(format: "%02x", first))
            case .complement:
                let before = try #require(previous)
                #expect(zip(bytes, before).allSatisfy { $0 == ~$1 }, "pass \(index + 1) complement")
            case .prng:
                #expect(bytes == planned.expectedBytes(at: 0, count: Int(size)), "pass \(index + 1) stream")
                // Not a constant fill and not the previous pass again.
                #expect(Set(bytes.prefix(65536)).count > 200)
                if let previous { #expect(bytes != previous) }
                #expect(record.seedSHA256?.count == 64)
            }
            if planned.specification.verification != .none {
                #expect(record.verification?.result == .passed)
            }
            previous = bytes
        }
        #expect(try image.contents() == passes.last?.1)
    }

    @Test(arguments: [
        (UInt64(4096), 4096), (UInt64(4096 * 257), 4096), (UInt64((1 << 20) + 4096), 4096),
        (UInt64((1 << 20) * 3 - 512), 512), (UInt64(1536), 512),
    ])
    func oddSizesAreCoveredToTheLastSector(size: UInt64, sector: Int) throws {
        let image = try TemporaryImage(size: size)
        let profile = WipeProfile(
            name: "odd", title: LocalizedText(fr: "x", en: "x"), standard: "test", nistCategory: .clear,
            passes: [
                PassSpecification(pattern: .pattern([0x92, 0x49, 0x24]), verification: .full),
                PassSpecification(pattern: .prng(.xoshiro256StarStar), verification: .full),
                PassSpecification(pattern: .complement, verification: .full),
            ])
        let snapshots = PassSnapshots()
        let options = WipeOptions(bufferSize: 1 << 20, seed: testSeed, passHook: { snapshots.append($0, (try? image.contents()) ?? []) })
        let job = try WipeJob(profile: profile, target: try FileWipeTarget(path: image.path, logicalSectorSize: sector), options: options)
        let report = job.runBlocking()
        #expect(report.succeeded)
        let all = snapshots.all
        try #require(all.count == 3)
        #expect(all[0].1.enumerated().allSatisfy { $1 == [0x92, 0x49, 0x24][$0 % 3] })
        #expect(all[1].1 == job.plannedPasses[1].expectedBytes(at: 0, count: Int(size)))
        #expect(zip(all[2].1, all[1].1).allSatisfy { $0 == ~$1 })
        #expect(try image.contents().count == Int(size))
    }

    @Test func zeroSizeTargetIsRefused() throws {
        let image = try TemporaryImage(size: 0)
        let profile = try builtInProfiles().requireProfile(named: "zero")
        let error = try #require(throws: WipeEngineError.self) {
            try WipeJob(profile: profile, target: try FileWipeTarget(path: image.path), options: WipeOptions(seed: testSeed))
        }
        #expect(error.code == .emptyTarget)
    }

    @Test func badGeometryAndOptionsAreRefused() throws {
        let profile = try builtInProfiles().requireProfile(named: "zero")
        let odd = try TemporaryImage(size: 1000)
        #expect(throws: WipeEngineError.self) { try WipeJob(profile: profile, target: try FileWipeTarget(path: odd.path), options: WipeOptions(seed: testSeed)) }
        let image = try TemporaryImage(size: 1 << 20)
        for bufferSize in [512 << 10, 16 << 20, (1 << 20) + 512] {
            let error = try #require(throws: WipeEngineError.self) {
                try WipeJob(profile: profile, target: try FileWipeTarget(path: image.path), options: WipeOptions(bufferSize: bufferSize, seed: testSeed))
            }
            #expect(error.code == .invalidOptions)
        }
    }

    @Test func verifyZeroFindsANonZeroByte() throws {
        let profile = try builtInProfiles().requireProfile(named: "verify-zero")
        let image = try TemporaryImage(size: 3 << 20)
        try image.write([0, 0, 7], at: 2_000_000)
        let job = try WipeJob(profile: profile, target: try FileWipeTarget(path: image.path, readOnly: true), options: WipeOptions(seed: testSeed))
        let report = job.runBlocking()
        guard case .failed(let reason) = report.status else { Issue.record("status \(report.status)"); return }
        #expect(reason.code == .verificationMismatch)
        #expect(report.passes.first?.verification?.firstBadOffsets == [2_000_002])
        #expect(report.totalBytesWritten == 0)
        #expect(!report.succeeded)
    }

    @Test func nistSamplingRecordsItsSamples() throws {
        let profile = try builtInProfiles().requireProfile(named: "nist-800-88-clear")
        let image = try TemporaryImage(size: 16 << 20)
        let job = try WipeJob(profile: profile, target: try FileWipeTarget(path: image.path, logicalSectorSize: 512), options: WipeOptions(seed: testSeed))
        let report = job.runBlocking()
        #expect(report.succeeded)
        let verification = try #require(report.passes.first?.verification)
        #expect(verification.mode == "sample:nist")
        #expect(verification.sampleCount == 2002)
        #expect(verification.sampleOffsets?.count == 2002)
        #expect(verification.sampleOffsets?.first == 0)
        #expect(verification.sampleDescription?.contains("1000 sub-sections") == true)
    }

    @Test func eventsArriveInOrderAndTheReportEncodes() async throws {
        let profile = try builtInProfiles().requireProfile(named: "dod-5220-22m")
        let image = try TemporaryImage(size: 4 << 20)
        let job = try WipeJob(profile: profile, target: try FileWipeTarget(path: image.path), options: WipeOptions(bufferSize: 1 << 20, seed: testSeed, progressInterval: 0))
        job.start()
        var events: [WipeEvent] = []
        for await event in job.events { events.append(event) }
        let report = await job.report
        guard case .jobStarted = events.first, case .jobFinished(let final) = events.last else {
            Issue.record("first/last events wrong")
            return
        }
        #expect(final == report)
        // Each pass carries its own start and end, in order, inside the job's.
        var previousEnd = report.startedAt
        for pass in report.passes {
            let started = try #require(pass.startedAt), ended = try #require(pass.endedAt)
            #expect(started >= previousEnd && ended >= started && ended <= report.endedAt)
            #expect(abs(ended.timeIntervalSince(started) - pass.durationSeconds) < 0.05)
            previousEnd = ended
        }
        #expect(events.filter { if case .passStarted = $0 { true } else { false } }.count == 3)
        #expect(events.filter { if case .passFinished = $0 { true } else { false } }.count == 3)
        #expect(events.filter { if case .verificationFinished = $0 { true } else { false } }.count == 3)
        let progress = events.compactMap { if case .progress(let value) = $0 { value } else { nil } }
        #expect(!progress.isEmpty)
        #expect(progress.last?.overallFraction == 1)
        let data = try JSONEncoder().encode(report)
        #expect(try JSONDecoder().decode(WipeReport.self, from: data) == report)
        let json = String(decoding: data, as: UTF8.self)
        #expect(!json.contains(testSeed.map { String(format: "%02x", $0) }.joined()))
        #expect(report.seedSHA256.count == 64)
        #expect(json.contains("\"status\":{\"code\":\"completed\"}"))
        let interrupted = WipeStatus.interrupted(WipeStopReason(code: .vanished, message: LocalizedText(fr: "a", en: "b"), pass: 2))
        let encoded = try JSONEncoder().encode(interrupted)
        #expect(try JSONDecoder().decode(WipeStatus.self, from: encoded) == interrupted)
        #expect(String(decoding: encoded, as: UTF8.self).contains("\"code\":\"interrupted\""))
    }

    @Test func progressIsRateLimited() throws {
        let profile = try builtInProfiles().requireProfile(named: "zero")
        let image = try TemporaryImage(size: 32 << 20)
        let job = try WipeJob(profile: profile, target: try FileWipeTarget(path: image.path), options: WipeOptions(bufferSize: 1 << 20, seed: testSeed))
        let clock = ContinuousClock()
        let start = clock.now
        _ = job.runBlocking()
        let seconds = (clock.now - start).seconds
        let semaphore = DispatchSemaphore(value: 0)
        let box = Counter()
        Task.detached {
            for await event in job.events { if case .progress = event { box.increment() } }
            semaphore.signal()
        }
        semaphore.wait()
        let count = box.value
        // At most ~4 per second, plus one at the end of each phase.
        #expect(Double(count) <= seconds * 4 + 3)
    }
}

final class Counter: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

@Suite struct ConcurrentJobTests {
    /// Three jobs at once, each on its own threads, each leaving exactly its own data.
    @Test func threeJobsAtOnceStayIndependent() async throws {
        let profile = try builtInProfiles().requireProfile(named: "random")
        var images: [TemporaryImage] = []
        var jobs: [WipeJob] = []
        for index in 0..<3 {
            let image = try TemporaryImage(size: UInt64(2 << 20) + UInt64(index) * 4096)
            images.append(image)
            let seed = Array(repeating: UInt8(index + 1), count: 32)
            jobs.append(try WipeJob(profile: profile, target: try FileWipeTarget(path: image.path), options: WipeOptions(bufferSize: 1 << 20, seed: seed)))
        }
        jobs.forEach { $0.start() }
        for (job, image) in zip(jobs, images) {
            let report = await job.report
            #expect(report.succeeded)
            let bytes = try image.contents()
            #expect(bytes == job.plannedPasses[0].expectedBytes(at: 0, count: bytes.count))
        }
    }
}

@Suite struct FinalBlankTests {
    @Test func finalBlankPassRunsLastAndIsRecorded() throws {
        let directory = NSTemporaryDirectory() + "ardoise-profiles-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let text = ProfileLibraryTests.header.replacingOccurrences(of: "\"bad\"", with: "\"blank\"")
            + "[[pass]]\nkind = \"prng\"\ngenerator = \"aes-ctr\"\nverify = \"sample\"\nsample-percent = 10\n\n[final-blank]\nbyte = 0x00\nverify = \"full\"\n"
        try text.write(toFile: directory + "/blank.toml", atomically: true, encoding: .utf8)
        let profile = try ProfileLibrary.load(directories: [directory]).requireProfile(named: "blank")
        let image = try TemporaryImage(size: 3 << 20)
        let report = try WipeJob(profile: profile, target: try FileWipeTarget(path: image.path), options: WipeOptions(bufferSize: 1 << 20, seed: testSeed)).runBlocking()
        #expect(report.succeeded)
        #expect(report.passes.map(\.isFinalBlank) == [false, true])
        #expect(report.passes[0].prngAlgorithm == "aes-ctr")
        // 10% of 3 MiB in 64 KiB samples: 5 sub-sections plus the first and last blocks.
        #expect(report.passes[0].verification?.mode == "sample:10%")
        #expect(report.passes[0].verification?.sampleCount == 7)
        #expect(try image.contents().allSatisfy { $0 == 0 })
    }
}
