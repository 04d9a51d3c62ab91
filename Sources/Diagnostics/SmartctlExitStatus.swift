/// smartctl's exit status, a bit mask (smartctl(8), "RETURN VALUES").
public struct SmartctlExitStatus: OptionSet, Sendable, Hashable, Codable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Bit 0: the command line did not parse.
    public static let commandLineError = SmartctlExitStatus(rawValue: 1 << 0)
    /// Bit 1: the device could not be opened, did not answer IDENTIFY, or is in a low-power mode.
    public static let deviceOpenFailed = SmartctlExitStatus(rawValue: 1 << 1)
    /// Bit 2: some SMART or other command to the disk failed, or a SMART data structure had a
    /// checksum error.
    public static let commandFailed = SmartctlExitStatus(rawValue: 1 << 2)
    /// Bit 3: SMART status check returned "DISK FAILING".
    public static let diskFailing = SmartctlExitStatus(rawValue: 1 << 3)
    /// Bit 4: prefail attributes are at or below their threshold now.
    public static let prefailBelowThreshold = SmartctlExitStatus(rawValue: 1 << 4)
    /// Bit 5: status OK, but some usage or prefail attribute was at or below its threshold in the past.
    public static let thresholdExceededInPast = SmartctlExitStatus(rawValue: 1 << 5)
    /// Bit 6: the device error log holds errors.
    public static let errorLogHasErrors = SmartctlExitStatus(rawValue: 1 << 6)
    /// Bit 7: the self-test log holds errors (failed tests outdated by a newer successful
    /// extended test are ignored).
    public static let selfTestLogHasErrors = SmartctlExitStatus(rawValue: 1 << 7)

    /// The names of the set bits, for the JSON report (stable, language-independent).
    public var names: [String] {
        let all: [(SmartctlExitStatus, String)] = [
            (.commandLineError, "command_line_error"), (.deviceOpenFailed, "device_open_failed"),
            (.commandFailed, "command_failed"), (.diskFailing, "disk_failing"),
            (.prefailBelowThreshold, "prefail_below_threshold"), (.thresholdExceededInPast, "threshold_exceeded_in_past"),
            (.errorLogHasErrors, "error_log_has_errors"), (.selfTestLogHasErrors, "self_test_log_has_errors"),
        ]
        return all.filter { contains($0.0) }.map(\.1)
    }
}
