import DeviceKit

/// SCSI commands (SBC-4 / SPC-5), encoded as sg3_utils 1.46 sends them.
public enum ScsiCommands {
    /// SANITIZE service actions (SBC-4 §5.30, Table 110).
    public enum SanitizeAction: UInt8, Sendable {
        case overwrite = 0x01
        case blockErase = 0x02
        case cryptographicErase = 0x03
        case exitFailureMode = 0x1F
    }

    /// SANITIZE 48h (SBC-4 §5.30): byte 1 bit 7 IMMED, bit 6 ZNR, bit 5 AUSE, bits 4:0 service
    /// action; bytes 7-8 PARAMETER LIST LENGTH. IMMED is set as sg_sanitize does unless --wait,
    /// and progress is polled with REQUEST SENSE.
    public static func sanitize(_ action: SanitizeAction, immediate: Bool = true, ause: Bool = false,
                                parameterList: [UInt8] = [], timeoutMs: UInt32 = 60_000) -> ScsiCommand {
        var byte1 = action.rawValue
        if immediate { byte1 |= 0x80 }
        if ause { byte1 |= 0x20 }
        let length = UInt16(parameterList.count)
        let cdb: [UInt8] = [0x48, byte1, 0, 0, 0, 0, 0, UInt8(length >> 8), UInt8(length & 0xFF), 0]
        return ScsiCommand(cdb: cdb, direction: parameterList.isEmpty ? .none : .toDevice, dataOut: parameterList, timeoutMs: timeoutMs)
    }

    /// The OVERWRITE parameter list (SBC-4 §5.30.3, Table 112): byte 0 bit 7 INVERT, bits 4:0
    /// OVERWRITE COUNT (1-31); bytes 2-3 INITIALIZATION PATTERN LENGTH; then the pattern.
    public static func overwriteParameterList(passes: Int, pattern: [UInt8], invert: Bool) -> [UInt8] {
        var byte0 = UInt8(max(1, min(31, passes)))
        if invert { byte0 |= 0x80 }
        let length = UInt16(pattern.count)
        return [byte0, 0, UInt8(length >> 8), UInt8(length & 0xFF)] + pattern
    }

    /// FORMAT UNIT 04h with security initialize (SBC-4 §5.3): CDB byte 1 FMTDATA=1 (bit 4)
    /// and CMPLST=1 (bit 3) as sg_format's defaults; short parameter list header byte 1
    /// FOV=1, IP=1 (an initialization pattern descriptor follows), IMMED=1; the descriptor
    /// byte 0 bit 5 SI (security initialize), pattern type 0 (device default), length 0.
    /// These are the bytes `sg_format --format --security` sends.
    public static func formatUnitSecurityInitialize(timeoutMs: UInt32 = 60_000) -> ScsiCommand {
        let cdb: [UInt8] = [0x04, 0x18, 0, 0, 0, 0]
        let parameters: [UInt8] = [0x00, 0x8A, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00]
        return ScsiCommand(cdb: cdb, direction: .toDevice, dataOut: parameters, timeoutMs: timeoutMs)
    }

    /// REQUEST SENSE 03h (SPC-5 §6.39): byte 1 bit 0 DESC, byte 4 ALLOCATION LENGTH (252, the
    /// largest sense SPC allows, as sg_requests uses).
    public static func requestSense(descriptorFormat: Bool = false, allocationLength: UInt8 = 252) -> ScsiCommand {
        ScsiCommand(cdb: [0x03, descriptorFormat ? 1 : 0, 0, 0, allocationLength, 0], direction: .fromDevice,
                    transferLength: Int(allocationLength), timeoutMs: 15_000)
    }

    /// INQUIRY 12h (SPC-5 §6.7), standard data, 36 bytes; with `vpdPage`, EVPD=1.
    public static func inquiry(vpdPage: UInt8? = nil, allocationLength: UInt16 = 36) -> ScsiCommand {
        let cdb: [UInt8] = [0x12, vpdPage == nil ? 0 : 1, vpdPage ?? 0, UInt8(allocationLength >> 8), UInt8(allocationLength & 0xFF), 0]
        return ScsiCommand(cdb: cdb, direction: .fromDevice, transferLength: Int(allocationLength), timeoutMs: 15_000)
    }

    /// REPORT SUPPORTED OPERATION CODES, A3h/0Ch (SPC-5 §6.35), REPORTING OPTIONS 010b: one
    /// command with its service action, as `sg_opcodes --opcode=48,2` asks.
    public static func reportSupportedOperationCode(_ opcode: UInt8, serviceAction: UInt16, allocationLength: UInt32 = 32) -> ScsiCommand {
        let a = allocationLength
        let cdb: [UInt8] = [0xA3, 0x0C, 0x02, opcode, UInt8(serviceAction >> 8), UInt8(serviceAction & 0xFF),
                            UInt8(a >> 24), UInt8(a >> 16 & 0xFF), UInt8(a >> 8 & 0xFF), UInt8(a & 0xFF), 0, 0]
        return ScsiCommand(cdb: cdb, direction: .fromDevice, transferLength: Int(a), timeoutMs: 15_000)
    }

    /// READ CAPACITY (16), 9Eh/10h (SBC-4 §5.20), 32 bytes.
    public static func readCapacity16() -> ScsiCommand {
        ScsiCommand(cdb: [0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0], direction: .fromDevice, transferLength: 32, timeoutMs: 15_000)
    }
}

/// NVMe admin commands (NVMe Base 2.0 §5), as nvme-cli 2.x / libnvme 1.x put them in
/// `struct nvme_passthru_cmd`.
public enum NvmeCommands {
    /// Identify, 06h (NVMe Base 2.0 §5.17): CDW10 bits 7:0 CNS (01h controller, 00h namespace), 4096 bytes in.
    public static func identifyController() -> NvmeAdminCommand {
        NvmeAdminCommand(opcode: 0x06, nsid: 0, cdw10: 0x01, dataLength: 4096, timeoutMs: 15_000)
    }

    /// Identify Namespace (CNS 00h) for `nsid`.
    public static func identifyNamespace(nsid: UInt32) -> NvmeAdminCommand {
        NvmeAdminCommand(opcode: 0x06, nsid: nsid, cdw10: 0x00, dataLength: 4096, timeoutMs: 15_000)
    }

    /// Get Log Page, 02h (NVMe Base 2.0 §5.16): CDW10 7:0 LID, 15 RAE, 31:16 NUMDL (dwords − 1),
    /// NSID FFFFFFFFh as nvme-cli sends for controller-scope logs.
    public static func getLogPage(logID: UInt8, lengthInBytes: UInt32 = 512, retainAsynchronousEvent: Bool = false) -> NvmeAdminCommand {
        let numd = lengthInBytes / 4 - 1
        var cdw10 = UInt32(logID) | (numd & 0xFFFF) << 16
        if retainAsynchronousEvent { cdw10 |= 1 << 15 }
        return NvmeAdminCommand(opcode: 0x02, nsid: 0xFFFF_FFFF, cdw10: cdw10, cdw11: numd >> 16, dataLength: lengthInBytes, timeoutMs: 15_000)
    }

    /// The Sanitize Status log, LID 81h, 512 bytes (NVMe Base 2.0 §5.16.1.25).
    public static func sanitizeStatusLog() -> NvmeAdminCommand { getLogPage(logID: 0x81) }

    /// Secure Erase Settings of Format NVM (NVMe Base 2.0 §5.23, CDW10 bits 11:9).
    public enum SecureErase: UInt32, Sendable {
        case none = 0
        case userData = 1
        case cryptographic = 2
    }

    /// Format NVM, 80h: CDW10 3:0 LBAF, 4 MSET, 7:5 PI, 8 PIL, 11:9 SES, 13:12 LBAF upper bits.
    /// The current format (from Identify Namespace FLBAS/DPS) is kept so only the data goes.
    /// Timeout one hour: the command is synchronous and a user-data erase can be slow
    /// (nvme-cli's default is 600 000 ms).
    public static func formatNVM(nsid: UInt32, secureErase: SecureErase, lbaFormat: UInt8 = 0, metadataSettings: Bool = false,
                                 protectionInformation: UInt8 = 0, protectionLocation: Bool = false,
                                 timeoutMs: UInt32 = 3_600_000) -> NvmeAdminCommand {
        var cdw10 = UInt32(lbaFormat & 0x0F)
        if metadataSettings { cdw10 |= 1 << 4 }
        cdw10 |= UInt32(protectionInformation & 0x7) << 5
        if protectionLocation { cdw10 |= 1 << 8 }
        cdw10 |= secureErase.rawValue << 9
        cdw10 |= UInt32((lbaFormat >> 4) & 0x3) << 12
        return NvmeAdminCommand(opcode: 0x80, nsid: nsid, cdw10: cdw10, timeoutMs: timeoutMs)
    }

    /// Sanitize actions (NVMe Base 2.0 §5.24, CDW10 bits 2:0 SANACT).
    public enum SanitizeAction: UInt32, Sendable {
        case exitFailureMode = 1
        case blockErase = 2
        case overwrite = 3
        case cryptoErase = 4
    }

    /// Sanitize, 84h: CDW10 2:0 SANACT, 3 AUSE, 7:4 OWPASS (0 = 16), 8 OIPBP, 9 NDAS; CDW11
    /// OVRPAT. NSID 0 as nvme-cli sends (the field is reserved). The command returns once
    /// the operation has started.
    public static func sanitize(_ action: SanitizeAction, ause: Bool = false, overwritePasses: Int = 1,
                                invertBetweenPasses: Bool = false, noDeallocate: Bool = false,
                                overwritePattern: UInt32 = 0, timeoutMs: UInt32 = 60_000) -> NvmeAdminCommand {
        var cdw10 = action.rawValue
        if ause { cdw10 |= 1 << 3 }
        var cdw11: UInt32 = 0
        if action == .overwrite {
            cdw10 |= UInt32(overwritePasses & 0xF) << 4
            if invertBetweenPasses { cdw10 |= 1 << 8 }
            cdw11 = overwritePattern
        }
        if noDeallocate { cdw10 |= 1 << 9 }
        return NvmeAdminCommand(opcode: 0x84, nsid: 0, cdw10: cdw10, cdw11: cdw11, timeoutMs: timeoutMs)
    }
}
