import Foundation
import Testing
@testable import Diagnostics
import WipeEngine

@Suite struct VerdictTests {
    @Test(arguments: [
        ("ata-hdd-healthy.json", HealthVerdict.reuse, [String]()),
        ("ata-ssd-healthy.json", .reuse, []),
        ("nvme-healthy.json", .reuse, []),
        ("scsi-sas-healthy.json", .reuse, []),
        ("usb-bridge-sat.json", .reuse, []),
        ("ata-hdd-caution.json", .caution, ["ata_reallocated_sectors", "ata_command_timeouts"]),
        ("ata-crc-only.json", .caution, ["ata_interface_crc_errors"]),
        ("ata-old-self-test-failure.json", .caution, ["self_test_failed_in_past"]),
        ("ata-hdd-failing.json", .discard, ["smart_status_failed", "ata_attribute_failing_now", "ata_reallocated_sectors",
                                            "ata_reported_uncorrectable", "ata_pending_sectors", "ata_offline_uncorrectable", "self_test_failed"]),
        ("nvme-worn.json", .discard, ["nvme_spare_below_threshold", "nvme_reliability_degraded", "nvme_percentage_used"]),
        ("nvme-media-errors.json", .discard, ["nvme_media_errors", "self_test_failed"]),
        ("scsi-sas-defects.json", .discard, ["scsi_grown_defects", "scsi_uncorrected_errors", "self_test_failed"]),
        ("usb-bridge-refused.json", .unknown, ["smartctl_command_line_error"]),
        ("smartctl-open-failed.json", .unknown, ["smart_device_open_failed"]),
        ("smartctl-no-device-type.json", .unknown, ["smartctl_command_line_error"]),
        ("not-json.txt", .unknown, ["smart_output_invalid"]),
    ])
    func fixtureVerdict(file: String, verdict: HealthVerdict, codes: [String]) throws {
        let report = try judge(file)
        #expect(report.verdict == verdict, "\(file): \(report.reasons)")
        #expect(report.codes == codes, "\(file)")
    }

    @Test func failingDriveReasonsCarryValueAndThreshold() throws {
        let report = try judge("ata-hdd-failing.json")
        let reallocated = try #require(report.reason("ata_reallocated_sectors"))
        #expect(reallocated.severity == "discard")
        #expect(reallocated.attribute == "5 Reallocated_Sector_Ct")
        #expect(reallocated.value == .integer(2472))
        #expect(reallocated.threshold == .integer(100))
        let now = try #require(report.reason("ata_attribute_failing_now"))
        #expect(now.value == .integer(1))
        #expect(now.threshold == .integer(140))
        #expect(report.source.smartctlExitBits.contains("disk_failing"))
        #expect(report.facts.counters["ata_5_raw"] == 2472)
        #expect(report.facts.counters["ata_197_raw"] == 48)
        #expect(report.facts.powerOnHours == 41022)
        #expect(report.facts.mediaType == "hdd")
    }

    @Test func packedCommandTimeoutCountsItsLowWord() throws {
        // Seagate packs three 16-bit counters into 188's raw field: 0x0001_0001_0001.
        let report = try judge("ata-hdd-caution.json")
        #expect(report.facts.counters["ata_188_raw"] == 1)
        #expect(report.reason("ata_command_timeouts")?.severity == "caution")
        #expect(report.reason("ata_reallocated_sectors")?.value == .integer(16))
    }

    @Test func crcErrorsAloneNeverDiscard() throws {
        let report = try judge("ata-crc-only.json")
        #expect(report.verdict == .caution)
        #expect(report.reason("ata_interface_crc_errors")?.value == .integer(5214))
    }

    @Test func factsOfEveryKind() throws {
        let ssd = try judge("ata-ssd-healthy.json").facts
        #expect(ssd.mediaType == "ssd")
        #expect(ssd.serial == "S3YHNX0K812345A")
        #expect(ssd.firmware == "RVT03B6Q")
        let nvme = try judge("nvme-healthy.json").facts
        #expect(nvme.mediaType == "nvme")
        #expect(nvme.temperatureCelsius == 38)
        #expect(nvme.counters["nvme_media_errors"] == 0)
        let scsi = try judge("scsi-sas-healthy.json").facts
        #expect(scsi.mediaType == "hdd")
        #expect(scsi.firmware == "0004")
        #expect(scsi.powerOnHours == 43000)
        #expect(scsi.counters["scsi_grown_defects"] == 0)
    }

    @Test func unknownIsNeverReuseAndDiscardStillWins() throws {
        let policy = try defaultPolicy()
        let evaluator = HealthEvaluator(policy: policy)
        let unknown = evaluator.evaluate(.unavailable(code: "smartctl_not_found", detail: "x"), source: HealthSource(kind: "device", path: "/dev/x"))
        #expect(unknown.verdict == .unknown)
        // No SMART, but the surface scan found unreadable sectors: discard.
        let surface = SurfaceScanReport(mode: "full", bytesPlanned: 1 << 20, bytesRead: (1 << 20) - 4096, blockSize: 1 << 20, sectorSize: 4096,
                                        histogram: LatencyHistogram(), unreadableRanges: [ByteRange(start: 0, end: 4096)],
                                        stoppedEarly: false, stopReason: nil, durationSeconds: 0.1)
        let both = evaluator.evaluate(.unavailable(code: "smart_unavailable", detail: "x"), source: HealthSource(kind: "device", path: "/dev/x"), surface: surface)
        #expect(both.verdict == .discard)
        #expect(both.codes == ["smart_unavailable", "surface_unreadable"])
    }

    @Test func anNvmeTemperatureWarningAloneIsCautionNotAFailedDrive() throws {
        var output = try Fixture.output("nvme-healthy.json")
        output.smartStatus = .init(passed: false, nvme: .init(value: 2))
        output.nvmeSmartHealthInformationLog?.criticalWarning = 2
        let report = HealthEvaluator(policy: try defaultPolicy()).evaluate(.output(output, exitStatus: 8), source: HealthSource(kind: "file", path: "x"))
        #expect(report.verdict == .caution)
        #expect(report.codes == ["nvme_temperature_warning"])
        // An ATA drive's FAILED status stays a discard.
        var ata = try Fixture.output("ata-hdd-healthy.json")
        ata.smartStatus = .init(passed: false)
        #expect(HealthEvaluator(policy: try defaultPolicy()).evaluate(.output(ata, exitStatus: 8), source: HealthSource(kind: "file", path: "x")).codes == ["smart_status_failed"])
    }

    @Test func smartSwitchedOffOrAbsentIsUnknownWithItsReason() throws {
        let evaluator = HealthEvaluator(policy: try defaultPolicy())
        var off = SmartctlOutput()
        off.device = .init(name: "/dev/sdb", type: "sat", protocol: "ATA")
        off.smartSupport = .init(available: true, enabled: false)
        #expect(evaluator.evaluate(.output(off, exitStatus: 4), source: HealthSource(kind: "file", path: "x")).codes == ["smart_disabled"])
        off.smartSupport = .init(available: false, enabled: false)
        let none = evaluator.evaluate(.output(off, exitStatus: 4), source: HealthSource(kind: "file", path: "x"))
        #expect(none.verdict == .unknown)
        #expect(none.codes == ["smart_not_supported"])
    }

    @Test func statusMissingButAttributesPresentIsCaution() throws {
        var output = try Fixture.output("ata-hdd-healthy.json")
        output.smartStatus = nil
        let report = HealthEvaluator(policy: try defaultPolicy()).evaluate(.output(output, exitStatus: 0), source: HealthSource(kind: "file", path: "x"))
        #expect(report.verdict == .caution)
        #expect(report.codes == ["smart_status_unavailable"])
    }

    @Test func jsonHasStableCodesAndTopLevelVerdict() throws {
        let report = try judge("nvme-worn.json")
        let object = try #require(try JSONSerialization.jsonObject(with: report.jsonData()) as? [String: Any])
        #expect(object["verdict"] as? String == "discard")
        let reasons = try #require(object["reasons"] as? [[String: Any]])
        let spare = try #require(reasons.first { $0["code"] as? String == "nvme_spare_below_threshold" })
        #expect(spare["field"] as? String == "nvme_smart_health_information_log.critical_warning")
        #expect(spare["value"] as? Int == 5)
        #expect(object["policyVersion"] as? String == "2026.12-1")
        let facts = try #require(object["facts"] as? [String: Any])
        #expect(facts["model"] as? String == "INTEL SSDPEKKW256G8")
        #expect(facts["powerOnHours"] as? Int == 28211)
        // The text changes with the language; the JSON does not.
        #expect(report.text(in: .french).contains("à détruire"))
        #expect(report.text(in: .english).contains("discard"))
    }

    // MARK: Real outputs (shared reference, read in place)

    /// 10 pending and 10 offline-uncorrectable sectors reach the default discard step (10).
    @Test(.enabled(if: Fixture.referenceAvailable, "../shared/reference/smartctl-samples is absent"),
          arguments: [
            ("smart-ata.json", HealthVerdict.reuse), ("smart-ata2.json", .reuse), ("smart-ata-full.json", .reuse),
            ("smart-pass.json", .reuse), ("smart-nvme.json", .reuse), ("smart-nvme2.json", .reuse),
            ("smart-ata-date2.json", .discard), ("smart-ata-failed-scrutiny.json", .caution),
            ("smart-sat.json", .caution), ("smart-megaraid1.json", .discard),
            ("smart-fail2.json", .discard), ("smart-nvme-failed.json", .caution),
            ("smart-scsi.json", .caution), ("smart-raid.json", .unknown), ("smart-fail.json", .unknown),
          ])
    func realOutputs(file: String, verdict: HealthVerdict) throws {
        let report = HealthEvaluator(policy: try defaultPolicy()).evaluate(
            SmartctlRunner.reading(fromFile: Fixture.referenceDirectory + "/" + file), source: HealthSource(kind: "file", path: file))
        #expect(report.verdict == verdict, "\(file): \(report.reasons.map { "\($0.code)=\($0.value?.description ?? "-")" })")
    }
}
