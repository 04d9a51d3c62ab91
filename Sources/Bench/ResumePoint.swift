import ArdoiseSupport
import Certificates
import ErasureRecords
import Foundation
import Journal
import WipeEngine

/// Where an interrupted erasure of a drive can go on: the earlier job's profile and seed, the
/// passes it (and the jobs it itself resumed) completed, and the first pass left to run.
///
/// Only a drive with a stable identity (a real serial number, or a loop device's backing
/// file) can resume, and only from the last job run on that identity when that job was
/// interrupted: any later job, finished or not, closes the earlier one's story.
public struct ResumePoint: Sendable, Equatable {
    /// A completed pass of an earlier job, as the journal recorded it (with its verification).
    public typealias EarlierPass = PassRecord

    /// One earlier job of the chain and the passes it ran (0-based profile positions).
    public struct EarlierJob: Sendable, Equatable {
        public var job: JobRecord
        public var passIndices: [Int]
    }

    /// The interrupted job this one continues (the last of the chain).
    public var fromJobID: UUID
    public var profileName: String
    public var seed: [UInt8]
    /// 1-based index of the first pass to run (`WipeOptions.firstPass`).
    public var firstPass: Int
    public var passCount: Int
    /// Passes `0 ..< firstPass - 1`, in order.
    public var earlierPasses: [EarlierPass]
    /// The jobs that ran them, oldest first.
    public var earlierJobs: [EarlierJob]

    /// When the erasure began: the start of the first job of the chain.
    public var startedAt: Date { earlierJobs.first?.job.startedAt ?? Date() }

    /// What the control socket shows.
    public var offer: ResumeOffer {
        ResumeOffer(jobID: fromJobID.uuidString.lowercased(), profile: profileName, completedPasses: firstPass - 1, passCount: passCount)
    }

    /// The resume point for `medium`, or nil when it must start over: no stable identity, no
    /// interrupted last job, a profile or seed that is gone, no completed pass, all passes
    /// already done (nothing would be verified now), an earlier pass that was not clean, or
    /// records that do not match what the seed plans. Blocking (journal reads).
    public static func find(for medium: MediumDescription, journal: JournalDatabase, library: ProfileLibrary) throws -> ResumePoint? {
        guard medium.hasStableIdentity else { return nil }
        let jobs = try journal.jobs(driveSerial: medium.serial, model: medium.model, sizeInBytes: Int64(medium.sizeInBytes), wwn: medium.wwn)
        guard let last = jobs.last, last.status == .interrupted,
              // A firmware erase is one drive command: a profile with one always starts over.
              let profile = library.profile(named: last.profile), !profile.isReadOnly, profile.firmware == nil,
              let seed = try journal.jobSeed(jobID: last.id) else { return nil }

        // Walk back the chain: each job ran passes from its own first index on; the ones
        // below came from the job it resumed.
        var byIndex: [Int: EarlierPass] = [:]
        var chain: [EarlierJob] = []
        var current: JobRecord? = last
        var limit = Int.max
        while let job = current {
            let resumption = try journal.resumption(jobID: job.id)
            let floor = resumption?.firstPassIndex ?? 0
            var indices: [Int] = []
            for pass in try journal.passes(jobID: job.id) {
                let position = pass.index - 1
                guard position >= floor, position < limit, byIndex[position] == nil else { continue }
                byIndex[position] = pass
                indices.append(position)
            }
            chain.insert(EarlierJob(job: job, passIndices: indices.sorted()), at: 0)
            guard let resumption else { break }
            // Every job of a chain runs the same profile with the same seed.
            guard let earlier = try journal.job(id: resumption.resumedFromJobID), earlier.profile == last.profile,
                  try journal.jobSeed(jobID: earlier.id) == seed, chain.count < 64 else { return nil }
            limit = floor
            current = earlier
        }

        let plan = PassPlanner.plan(profile: profile, seed: seed)
        var completed = 0
        while byIndex[completed] != nil { completed += 1 }
        guard completed > 0, completed < plan.count else { return nil }
        var earlierPasses: [EarlierPass] = []
        for index in 0..<completed {
            let pass = byIndex[index]!
            let planned = plan[index]
            // The seed must give back the very passes the journal recorded.
            guard pass.seedSHA256 == planned.seedSHA256, pass.patternHex == planned.fixedPattern.map(Self.hex) else { return nil }
            // Only clean passes carry over; anything else starts over.
            let writes = planned.specification.writes
            guard pass.ioErrorCount == 0, pass.badRanges.isEmpty,
                  !writes || pass.bytesWritten == medium.sizeInBytes,
                  pass.verification.map({ $0.result == .passed }) ?? true else { return nil }
            earlierPasses.append(pass)
        }
        return ResumePoint(fromJobID: last.id, profileName: profile.name, seed: seed, firstPass: completed + 1,
                           passCount: plan.count, earlierPasses: earlierPasses,
                           earlierJobs: chain.filter { !$0.passIndices.isEmpty || $0.job.id == last.id })
    }

    static func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes) }

    /// The earlier passes as the certificate lists them (the ones that wrote; with this job's).
    var certificatePasses: [PassRecord] {
        earlierPasses.filter(\.writes)
    }

    /// The certificate's account of the resumption: which job ran which passes, and when.
    /// Listed as an exception: the drive left the bench between passes, so the erasure is
    /// not one unbroken job even though every pass ran and the last ones were verified now.
    func certificateException(thisJob: UUID, thisJobStartedAt: Date) -> ErasureException {
        let formatter = ISO8601DateFormatter()
        var parts: [String] = []
        for earlier in earlierJobs where !earlier.passIndices.isEmpty {
            let passes = earlier.passIndices.map { String($0 + 1) }.joined(separator: ", ")
            let ended = earlier.job.endedAt.map { formatter.string(from: $0) } ?? "?"
            parts.append("pass(es) \(passes) ran in job \(earlier.job.id.uuidString.lowercased()) "
                         + "(\(formatter.string(from: earlier.job.startedAt)) to \(ended), \(earlier.job.status.rawValue)"
                         + (earlier.job.reason.map { ": \($0)" } ?? "") + ")")
        }
        parts.append("pass(es) \(firstPass) to \(passCount) ran in job \(thisJob.uuidString.lowercased()) "
                     + "from \(formatter.string(from: thisJobStartedAt)), after the drive was plugged in again")
        return ErasureException(kind: .other, detail: "resumed erasure: " + parts.joined(separator: "; "))
    }
}

/// A resumable job offered for a drive that came back (shown by `ardoise status`).
public struct ResumeOffer: Sendable, Codable, Hashable {
    /// The interrupted job that would be continued.
    public var jobID: String
    public var profile: String
    /// Passes already done: the resumed job starts at pass `completedPasses + 1`.
    public var completedPasses: Int
    public var passCount: Int

    public init(jobID: String, profile: String, completedPasses: Int, passCount: Int) {
        self.jobID = jobID; self.profile = profile; self.completedPasses = completedPasses; self.passCount = passCount
    }
}
