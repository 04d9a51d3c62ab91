import Foundation

/// Starts a drive's own self-test through smartctl (`-t short|long`), follows it and reads
/// its result from the drive's self-test log. The test runs inside the drive and never
/// touches user data. Blocks until the test ends or `timeoutSeconds` pass.
public struct SelfTestRunner: Sendable {
    public var runner: SmartctlRunner
    public var deviceType: String?
    public var pollSeconds: Double
    /// Nil: 30 min for a short test, 48 h for a long one.
    public var timeoutSeconds: Double?

    public init(runner: SmartctlRunner, deviceType: String?, pollSeconds: Double = 10, timeoutSeconds: Double? = nil) {
        self.runner = runner
        self.deviceType = deviceType
        self.pollSeconds = pollSeconds
        self.timeoutSeconds = timeoutSeconds
    }

    private func arguments(_ extra: [String], device: String) -> [String] {
        var arguments = ["--json=c"] + extra
        if let deviceType { arguments += ["-d", deviceType] }
        return arguments + [device]
    }

    /// Runs the test; `progress` gets the percentage done. Never throws: a drive that cannot
    /// run a self-test gets `not_supported`, a test that does not end in time `timed_out`.
    public func run(device: String, kind: String, progress: (@Sendable (Int) -> Void)? = nil) throws -> SelfTestOutcome {
        guard case .output(let started, let status) = runner.run(arguments(["-t", kind], device: device)) else {
            return SelfTestOutcome(kind: kind, result: "not_supported", detail: "smartctl could not start the test")
        }
        let bits = SmartctlExitStatus(rawValue: status ?? 0)
        if bits.contains(.commandLineError) || bits.contains(.deviceOpenFailed) || bits.contains(.commandFailed) {
            let message = started.smartctl?.messages?.map(\.string).joined(separator: "; ")
            return SelfTestOutcome(kind: kind, result: "not_supported", detail: message ?? "exit status \(status ?? 0)")
        }
        let limit = timeoutSeconds ?? (kind == "long" ? 48 * 3600 : 30 * 60)
        let deadline = Date().addingTimeInterval(limit)
        // Give the drive a moment to register the test before the first poll.
        Thread.sleep(forTimeInterval: min(pollSeconds, 2))
        while Date() < deadline {
            guard case .output(let output, _) = runner.run(arguments(["-c", "-l", "selftest"], device: device)) else {
                return SelfTestOutcome(kind: kind, result: "aborted", detail: "the drive stopped answering during the test")
            }
            if let remaining = Self.remainingPercent(output) {
                progress?(100 - remaining)
                Thread.sleep(forTimeInterval: pollSeconds)
                continue
            }
            return Self.outcome(of: output, kind: kind)
        }
        // Leave the drive as found: abort the running test (`-X`).
        _ = runner.run(arguments(["-X"], device: device))
        return SelfTestOutcome(kind: kind, result: "timed_out", detail: "no result after \(Int(limit)) s; test aborted")
    }

    /// Percent remaining while a test runs, nil when none runs.
    static func remainingPercent(_ output: SmartctlOutput) -> Int? {
        // ATA: self-test execution status, high nibble 15 = in progress (ACS-3 §7.48.6).
        if let status = output.ataSmartData?.selfTest?.status, let value = status.value, value >> 4 == 15 {
            return status.remainingPercent ?? (value & 0x0F) * 10
        }
        // NVMe: current device self-test operation, 0 = none (NVMe Base 2.0, log page 06h byte 0).
        if let log = output.nvmeSelfTestLog, let operation = log.currentSelfTestOperation?.value, operation != 0 {
            return 100 - (log.currentSelfTestCompletionPercent ?? 0)
        }
        // SCSI: result 15 = in progress (SPC-5 Table 466).
        if let first = output.scsiSelfTests.first, first.result?.value == 15 { return 50 }
        return nil
    }

    /// The most recent log entry as an outcome.
    static func outcome(of output: SmartctlOutput, kind: String) -> SelfTestOutcome {
        guard let latest = HealthEvaluator.selfTestResults(output).first else {
            return SelfTestOutcome(kind: kind, result: "not_supported", detail: "no self-test log")
        }
        switch latest.result {
        case .passed: return SelfTestOutcome(kind: kind, result: "passed", detail: latest.text)
        case .failed: return SelfTestOutcome(kind: kind, result: "failed", detail: latest.text)
        case .notCompleted: return SelfTestOutcome(kind: kind, result: "aborted", detail: latest.text)
        }
    }
}
