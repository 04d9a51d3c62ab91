import Foundation
import Journal
import Testing
import WipeEngine
@testable import Bench

/// Which journal histories may be resumed, and from where: no drive, no loop, only the journal.
@Suite struct ResumePointTests {
    static let size: UInt64 = 32 << 20
    let seed: [UInt8] = (0..<32).map { UInt8(($0 * 37 + 11) & 0xFF) }
    let library: ProfileLibrary
    let profile: WipeProfile
    let directory: String
    let journal: JournalDatabase
    var medium = MediumDescription(imagePath: "/srv/drives/a.img", sizeInBytes: ResumePointTests.size, logicalSectorSize: 512)

    init() throws {
        library = try BenchConfig().profileLibrary()
        profile = try library.requireProfile(named: "dod-5220-22m")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-resume-\(UUID().uuidString)").path
        journal = try JournalDatabase(dataDirectory: directory)
        medium.hasStableIdentity = true
    }

    var plan: [PlannedPass] { PassPlanner.plan(profile: profile, seed: seed) }

    /// A job on `medium` as ErasureSession records it: seed, the given passes (clean and
    /// verified unless `tweak` says otherwise), then its end.
    @discardableResult
    func job(passes: [Int], status: JobStatus = .interrupted, resuming: UUID? = nil, seed: [UInt8]? = nil,
             on medium: MediumDescription? = nil, tweak: (inout PassRecord) -> Void = { _ in }) throws -> UUID {
        let medium = medium ?? self.medium
        let drive = try journal.recordDrive(DriveRecord(model: medium.model, serial: medium.serial, sizeInBytes: Int64(medium.sizeInBytes)))
        let record = JobRecord(driveID: drive.id, profile: profile.name, technician: "Zoé")
        try journal.startJob(record, seed: seed ?? self.seed, resuming: resuming.map {
            JobResumptionRecord(jobID: record.id, resumedFromJobID: $0, firstPassIndex: passes.first ?? 0)
        })
        for index in passes {
            let planned = plan[index]
            var pass = PassRecord(
                index: index + 1, kind: planned.specification.pattern.kindName,
                patternHex: planned.fixedPattern.map { $0.map { String(format: "%02x", $0) }.joined() },
                seedSHA256: planned.seedSHA256, bytesWritten: medium.sizeInBytes, durationSeconds: 2,
                bytesPerSecond: Double(medium.sizeInBytes) / 2, verification: VerificationRecord(mode: "full", result: .passed))
            tweak(&pass)
            try journal.recordPass(pass, jobID: record.id)
        }
        try journal.finishJob(id: record.id, status: status, reason: status == .interrupted ? "drive removed" : nil)
        return record.id
    }

    func find(_ medium: MediumDescription? = nil) throws -> ResumePoint? {
        try ResumePoint.find(for: medium ?? self.medium, journal: journal, library: library)
    }

    @Test func aJobInterruptedAfterOnePassResumesAtTheSecondWithItsSeed() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try job(passes: [0])
        let point = try #require(try find())
        #expect(point.fromJobID == first)
        #expect(point.firstPass == 2 && point.passCount == 3)
        #expect(point.seed == seed)
        #expect(point.earlierPasses.map(\.index) == [1])
        #expect(point.offer == ResumeOffer(jobID: first.uuidString.lowercased(), profile: "dod-5220-22m", completedPasses: 1, passCount: 3))
        let passes = point.certificatePasses
        #expect(passes.map(\.index) == [1])
        #expect(passes.first?.verification?.result == .passed)
    }

    @Test func aChainOfResumedJobsIsFollowedBackAndTheCertificateSaysWhichJobRanWhat() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try job(passes: [0])
        let second = try job(passes: [1], resuming: first)
        let point = try #require(try find())
        #expect(point.fromJobID == second)
        #expect(point.firstPass == 3)
        #expect(point.earlierPasses.map(\.index) == [1, 2])
        #expect(point.earlierJobs.map(\.job.id) == [first, second])
        #expect(point.earlierJobs.map(\.passIndices) == [[0], [1]])
        let this = UUID()
        let detail = point.certificateException(thisJob: this, thisJobStartedAt: Date()).detail
        #expect(detail.contains("pass(es) 1 ran in job \(first.uuidString.lowercased())"), "\(detail)")
        #expect(detail.contains("pass(es) 2 ran in job \(second.uuidString.lowercased())"), "\(detail)")
        #expect(detail.contains("pass(es) 3 to 3 ran in job \(this.uuidString.lowercased())"), "\(detail)")
    }

    @Test func aPassWhoseVerificationWasCutIsNotRecordedSoItRunsAgain() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Pass 2 written but its verification cut: ErasureSession records passes only once verified.
        try job(passes: [0])
        #expect(try find()?.firstPass == 2)
    }

    @Test func nothingIsResumedFromAFinishedJobOrWithoutCompletedPassesOrWhenAllPassesRan() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try job(passes: [])
        #expect(try find() == nil)
        try job(passes: [0, 1, 2])
        #expect(try find() == nil)
        try job(passes: [0], status: .completed)
        #expect(try find() == nil)
        // A later interrupted job with a pass is resumable again.
        try job(passes: [0])
        #expect(try find()?.firstPass == 2)
    }

    @Test func aDriveWithoutAStableIdentityOrAnotherDriveNeverResumes() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try job(passes: [0])
        var unstable = medium
        unstable.hasStableIdentity = false
        #expect(try find(unstable) == nil)
        var other = medium
        other.serial = "b.img"
        #expect(try find(other) == nil)
        var bigger = medium
        bigger.sizeInBytes *= 2
        #expect(try find(bigger) == nil)
        #expect(try find() != nil)
    }

    @Test func aPassWithErrorsOrRecordsTheSeedDoesNotPlanStartOver() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try job(passes: [0]) { $0.ioErrorCount = 1 }
        #expect(try find() == nil)
        try job(passes: [0]) { $0.bytesWritten -= 512 }
        #expect(try find() == nil)
        try job(passes: [0]) { $0.patternHex = $0.patternHex == "00" ? "01" : "00" }
        #expect(try find() == nil)
        try job(passes: [0]) { $0.seedSHA256 = String(repeating: "0", count: 64) }
        #expect(try find() == nil)
    }
}
