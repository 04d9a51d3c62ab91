import Foundation

/// The part of `smartctl --json -x` output that health judgement reads (smartmontools 7.x
/// JSON format, `json_format_version` 1.0). Every member is optional: smartctl leaves out
/// whatever the drive, the bridge or the command line did not give, and a missing member must
/// never make decoding fail.
///
/// Member names follow smartctl's own (snake_case), mapped with explicit `CodingKeys`.
public struct SmartctlOutput: Codable, Sendable, Equatable {
    public var jsonFormatVersion: [Int]?
    public var smartctl: SmartctlInfo?
    public var device: DeviceInfo?
    public var modelFamily: String?
    public var modelName: String?
    /// SCSI INQUIRY vendor and product (SCSI/SAS drives have no `model_name` on old smartctl).
    public var vendor: String?
    public var product: String?
    public var serialNumber: String?
    public var firmwareVersion: String?
    /// SCSI product revision level (the SCSI counterpart of `firmware_version`).
    public var revision: String?
    public var userCapacity: Capacity?
    public var logicalBlockSize: Int?
    /// Spindle speed in rpm; 0 means a solid-state device (ATA IDENTIFY word 217, SCSI VPD B1h).
    public var rotationRate: Int?
    public var smartStatus: SmartStatus?
    /// Whether the drive has SMART and whether it is switched on (`smart_support`).
    public var smartSupport: SmartSupport?
    public var powerOnTime: PowerOnTime?
    public var powerCycleCount: Int?
    public var temperature: Temperature?
    public var ataSmartAttributes: AtaAttributes?
    public var ataSmartErrorLog: AtaErrorLog?
    public var ataSmartSelfTestLog: AtaSelfTestLog?
    public var ataSmartData: AtaSmartData?
    public var nvmeSmartHealthInformationLog: NvmeHealthLog?
    public var nvmeSelfTestLog: NvmeSelfTestLog?
    /// SCSI: the number of entries in the grown defect list (READ DEFECT DATA, SBC-4 §5.7).
    public var scsiGrownDefectList: Int?
    public var scsiErrorCounterLog: ScsiErrorCounterLog?
    /// SCSI self-test results (SPC-5 §7.3.23): smartctl writes `scsi_self_test_0` … `_19`.
    public var scsiSelfTests: [ScsiSelfTest] = []

    enum CodingKeys: String, CodingKey {
        case jsonFormatVersion = "json_format_version"
        case smartctl, device, vendor, product, revision, temperature
        case modelFamily = "model_family"
        case modelName = "model_name"
        case serialNumber = "serial_number"
        case firmwareVersion = "firmware_version"
        case userCapacity = "user_capacity"
        case logicalBlockSize = "logical_block_size"
        case rotationRate = "rotation_rate"
        case smartStatus = "smart_status"
        case smartSupport = "smart_support"
        case powerOnTime = "power_on_time"
        case powerCycleCount = "power_cycle_count"
        case ataSmartAttributes = "ata_smart_attributes"
        case ataSmartErrorLog = "ata_smart_error_log"
        case ataSmartSelfTestLog = "ata_smart_self_test_log"
        case ataSmartData = "ata_smart_data"
        case nvmeSmartHealthInformationLog = "nvme_smart_health_information_log"
        case nvmeSelfTestLog = "nvme_self_test_log"
        case scsiGrownDefectList = "scsi_grown_defect_list"
        case scsiErrorCounterLog = "scsi_error_counter_log"
        case scsiSelfTests = "scsi_self_tests"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // `try?` per member: one member of an unexpected shape (a smartctl version that
        // changed it) loses that member, not the whole report.
        jsonFormatVersion = try? c.decodeIfPresent([Int].self, forKey: .jsonFormatVersion)
        smartctl = try? c.decodeIfPresent(SmartctlInfo.self, forKey: .smartctl)
        device = try? c.decodeIfPresent(DeviceInfo.self, forKey: .device)
        modelFamily = try? c.decodeIfPresent(String.self, forKey: .modelFamily)
        modelName = try? c.decodeIfPresent(String.self, forKey: .modelName)
        vendor = try? c.decodeIfPresent(String.self, forKey: .vendor)
        product = try? c.decodeIfPresent(String.self, forKey: .product)
        serialNumber = try? c.decodeIfPresent(String.self, forKey: .serialNumber)
        firmwareVersion = try? c.decodeIfPresent(String.self, forKey: .firmwareVersion)
        revision = try? c.decodeIfPresent(String.self, forKey: .revision)
        userCapacity = try? c.decodeIfPresent(Capacity.self, forKey: .userCapacity)
        logicalBlockSize = try? c.decodeIfPresent(Int.self, forKey: .logicalBlockSize)
        rotationRate = try? c.decodeIfPresent(Int.self, forKey: .rotationRate)
        smartStatus = try? c.decodeIfPresent(SmartStatus.self, forKey: .smartStatus)
        smartSupport = try? c.decodeIfPresent(SmartSupport.self, forKey: .smartSupport)
        powerOnTime = try? c.decodeIfPresent(PowerOnTime.self, forKey: .powerOnTime)
        powerCycleCount = try? c.decodeIfPresent(Int.self, forKey: .powerCycleCount)
        temperature = try? c.decodeIfPresent(Temperature.self, forKey: .temperature)
        ataSmartAttributes = try? c.decodeIfPresent(AtaAttributes.self, forKey: .ataSmartAttributes)
        ataSmartErrorLog = try? c.decodeIfPresent(AtaErrorLog.self, forKey: .ataSmartErrorLog)
        ataSmartSelfTestLog = try? c.decodeIfPresent(AtaSelfTestLog.self, forKey: .ataSmartSelfTestLog)
        ataSmartData = try? c.decodeIfPresent(AtaSmartData.self, forKey: .ataSmartData)
        nvmeSmartHealthInformationLog = try? c.decodeIfPresent(NvmeHealthLog.self, forKey: .nvmeSmartHealthInformationLog)
        nvmeSelfTestLog = try? c.decodeIfPresent(NvmeSelfTestLog.self, forKey: .nvmeSelfTestLog)
        scsiGrownDefectList = try? c.decodeIfPresent(Int.self, forKey: .scsiGrownDefectList)
        scsiErrorCounterLog = try? c.decodeIfPresent(ScsiErrorCounterLog.self, forKey: .scsiErrorCounterLog)
        if let tests = try? c.decodeIfPresent([ScsiSelfTest].self, forKey: .scsiSelfTests) {
            scsiSelfTests = tests
        } else {
            // smartctl's own form: numbered members, most recent first.
            let numbered = try decoder.container(keyedBy: AnyKey.self)
            scsiSelfTests = (0..<20).compactMap { index in
                try? numbered.decodeIfPresent(ScsiSelfTest.self, forKey: AnyKey("scsi_self_test_\(index)"))
            }
        }
    }

    /// Decodes smartctl's JSON. Throws only when the bytes are not a JSON object at all.
    public static func decode(_ data: Data) throws -> SmartctlOutput {
        try JSONDecoder().decode(SmartctlOutput.self, from: data)
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    // MARK: Members

    public struct SmartctlInfo: Codable, Sendable, Equatable {
        public var version: [Int]?
        public var argv: [String]?
        public var messages: [Message]?
        /// smartctl's exit status, as it also returns it to the shell.
        public var exitStatus: Int?

        enum CodingKeys: String, CodingKey {
            case version, argv, messages
            case exitStatus = "exit_status"
        }

        public struct Message: Codable, Sendable, Equatable {
            public var string: String
            public var severity: String?
        }
    }

    public struct DeviceInfo: Codable, Sendable, Equatable {
        public var name: String?
        public var infoName: String?
        /// The `-d` type smartctl used: `sat`, `nvme`, `scsi`, `usbjmicron`, `sat+megaraid,0`…
        public var type: String?
        /// `ATA`, `NVMe` or `SCSI`.
        public var `protocol`: String?

        enum CodingKeys: String, CodingKey {
            case name, type, `protocol`
            case infoName = "info_name"
        }
    }

    public struct Capacity: Codable, Sendable, Equatable {
        public var blocks: UInt64?
        public var bytes: UInt64?
    }

    public struct SmartStatus: Codable, Sendable, Equatable {
        /// False when the drive reports "FAILING" (ATA SMART RETURN STATUS, NVMe critical
        /// warning, SCSI informational exceptions).
        public var passed: Bool?
        /// NVMe: the critical-warning byte smartctl derived `passed` from (any bit set = FAILED).
        public var nvme: Value?
        public struct Value: Codable, Sendable, Equatable {
            public var value: Int?
        }
    }

    public struct SmartSupport: Codable, Sendable, Equatable {
        public var available: Bool?
        public var enabled: Bool?
    }

    public struct PowerOnTime: Codable, Sendable, Equatable {
        public var hours: Int?
        public var minutes: Int?
    }

    public struct Temperature: Codable, Sendable, Equatable {
        public var current: Int?
    }

    public struct AtaAttributes: Codable, Sendable, Equatable {
        public var revision: Int?
        public var table: [AtaAttribute]
    }

    /// One row of the ATA SMART attribute table (values, worst, threshold, raw).
    public struct AtaAttribute: Codable, Sendable, Equatable {
        public var id: Int
        public var name: String?
        public var value: Int?
        public var worst: Int?
        public var thresh: Int?
        /// "" (never), "past" (worst ≤ threshold once) or "now" (value ≤ threshold today).
        public var whenFailed: String?
        public var flags: Flags?
        public var raw: Raw?

        enum CodingKeys: String, CodingKey {
            case id, name, value, worst, thresh, flags, raw
            case whenFailed = "when_failed"
        }

        public struct Flags: Codable, Sendable, Equatable {
            public var value: Int?
            public var prefailure: Bool?
        }

        public struct Raw: Codable, Sendable, Equatable {
            /// The 48-bit raw field as one integer (vendors may pack several counters in it).
            public var value: UInt64?
            public var string: String?
        }
    }

    public struct AtaErrorLog: Codable, Sendable, Equatable {
        public var summary: Summary?
        public var extended: Summary?
        public struct Summary: Codable, Sendable, Equatable {
            public var count: Int?
        }
    }

    public struct AtaSelfTestLog: Codable, Sendable, Equatable {
        public var standard: Table?
        public var extended: Table?
        public struct Table: Codable, Sendable, Equatable {
            public var table: [Entry]?
        }
        public struct Entry: Codable, Sendable, Equatable {
            public var type: Named?
            public var status: Status?
            public var lifetimeHours: Int?
            public var lba: UInt64?
            enum CodingKeys: String, CodingKey {
                case type, status, lba
                case lifetimeHours = "lifetime_hours"
            }
        }
        public struct Named: Codable, Sendable, Equatable {
            public var value: Int?
            public var string: String?
        }
        public struct Status: Codable, Sendable, Equatable {
            /// ACS-3 self-test execution status byte: high nibble 0 = completed without
            /// error, 1/2 aborted or interrupted, 3–8 failures, 15 in progress.
            public var value: Int?
            public var string: String?
            public var passed: Bool?
            public var remainingPercent: Int?
            enum CodingKeys: String, CodingKey {
                case value, string, passed
                case remainingPercent = "remaining_percent"
            }
        }
    }

    public struct AtaSmartData: Codable, Sendable, Equatable {
        public var selfTest: SelfTest?
        enum CodingKeys: String, CodingKey { case selfTest = "self_test" }
        public struct SelfTest: Codable, Sendable, Equatable {
            public var status: AtaSelfTestLog.Status?
            public var pollingMinutes: Polling?
            enum CodingKeys: String, CodingKey {
                case status
                case pollingMinutes = "polling_minutes"
            }
        }
        public struct Polling: Codable, Sendable, Equatable {
            public var short: Int?
            public var extended: Int?
        }
    }

    /// NVMe SMART / Health Information log page (NVMe Base 2.0 §5.16.1.3, log page 02h).
    public struct NvmeHealthLog: Codable, Sendable, Equatable {
        /// Byte 0: bit 0 spare below threshold, 1 temperature, 2 reliability degraded,
        /// 3 media read-only, 4 volatile memory backup failed, 5 persistent memory region read-only.
        public var criticalWarning: Int?
        public var temperature: Int?
        public var availableSpare: Int?
        public var availableSpareThreshold: Int?
        public var percentageUsed: Int?
        public var powerOnHours: Int?
        public var unsafeShutdowns: Int?
        public var mediaErrors: UInt64?
        public var numErrLogEntries: UInt64?
        public var dataUnitsWritten: UInt64?

        enum CodingKeys: String, CodingKey {
            case temperature
            case criticalWarning = "critical_warning"
            case availableSpare = "available_spare"
            case availableSpareThreshold = "available_spare_threshold"
            case percentageUsed = "percentage_used"
            case powerOnHours = "power_on_hours"
            case unsafeShutdowns = "unsafe_shutdowns"
            case mediaErrors = "media_errors"
            case numErrLogEntries = "num_err_log_entries"
            case dataUnitsWritten = "data_units_written"
        }
    }

    /// NVMe Device Self-test log (log page 06h).
    public struct NvmeSelfTestLog: Codable, Sendable, Equatable {
        public var currentSelfTestOperation: AtaSelfTestLog.Named?
        public var currentSelfTestCompletionPercent: Int?
        public var table: [Entry]?
        enum CodingKeys: String, CodingKey {
            case table
            case currentSelfTestOperation = "current_self_test_operation"
            case currentSelfTestCompletionPercent = "current_self_test_completion_percent"
        }
        public struct Entry: Codable, Sendable, Equatable {
            public var selfTestCode: AtaSelfTestLog.Named?
            /// NVMe Base 2.0 Figure 259: 0 completed without error, 1–4 and 8–9 aborted,
            /// 5 fatal error, 6 and 7 failed segments, 15 entry not used.
            public var selfTestResult: AtaSelfTestLog.Named?
            public var powerOnHours: Int?
            enum CodingKeys: String, CodingKey {
                case selfTestCode = "self_test_code"
                case selfTestResult = "self_test_result"
                case powerOnHours = "power_on_hours"
            }
        }
    }

    /// SCSI error counter log pages (read 03h, write 02h, verify 05h; SBC-4 §6.5).
    public struct ScsiErrorCounterLog: Codable, Sendable, Equatable {
        public var read: Counters?
        public var write: Counters?
        public var verify: Counters?
        public struct Counters: Codable, Sendable, Equatable {
            public var totalErrorsCorrected: UInt64?
            public var totalUncorrectedErrors: UInt64?
            enum CodingKeys: String, CodingKey {
                case totalErrorsCorrected = "total_errors_corrected"
                case totalUncorrectedErrors = "total_uncorrected_errors"
            }
        }
    }

    /// One entry of the SCSI self-test results log.
    public struct ScsiSelfTest: Codable, Sendable, Equatable {
        public var code: AtaSelfTestLog.Named?
        /// SPC-5 Table 466: 0 completed, 1–2 aborted, 3 unknown error, 4–7 failed segments,
        /// 15 in progress.
        public var result: AtaSelfTestLog.Named?
    }
}
