import ErasureRecords
/// How a job drives its target. The defaults suit every drive; tests shrink nothing but sizes.
public struct WipeOptions: Sendable {
    public static let defaultBufferSize = 4 << 20
    /// Buffer sizes the engine accepts (1–8 MiB, a multiple of 4096 and of the sector size).
    public static let allowedBufferSizes = (1 << 20)...(8 << 20)

    /// Bytes per write/read.
    public var bufferSize: Int
    /// The job seed (32 bytes by default, from the system CSPRNG). Kept in the journal only.
    public var seed: [UInt8]
    /// I/O threads, hence I/Os in flight, when the target supports concurrent I/O (1–8).
    /// A full verification uses at most 2 of them (each also compares what it read; 1 with
    /// many jobs, `verifyThreads(sharedWith:)`), a stream
    /// pass at most `streamIODepth`, and writes of a fixed pattern go in pieces of at most
    /// 1 MiB (see `JobRunner.stride`). Memory per job: `passBufferBound`.
    public var ioDepth: Int
    /// Writers of generated data (a stream pass), at most `ioDepth` (1–8). Each writer
    /// generates the chunk it took into its own buffer, then writes it: while one generates,
    /// the other's write is in flight. Their buffers are the pass's memory (cut down to
    /// `streamBufferBudget`); 2 writers of 4 MiB keep a write queued on the drive while the
    /// next chunk is generated, which is all a sequential write needs (see bench/results).
    public var streamIODepth: Int
    /// Minimum seconds between two `.progress` events.
    public var progressInterval: Double
    /// This many sectors failing in a row means the drive is gone: the job stops as interrupted.
    public var maxConsecutiveSectorErrors: Int
    /// First retry size after a failed I/O, before going sector by sector.
    public var retryIOSize: Int
    /// Bytes per verification sample (rounded to sectors, shrunk on small targets).
    public var sampleLength: Int
    /// Sample offsets are listed in the report up to this count; beyond, the plan's description and seed hash suffice.
    public var maxRecordedSampleOffsets: Int
    /// Mismatching offsets recorded before a verification stops.
    public var maxRecordedBadOffsets: Int
    /// Called on the job's thread after each pass (after its verification), before the next begins.
    public var passHook: (@Sendable (PassRecord) -> Void)?
    /// Runs a profile's `[firmware]` step; a job whose profile has one fails without it.
    public var firmwarePurger: (any FirmwarePurging)? = nil
    /// False: the job's thread counts ignore the other jobs running in the process. Only for
    /// tests that need a job's own number of threads while other tests' jobs run beside it.
    var sharesIOThreadsWithOtherJobs = true
    /// 1-based index of the first pass to run. Passes before it are skipped: they ran in an
    /// earlier job this one resumes (same profile and seed, so the same plan), and are absent
    /// from this job's report. 1 runs the whole profile.
    public var firstPass: Int

    public init(
        bufferSize: Int = WipeOptions.defaultBufferSize,
        seed: [UInt8]? = nil,
        ioDepth: Int = 4,
        streamIODepth: Int = 2,
        progressInterval: Double = 0.25,
        maxConsecutiveSectorErrors: Int = 64,
        retryIOSize: Int = 64 << 10,
        sampleLength: Int = 64 << 10,
        maxRecordedSampleOffsets: Int = 10_000,
        maxRecordedBadOffsets: Int = 16,
        passHook: (@Sendable (PassRecord) -> Void)? = nil,
        firstPass: Int = 1
    ) {
        self.bufferSize = bufferSize
        if let seed {
            self.seed = seed
        } else {
            var generator = SystemRandomNumberGenerator()
            self.seed = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        }
        self.ioDepth = ioDepth
        self.streamIODepth = streamIODepth
        self.progressInterval = progressInterval
        self.maxConsecutiveSectorErrors = maxConsecutiveSectorErrors
        self.retryIOSize = retryIOSize
        self.sampleLength = sampleLength
        self.maxRecordedSampleOffsets = maxRecordedSampleOffsets
        self.maxRecordedBadOffsets = maxRecordedBadOffsets
        self.passHook = passHook
        self.firstPass = firstPass
    }
}

// MARK: Memory bound

extension WipeOptions {
    /// Most bytes of generated data one job holds at once (its writers' buffers), whatever
    /// `streamIODepth` asks: with many drives wiped at once, memory grows by this much per
    /// drive. 8 MiB is two 4 MiB buffers: one being written while the other is generated.
    /// Issue 15's bound is 64 MiB + 16 MiB per active drive.
    public static let streamBufferBudget = 8 << 20

    /// I/O threads the whole process aims at, over every job running at once. With many
    /// drives, each job gets `budget / jobs` threads but never fewer than 2 (one I/O in flight
    /// while the other thread prepares or compares the next); one or two drives keep their
    /// `ioDepth`. Measured on 2 cores with 4 and 16 loop devices (bench/results, 2026-12-06
    /// night): 4 threads per drive on 16 drives make 64 runnable writers that the scheduler
    /// shares unevenly (slowest/fastest job 1.33 against 1.19 with 2), and no faster.
    public static let processIOThreadBudget = 8

    /// Verification scratch per reading thread (expected stream bytes), see `JobRunner.verifyFull`.
    static let compareScratchSize = 256 << 10

    /// I/O threads for a target that supports concurrent I/O (1–8).
    var ioThreads: Int { min(max(ioDepth, 1), 8) }

    /// I/O threads of one job's pass while `activeJobs` jobs run in this process (see
    /// `processIOThreadBudget`).
    public func ioThreads(sharedWith activeJobs: Int) -> Int {
        min(ioThreads, max(2, Self.budgetShare(activeJobs)))
    }

    /// One job's share of `processIOThreadBudget` while `activeJobs` jobs run (0 when they
    /// are more than the budget); each kind of phase sets its own floor.
    private static func budgetShare(_ activeJobs: Int) -> Int {
        processIOThreadBudget / max(activeJobs, 1)
    }

    /// Reading threads of a full verification while `activeJobs` jobs run in this process:
    /// 2 for up to 4 jobs (one read in flight while the other thread compares), then 1 each,
    /// as fio's synchronous readers. Measured on 2 cores with 16 loop devices read at once
    /// (bench/results/2026-12-07-afternoon-analysis.md): with 2 threads each, 32 readers
    /// share the cores so unevenly that the slowest drive takes 1.8–2 times the fastest's
    /// time; with 1 each, 1.2–1.3, as fio, and the same aggregate rate.
    public func verifyThreads(sharedWith activeJobs: Int) -> Int {
        min(ioThreads, 2, max(1, Self.budgetShare(activeJobs)))
    }

    /// Writer threads of a stream pass, each with its own buffer: `streamIODepth`, at most
    /// `ioDepth`, cut down to `streamBufferBudget`.
    public var streamWriterCount: Int {
        max(1, min(min(max(streamIODepth, 1), ioThreads), Self.streamBufferBudget / max(bufferSize, 1)))
    }

    /// Upper bound, in bytes, of the pass buffers one job holds at once, over every kind of
    /// phase: a stream pass's writers (each a buffer and a retry scratch); a full verification's reading threads (at most 2, each
    /// with one buffer, its compare scratch and a retry scratch) plus the expected pattern of
    /// a multi-byte fixed pattern; a fixed-pattern write (one shared 1 MiB buffer, and a retry
    /// scratch per thread). The job's own scratch (retries, samples) is on top:
    /// `jobScratchBound`. Thread stacks and the process's fixed cost are not counted.
    public var passBufferBound: Int {
        let retry = max(retryIOSize, 4096)
        let stream = streamWriterCount * (bufferSize + retry)
        let verify = min(ioThreads, 2) * (bufferSize + Self.compareScratchSize + retry) + bufferSize
        let fixedWrite = (1 << 20) + ioThreads * retry
        return max(stream, verify, fixedWrite)
    }

    /// The job's own scratch, allocated once per job: retries and samples (rounded up to
    /// the alignment), expected data of samples, and the sample buffer.
    public var jobScratchBound: Int {
        max(retryIOSize, sampleLength, 4096) + 2 * 4096 + Self.compareScratchSize + sampleLength + 4096
    }
}
