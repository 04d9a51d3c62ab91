import ErasureRecords
import Foundation
import Testing
@testable import Journal

/// What a resumed job needs from the journal: the seed, the link to the job it continues,
/// the jobs of one drive by identity, and when each pass ran.
@Suite struct ResumeRecordsTests {
    @Test func aResumedJobIsLinkedToItsEarlierJobWithTheSameSeedAndTheChainHolds() throws {
        let directory = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = try JournalDatabase(dataDirectory: directory)
        let drive = try journal.recordDrive(DriveRecord(model: "Loop device (a.img)", serial: "loop-2049-77", sizeInBytes: 32 << 20,
                                                        diskseq: 40, transport: "loop"))
        let seed: [UInt8] = (0..<32).map { UInt8($0 * 7 & 0xFF) }
        let first = JobRecord(driveID: drive.id, profile: "dod-5220-22m", technician: "Zoé")
        try journal.startJob(first, seed: seed)
        let passStart = Date(timeIntervalSince1970: 1_800_000_000), passEnd = passStart.addingTimeInterval(12)
        try journal.recordPass(PassRecord(index: 1, kind: "random-byte", patternHex: "3c",
                                          bytesWritten: 32 << 20, startedAt: passStart, endedAt: passEnd, durationSeconds: 12,
                                          bytesPerSecond: 2_796_202), jobID: first.id)
        try journal.finishJob(id: first.id, status: .interrupted, reason: "drive removed")

        // The same drive comes back with another diskseq: same row, same jobs.
        let again = try journal.recordDrive(DriveRecord(model: "Loop device (a.img)", serial: "loop-2049-77", sizeInBytes: 32 << 20,
                                                        diskseq: 41, transport: "loop"))
        #expect(again.id == drive.id)
        let second = JobRecord(driveID: again.id, profile: "dod-5220-22m", technician: "Zoé")
        try journal.startJob(second, seed: seed, resuming: JobResumptionRecord(jobID: UUID(), resumedFromJobID: first.id, firstPassIndex: 1))

        #expect(try journal.jobSeed(jobID: first.id) == seed)
        #expect(try journal.jobSeed(jobID: second.id) == seed)
        let link = try #require(try journal.resumption(jobID: second.id))
        #expect(link.jobID == second.id)  // the record is bound to the job it starts
        #expect(link.resumedFromJobID == first.id && link.firstPassIndex == 1)
        #expect(try journal.resumption(jobID: first.id) == nil)
        #expect(try journal.jobs(driveSerial: "loop-2049-77", model: "Loop device (a.img)", sizeInBytes: 32 << 20, wwn: nil)
            .map(\.id) == [first.id, second.id])
        #expect(try journal.jobs(driveSerial: "loop-2049-78", model: "Loop device (a.img)", sizeInBytes: 32 << 20, wwn: nil).isEmpty)
        let pass = try #require(try journal.passes(jobID: first.id).first)
        #expect(pass.startedAt == passStart && pass.endedAt == passEnd)

        let kinds = try journal.events(jobID: second.id).map(\.kind)
        #expect(kinds == [JournalEventKind.jobStarted, JournalEventKind.jobResumed])
        // The seed is kept in its table only: never in the event log.
        let hex = seed.map { String(format: "%02x", $0) }.joined()
        #expect(!(try journal.events()).contains { $0.payload.contains(hex) })
        #expect(try journal.verifyChain() == .intact(count: try journal.events().count))
    }

    @Test func aJobStartedWithoutASeedHasNone() throws {
        let directory = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (journal, jobID) = try JournalFixture.populated(in: directory)
        #expect(try journal.jobSeed(jobID: jobID) == nil)
        #expect(try journal.resumption(jobID: jobID) == nil)
        #expect(try journal.passes(jobID: jobID).allSatisfy { $0.startedAt == nil })
    }
}
