import Foundation

/// What reading SMART gave: smartctl's parsed output, or why there is none.
public enum SmartReading: Sendable, Equatable {
    /// smartctl ran (or a saved output was read) and printed JSON.
    case output(SmartctlOutput, exitStatus: Int?)
    /// Nothing to judge: `code` is stable (`smartctl_not_found`, `smart_file_unreadable`…).
    case unavailable(code: String, detail: String)
}

/// Applies a `HealthPolicy` to a SMART reading (and a surface scan, a self-test outcome).
/// Pure: no I/O, so every rule is tested on saved outputs.
public struct HealthEvaluator: Sendable {
    public let policy: HealthPolicy

    public init(policy: HealthPolicy) { self.policy = policy }

    public func evaluate(_ reading: SmartReading, source: HealthSource, surface: SurfaceScanReport? = nil,
                         selfTest: SelfTestOutcome? = nil, checkedAt: Date = Date()) -> HealthReport {
        var reasons: [HealthReason] = []
        var facts = HealthFacts()
        var source = source
        var unreadable = false

        switch reading {
        case .unavailable(let code, let detail):
            unreadable = true
            reasons.append(HealthReason(code: code, severity: "unknown", detail: detail))
        case .output(let output, let exitStatus):
            let status = exitStatus ?? output.smartctl?.exitStatus
            if source.smartctlExitStatus == nil, let status {
                source.smartctlExitStatus = status
                source.smartctlExitBits = SmartctlExitStatus(rawValue: status).names
            }
            if source.deviceType == nil { source.deviceType = output.device?.type }
            facts = Self.facts(of: output)
            let bits = SmartctlExitStatus(rawValue: status ?? 0)
            let message = output.smartctl?.messages?.filter { $0.severity == "error" }.map(\.string).joined(separator: "; ")
            if bits.contains(.commandLineError) {
                unreadable = true
                reasons.append(HealthReason(code: "smartctl_command_line_error", severity: "unknown", field: "smartctl.exit_status",
                                            value: .integer(Int64(status ?? 0)), detail: message))
            } else if bits.contains(.deviceOpenFailed) && !Self.hasHealthData(output) {
                unreadable = true
                reasons.append(HealthReason(code: "smart_device_open_failed", severity: "unknown", field: "smartctl.exit_status",
                                            value: .integer(Int64(status ?? 0)), detail: message))
            } else if !Self.hasHealthData(output) {
                unreadable = true
                let detail = message?.isEmpty == false ? message : "no SMART data in smartctl's output"
                if output.smartSupport?.available == false {
                    reasons.append(HealthReason(code: "smart_not_supported", severity: "unknown", field: "smart_support.available",
                                                value: .flag(false), detail: detail))
                } else if output.smartSupport?.enabled == false {
                    // Switching SMART on (`smartctl -s on`) changes a drive setting: left to the technician.
                    reasons.append(HealthReason(code: "smart_disabled", severity: "unknown", field: "smart_support.enabled",
                                                value: .flag(false), detail: detail))
                } else {
                    reasons.append(HealthReason(code: "smart_unavailable", severity: "unknown", field: "smart_status", detail: detail))
                }
            } else {
                reasons += judge(output, exitBits: bits, facts: &facts)
            }
        }
        if let surface { reasons += judge(surface) }
        // A test run now whose failure the log already reported is one reason, not two.
        if let selfTest, selfTest.result == "failed", policy.latestSelfTestFailed != .ignore,
           !reasons.contains(where: { $0.code == "self_test_failed" }) {
            reasons.append(HealthReason(code: "self_test_failed", severity: policy.latestSelfTestFailed.rawValue,
                                        field: "self_test.\(selfTest.kind)", value: .text(selfTest.result), detail: selfTest.detail))
        }

        let verdict: HealthVerdict
        if reasons.contains(where: { $0.severity == "discard" }) {
            verdict = .discard
        } else if unreadable {
            verdict = .unknown
        } else if reasons.contains(where: { $0.severity == "caution" }) {
            verdict = .caution
        } else {
            verdict = .reuse
        }
        return HealthReport(verdict: verdict, reasons: reasons, facts: facts, source: source,
                            policyName: policy.name, policyVersion: policy.version,
                            surface: surface, selfTest: selfTest, checkedAt: checkedAt)
    }

    // MARK: Facts

    /// Whether the output holds anything a rule can judge.
    static func hasHealthData(_ output: SmartctlOutput) -> Bool {
        output.smartStatus?.passed != nil || !(output.ataSmartAttributes?.table.isEmpty ?? true)
            || output.nvmeSmartHealthInformationLog != nil || output.scsiGrownDefectList != nil
            || output.scsiErrorCounterLog != nil
    }

    static func facts(of output: SmartctlOutput) -> HealthFacts {
        var facts = HealthFacts()
        let scsiName = [output.vendor, output.product].compactMap { $0 }.joined(separator: " ")
        facts.model = output.modelName ?? (scsiName.isEmpty ? nil : scsiName)
        facts.serial = output.serialNumber
        facts.firmware = output.firmwareVersion ?? output.revision
        facts.capacityBytes = output.userCapacity?.bytes
        facts.protocolName = output.device?.protocol
        if output.device?.protocol == "NVMe" || output.nvmeSmartHealthInformationLog != nil {
            facts.mediaType = "nvme"
        } else if let rate = output.rotationRate {
            facts.mediaType = rate == 0 ? "ssd" : "hdd"
        }
        facts.powerOnHours = output.powerOnTime?.hours ?? output.nvmeSmartHealthInformationLog?.powerOnHours
        facts.temperatureCelsius = output.temperature?.current ?? output.nvmeSmartHealthInformationLog?.temperature
        return facts
    }

    // MARK: Rules

    private func reason(_ severity: HealthSeverity, _ code: String, attribute: String? = nil, field: String? = nil,
                        value: HealthValue?, threshold: HealthValue? = nil, detail: String? = nil) -> HealthReason? {
        guard severity != .ignore else { return nil }
        return HealthReason(code: code, severity: severity.rawValue, attribute: attribute, field: field,
                            value: value, threshold: threshold, detail: detail)
    }

    private func counterReason(_ rule: CounterThreshold, _ value: UInt64, code: String, attribute: String? = nil, field: String? = nil) -> HealthReason? {
        guard let (severity, threshold) = rule.judge(value) else { return nil }
        return reason(severity, code, attribute: attribute, field: field, value: .count(value), threshold: .count(threshold))
    }

    /// The counter an ATA raw field holds. Some vendors pack several 16-bit counters into the
    /// 48-bit raw field of 188 (Seagate: three timeout counts); smartctl shows them as
    /// "a b c". A raw value above 32 bits is read as its lowest 16 bits, the count itself.
    static func ataCounter(_ attribute: SmartctlOutput.AtaAttribute) -> UInt64? {
        guard let raw = attribute.raw?.value else { return nil }
        return raw > 0xFFFF_FFFF ? raw & 0xFFFF : raw
    }

    func judge(_ output: SmartctlOutput, exitBits: SmartctlExitStatus, facts: inout HealthFacts) -> [HealthReason] {
        var reasons: [HealthReason?] = []
        // Overall status (smartctl -H).
        // smartctl calls an NVMe drive FAILED as soon as any critical-warning bit is set, a
        // temperature warning included: judge those bits one by one (below) instead.
        let nvmeWarning = output.smartStatus?.nvme?.value ?? output.nvmeSmartHealthInformationLog?.criticalWarning
        let nvmeStatusFromBits = output.device?.protocol == "NVMe" && (nvmeWarning ?? 0) != 0
        if let passed = output.smartStatus?.passed {
            if !passed && !nvmeStatusFromBits {
                reasons.append(reason(policy.overallFailed, "smart_status_failed", field: "smart_status.passed", value: .flag(false)))
            }
        } else if exitBits.contains(.diskFailing) && !nvmeStatusFromBits {
            reasons.append(reason(policy.overallFailed, "smart_status_failed", field: "smartctl.exit_status", value: .text("disk_failing")))
        } else {
            reasons.append(reason(policy.statusUnavailable, "smart_status_unavailable", field: "smart_status", value: nil))
        }

        // ATA attributes.
        for attribute in output.ataSmartAttributes?.table ?? [] {
            let label = "\(attribute.id) \(attribute.name ?? "")".trimmingCharacters(in: .whitespaces)
            switch attribute.whenFailed {
            case "now":
                reasons.append(reason(policy.attributeFailingNow, "ata_attribute_failing_now", attribute: label,
                                      value: attribute.value.map { .integer(Int64($0)) }, threshold: attribute.thresh.map { .integer(Int64($0)) }))
            case "past":
                reasons.append(reason(policy.attributeFailedInPast, "ata_attribute_failed_in_past", attribute: label,
                                      value: attribute.worst.map { .integer(Int64($0)) }, threshold: attribute.thresh.map { .integer(Int64($0)) }))
            default: break
            }
            guard let rule = policy.ataAttributes.first(where: { $0.id == attribute.id }), let raw = Self.ataCounter(attribute) else { continue }
            facts.counters["ata_\(attribute.id)_raw"] = raw
            reasons.append(counterReason(rule.threshold, raw, code: rule.code, attribute: label))
        }

        // NVMe SMART / Health log.
        if let log = output.nvmeSmartHealthInformationLog {
            let field = "nvme_smart_health_information_log"
            if let warning = log.criticalWarning {
                facts.counters["nvme_critical_warning"] = UInt64(warning)
                for entry in HealthPolicy.nvmeWarningKeys where warning & (1 << entry.bit) != 0 {
                    reasons.append(reason(policy.nvmeCriticalWarning[entry.bit] ?? .caution, entry.code, field: "\(field).critical_warning",
                                          value: .integer(Int64(warning)), threshold: .text("bit \(entry.bit)")))
                }
            }
            if let spare = log.availableSpare, let limit = log.availableSpareThreshold, spare < limit,
               (log.criticalWarning ?? 0) & 1 == 0 {
                // The controller should have set bit 0; judge the numbers when it did not.
                reasons.append(reason(policy.nvmeCriticalWarning[0] ?? .discard, "nvme_spare_below_threshold", field: "\(field).available_spare",
                                      value: .integer(Int64(spare)), threshold: .integer(Int64(limit))))
            }
            if let spare = log.availableSpare { facts.counters["nvme_available_spare"] = UInt64(max(spare, 0)) }
            if let used = log.percentageUsed {
                facts.counters["nvme_percentage_used"] = UInt64(max(used, 0))
                reasons.append(counterReason(policy.nvmePercentageUsed, UInt64(max(used, 0)), code: "nvme_percentage_used", field: "\(field).percentage_used"))
            }
            if let errors = log.mediaErrors {
                facts.counters["nvme_media_errors"] = errors
                reasons.append(counterReason(policy.nvmeMediaErrors, errors, code: "nvme_media_errors", field: "\(field).media_errors"))
            }
        }

        // SCSI grown defects and uncorrected errors.
        if let defects = output.scsiGrownDefectList {
            facts.counters["scsi_grown_defects"] = UInt64(max(defects, 0))
            reasons.append(counterReason(policy.scsiGrownDefects, UInt64(max(defects, 0)), code: "scsi_grown_defects", field: "scsi_grown_defect_list"))
        }
        if let log = output.scsiErrorCounterLog {
            let parts: [(String, SmartctlOutput.ScsiErrorCounterLog.Counters?)] = [("read", log.read), ("write", log.write), ("verify", log.verify)]
            var total: UInt64 = 0
            var fields: [String] = []
            for (name, counters) in parts {
                guard let value = counters?.totalUncorrectedErrors else { continue }
                facts.counters["scsi_\(name)_uncorrected_errors"] = value
                total += value
                if value > 0 { fields.append("scsi_error_counter_log.\(name).total_uncorrected_errors") }
            }
            reasons.append(counterReason(policy.scsiUncorrectedErrors, total, code: "scsi_uncorrected_errors",
                                         field: fields.isEmpty ? "scsi_error_counter_log" : fields.joined(separator: "+")))
        }

        // Self-test logs: the most recent completed test, then older failures.
        reasons += selfTestReasons(output)

        // Usage.
        if let temperature = facts.temperatureCelsius {
            reasons.append(counterReason(policy.temperature, UInt64(max(temperature, 0)), code: "temperature_high", field: "temperature.current"))
        }
        if let hours = facts.powerOnHours {
            reasons.append(counterReason(policy.powerOnHours, UInt64(max(hours, 0)), code: "power_on_hours_high", field: "power_on_time.hours"))
        }
        return reasons.compactMap { $0 }
    }

    /// One self-test log entry reduced to what the policy needs.
    enum TestResult { case passed, failed, notCompleted }

    static func selfTestResults(_ output: SmartctlOutput) -> [(result: TestResult, field: String, text: String?)] {
        var results: [(TestResult, String, String?)] = []
        if let log = output.ataSmartSelfTestLog {
            // Entries are most recent first; the extended (GP) log is the fuller one when present.
            let (table, name) = log.extended?.table.map { ($0, "extended") } ?? (log.standard?.table ?? [], "standard")
            for (index, entry) in table.enumerated() {
                // ACS-3 §9.11.7.2: status in the high nibble; 0 ok, 1–2 aborted, 3–8 failures, 15 running.
                let nibble = (entry.status?.value ?? 0) >> 4
                let result: TestResult
                if entry.status?.passed == false || (3...8).contains(nibble) { result = .failed }
                else if nibble == 0 { result = .passed }
                else { result = .notCompleted }
                results.append((result, "ata_smart_self_test_log.\(name).table[\(index)]", entry.status?.string))
            }
        }
        for (index, entry) in (output.nvmeSelfTestLog?.table ?? []).enumerated() {
            let value = entry.selfTestResult?.value ?? 15
            let result: TestResult = value == 0 ? .passed : (5...7).contains(value) ? .failed : .notCompleted
            results.append((result, "nvme_self_test_log.table[\(index)]", entry.selfTestResult?.string))
        }
        for (index, entry) in output.scsiSelfTests.enumerated() {
            let value = entry.result?.value ?? 15
            let result: TestResult = value == 0 ? .passed : (3...7).contains(value) ? .failed : .notCompleted
            results.append((result, "scsi_self_test_\(index)", entry.result?.string))
        }
        return results
    }

    private func selfTestReasons(_ output: SmartctlOutput) -> [HealthReason?] {
        let completed = Self.selfTestResults(output).filter { $0.result != .notCompleted }
        guard let latest = completed.first else { return [] }
        if latest.result == .failed {
            return [reason(policy.latestSelfTestFailed, "self_test_failed", field: latest.field, value: latest.text.map(HealthValue.text))]
        }
        if let older = completed.dropFirst().first(where: { $0.result == .failed }) {
            return [reason(policy.olderSelfTestFailed, "self_test_failed_in_past", field: older.field, value: older.text.map(HealthValue.text))]
        }
        return []
    }

    func judge(_ surface: SurfaceScanReport) -> [HealthReason] {
        var reasons: [HealthReason?] = []
        let unreadable = surface.unreadableRanges.reduce(UInt64(0)) { $0 + $1.count / UInt64(max(surface.sectorSize, 1)) }
        reasons.append(counterReason(policy.surfaceUnreadable, unreadable, code: "surface_unreadable", field: "surface.unreadableSectors"))
        reasons.append(counterReason(policy.surfaceSlowerThan500ms, surface.histogram.slowerThan500ms, code: "surface_slow_500ms", field: "surface.histogram.slowerThan500ms"))
        reasons.append(counterReason(policy.surfaceSlowerThan150ms, surface.histogram.slowerThan150ms, code: "surface_slow_150ms", field: "surface.histogram.slowerThan150ms"))
        reasons.append(counterReason(policy.surfaceSlowerThan50ms, surface.histogram.slowerThan50ms, code: "surface_slow_50ms", field: "surface.histogram.slowerThan50ms"))
        if surface.stoppedEarly {
            reasons.append(HealthReason(code: "surface_scan_incomplete", severity: "caution", field: "surface.stoppedEarly",
                                        value: .flag(true), detail: surface.stopReason))
        }
        return reasons.compactMap { $0 }
    }
}
