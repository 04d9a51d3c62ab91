/// How a job drives its target. The defaults suit every drive; tests shrink nothing but sizes.
public struct WipeOptions: Sendable {
    public static let defaultBufferSize = 4 << 20
    /// Buffer sizes the engine accepts (1–8 MiB, a multiple of 4096 and of the sector size).
    public static let allowedBufferSizes = (1 << 20)...(8 << 20)

    /// Bytes per write/read.
    public var bufferSize: Int
    /// The job seed (32 bytes by default, from the system CSPRNG). Kept in the journal only.
    public var seed: [UInt8]
    /// Buffers generated ahead of the writers (or read ahead of the comparer), on top of one
    /// per I/O thread (1–8).
    public var ringDepth: Int
    /// I/O threads, hence I/Os in flight, when the target supports concurrent I/O (1–8).
    /// A full verification uses at most 2 of them (each also compares what it read), and
    /// writes of a fixed pattern go in pieces of at most 1 MiB (see `JobRunner.stride`).
    /// Memory per job is about `(ioDepth + ringDepth + 1) × bufferSize` for stream passes.
    public var ioDepth: Int
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
    /// 1-based index of the first pass to run. Passes before it are skipped: they ran in an
    /// earlier job this one resumes (same profile and seed, so the same plan), and are absent
    /// from this job's report. 1 runs the whole profile.
    public var firstPass: Int

    public init(
        bufferSize: Int = WipeOptions.defaultBufferSize,
        seed: [UInt8]? = nil,
        ringDepth: Int = 2,
        ioDepth: Int = 4,
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
        self.ringDepth = ringDepth
        self.ioDepth = ioDepth
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
