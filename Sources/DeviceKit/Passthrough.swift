import ArdoiseSupport

// The command-level transport that firmware-erase flows (target Sanitize) talk to. Real
// devices answer through SG_IO / NVME_IOCTL_ADMIN_CMD (Passthrough+Linux.swift); tests and
// dry runs answer through simulated drives that decode the very same bytes.

/// Direction of the data phase of a SCSI / ATA pass-through command (sg.h `dxfer_direction`).
public enum PassthroughDirection: String, Sendable, Hashable, Codable {
    /// No data phase (`SG_DXFER_NONE`).
    case none
    /// Host to device (`SG_DXFER_TO_DEV`), e.g. the 512-byte ATA security payload.
    case toDevice = "out"
    /// Device to host (`SG_DXFER_FROM_DEV`), e.g. IDENTIFY DEVICE data.
    case fromDevice = "in"

    /// The spelling used in the audit trace (`dir=in|out|none`).
    public var traceName: String { rawValue }
}

/// One CDB sent through SG_IO: a native SCSI command or an ATA PASS-THROUGH (12/16) (SAT-4 §12).
public struct ScsiCommand: Sendable, Hashable {
    /// The command descriptor block, 6 to 16 bytes.
    public var cdb: [UInt8]
    public var direction: PassthroughDirection
    /// Bytes to transfer: the data-out payload size, or the data-in allocation.
    public var transferLength: Int
    /// The payload for `.toDevice` (exactly `transferLength` bytes), empty otherwise.
    public var dataOut: [UInt8]
    /// SG_IO timeout in milliseconds (sg.h `timeout`, "unit: millisec").
    public var timeoutMs: UInt32

    public init(cdb: [UInt8], direction: PassthroughDirection, transferLength: Int = 0, dataOut: [UInt8] = [], timeoutMs: UInt32) {
        self.cdb = cdb
        self.direction = direction
        self.transferLength = direction == .toDevice ? dataOut.count : transferLength
        self.dataOut = dataOut
        self.timeoutMs = timeoutMs
    }
}

/// What came back from an SG_IO request.
public struct ScsiResult: Sendable, Hashable {
    /// SCSI status: 00h GOOD, 02h CHECK CONDITION (SAM-5 §5.3).
    public var status: UInt8
    /// Sense bytes actually written (`sb_len_wr`), possibly empty.
    public var sense: [UInt8]
    /// Data received for a `.fromDevice` command (trimmed by the residual count).
    public var dataIn: [UInt8]
    /// Host adapter status (03h DID_TIME_OUT…), 0 when fine.
    public var hostStatus: UInt16
    /// Driver status (08h DRIVER_SENSE means "sense is valid", not an error).
    public var driverStatus: UInt16

    public init(status: UInt8, sense: [UInt8] = [], dataIn: [UInt8] = [], hostStatus: UInt16 = 0, driverStatus: UInt16 = 0) {
        self.status = status
        self.sense = sense
        self.dataIn = dataIn
        self.hostStatus = hostStatus
        self.driverStatus = driverStatus
    }

    /// GOOD status and no transport error.
    public var isGood: Bool { status == 0 && hostStatus == 0 }
}

/// An NVMe admin command in the form of Linux's `struct nvme_passthru_cmd` (nvme_ioctl.h),
/// which the driver turns into the 64-byte submission queue entry (NVMe Base 2.0 §4.2).
public struct NvmeAdminCommand: Sendable, Hashable {
    public var opcode: UInt8
    public var flags: UInt8
    public var nsid: UInt32
    public var cdw2: UInt32
    public var cdw3: UInt32
    public var cdw10: UInt32
    public var cdw11: UInt32
    public var cdw12: UInt32
    public var cdw13: UInt32
    public var cdw14: UInt32
    public var cdw15: UInt32
    /// Size of the data buffer (`data_len`); its direction follows opcode bits 1:0.
    public var dataLength: UInt32
    /// Timeout in milliseconds; 0 lets the driver use its admin timeout.
    public var timeoutMs: UInt32

    public init(opcode: UInt8, flags: UInt8 = 0, nsid: UInt32 = 0, cdw2: UInt32 = 0, cdw3: UInt32 = 0,
                cdw10: UInt32 = 0, cdw11: UInt32 = 0, cdw12: UInt32 = 0, cdw13: UInt32 = 0,
                cdw14: UInt32 = 0, cdw15: UInt32 = 0, dataLength: UInt32 = 0, timeoutMs: UInt32) {
        self.opcode = opcode; self.flags = flags; self.nsid = nsid; self.cdw2 = cdw2; self.cdw3 = cdw3
        self.cdw10 = cdw10; self.cdw11 = cdw11; self.cdw12 = cdw12; self.cdw13 = cdw13
        self.cdw14 = cdw14; self.cdw15 = cdw15; self.dataLength = dataLength; self.timeoutMs = timeoutMs
    }

    /// Data direction from opcode bits 1:0 (NVMe Base 2.0 §5, Figure "Opcodes for Admin Commands"):
    /// 01b host→controller, 10b controller→host.
    public var direction: PassthroughDirection {
        guard dataLength > 0 else { return .none }
        switch opcode & 0x3 {
        case 0x1: return .toDevice
        case 0x2: return .fromDevice
        default: return .none
        }
    }

    /// The 72 bytes of `struct nvme_passthru_cmd` as the ioctl sees them (little-endian,
    /// `addr`/`metadata` zero because they are process addresses, `result` zero on input).
    public var ioctlBytes: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 72)
        func put32(_ value: UInt32, at offset: Int) {
            for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
        }
        bytes[0] = opcode
        bytes[1] = flags
        put32(nsid, at: 4); put32(cdw2, at: 8); put32(cdw3, at: 12)
        put32(dataLength, at: 36)
        put32(cdw10, at: 40); put32(cdw11, at: 44); put32(cdw12, at: 48)
        put32(cdw13, at: 52); put32(cdw14, at: 56); put32(cdw15, at: 60)
        put32(timeoutMs, at: 64)
        return bytes
    }
}

/// Completion of an NVMe admin command.
public struct NvmeResult: Sendable, Hashable {
    /// Completion queue entry dword 0 (`result`).
    public var result: UInt32
    /// Status field as Linux returns it: SCT in bits 10:8, SC in 7:0, MORE 13, DNR 14; 0 = success.
    public var status: UInt16
    /// Data returned by a controller→host command.
    public var dataIn: [UInt8]

    public init(result: UInt32 = 0, status: UInt16 = 0, dataIn: [UInt8] = []) {
        self.result = result
        self.status = status
        self.dataIn = dataIn
    }

    public var isSuccess: Bool { status & 0x7FF == 0 }
    /// Status Code Type (bits 10:8).
    public var statusCodeType: UInt8 { UInt8((status >> 8) & 0x7) }
    /// Status Code (bits 7:0).
    public var statusCode: UInt8 { UInt8(status & 0xFF) }
}

/// A device that accepts raw SCSI/ATA pass-through CDBs and NVMe admin commands.
///
/// Calls block until the device answers (up to the command's timeout); run them on a
/// dedicated thread, never on the Swift concurrency pool. Implementations throw
/// `PassthroughError` for transport failures; a command the device rejects is not a throw
/// but a `ScsiResult`/`NvmeResult` carrying the status.
public protocol PassthroughTransport: AnyObject {
    /// Sends one CDB (SG_IO).
    func scsi(_ command: ScsiCommand) throws -> ScsiResult
    /// Sends one NVMe admin command (NVME_IOCTL_ADMIN_CMD) with an optional data-out payload.
    func nvmeAdmin(_ command: NvmeAdminCommand, dataOut: [UInt8]) throws -> NvmeResult
}

/// How commands reach the drive: smartctl's `-d` types.
public enum PassthroughDeviceType: String, Sendable, CaseIterable, Codable {
    /// Decide from the device node (nvme*) and, for others, by probing.
    case auto
    /// ATA behind a SCSI/ATA Translation layer, ATA PASS-THROUGH(16).
    case sat
    /// ATA PASS-THROUGH(12), for USB bridges that reject the 16-byte CDB.
    case sat12
    /// Native SCSI / SAS.
    case scsi
    /// NVMe admin commands.
    case nvme
}

/// The domain error of the passthrough transport, shaped like swift-subprocess's error.
public struct PassthroughError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// open(2) failed.
        case openFailed
        /// The ioctl itself failed (errno set).
        case ioctlFailed
        /// The command did not complete in time (SG_IO host status DID_TIME_OUT, or ETIMEDOUT/EINTR).
        case timedOut
        /// The device went away or was reset during the command.
        case deviceGone
        /// The request cannot be expressed (bad CDB length, payload size mismatch).
        case invalidRequest
    }

    public var code: Code
    /// The underlying errno value, when a system call failed.
    public var errno: Int32?
    /// Device path and operation.
    public var context: String

    public init(code: Code, errno: Int32? = nil, context: String) {
        self.code = code
        self.errno = errno
        self.context = context
    }

    public var message: LocalizedText {
        switch code {
        case .openFailed:
            return LocalizedText(fr: "impossible d'ouvrir le périphérique (\(context))", en: "cannot open the device (\(context))")
        case .ioctlFailed:
            return LocalizedText(fr: "le noyau a refusé la commande passthrough (\(context)) — pont USB sans passthrough ?",
                                 en: "the kernel rejected the passthrough command (\(context)) — USB bridge without pass-through?")
        case .timedOut:
            return LocalizedText(fr: "la commande n'a pas répondu à temps (\(context))", en: "the command timed out (\(context))")
        case .deviceGone:
            return LocalizedText(fr: "le disque a disparu ou a été réinitialisé (\(context))", en: "the drive went away or was reset (\(context))")
        case .invalidRequest:
            return LocalizedText(fr: "requête passthrough invalide (\(context))", en: "invalid passthrough request (\(context))")
        }
    }

    public var description: String {
        var text = "PassthroughError.\(code.rawValue): \(message.english)"
        if let errno { text += " (errno \(errno))" }
        return text
    }
}
