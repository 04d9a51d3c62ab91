import ErasureRecords
/// What a running job tells its observers, in order, through `WipeJob.events`.
public enum WipeEvent: Sendable {
    case jobStarted(target: String, sizeInBytes: UInt64, profile: String, passCount: Int)
    /// A pass begins (`description` as `WipeProfile` lists it, after random choices).
    case passStarted(index: Int, count: Int, description: String)
    /// Emitted at most every `WipeOptions.progressInterval` seconds while data moves.
    case progress(WipeProgress)
    case verificationStarted(pass: Int, mode: String)
    case verificationFinished(pass: Int, VerificationRecord)
    case passFinished(PassRecord)
    /// The profile's firmware step reports progress (before any pass).
    case firmwareProgress(FirmwarePurgeProgress)
    /// The firmware step ended; passes (if any) follow.
    case firmwareFinished(FirmwarePurgeRecord)
    /// Always the last event; the stream finishes after it.
    case jobFinished(WipeReport)
}

/// A snapshot of a job's progress. Rates are decimal bytes per second.
public struct WipeProgress: Sendable, Equatable {
    public enum Phase: String, Sendable { case writing, verifying }

    public var pass: Int
    public var passCount: Int
    public var phase: Phase
    /// Bytes done and to do in this phase of this pass.
    public var bytesDone: UInt64
    public var bytesTotal: UInt64
    /// Rate over the last interval.
    public var currentBytesPerSecond: Double
    /// Rate since the phase began.
    public var averageBytesPerSecond: Double
    /// Seconds left in this phase at the average rate.
    public var phaseETASeconds: Double?
    /// Bytes written or read back so far over the whole job, and the job's planned total
    /// (writes plus full read-backs; sampled reads are not counted).
    public var overallBytesDone: UInt64
    public var overallBytesTotal: UInt64
    /// 0…1 over every planned write and read of the job.
    public var overallFraction: Double
    /// Seconds left for the whole job at the job's average rate.
    public var overallETASeconds: Double?
}
