import ArdoiseSupport
import CLinuxShims
#if canImport(Glibc)
import Glibc
#endif

/// A real device node opened for SG_IO and NVMe admin passthrough.
///
/// Owns its file descriptor (closed in `deinit`). Every call blocks until the kernel returns;
/// call from a dedicated thread. Opening needs CAP_SYS_RAWIO (root) for commands that write.
public final class LinuxPassthroughDevice: PassthroughTransport {
    public let path: String
    private let fd: Int32
    /// False when the descriptor is a claimed drive's (`ClaimedDrive.passthrough()`), which closes it.
    private let ownsDescriptor: Bool

    /// Opens `path` non-blocking (as sg3_utils and smartctl do, so a drive with no medium or
    /// a busy tray does not block the open): read-only for identification (smartctl's way; root's
    /// CAP_SYS_RAWIO lets SG_IO through), read-write for commands that change the drive.
    /// The corresponding C function is `open`.
    /// `exclusive` adds `O_EXCL`: on a block device the kernel then refuses a mounted or
    /// claimed drive, and nobody can mount it while the erase runs.
    /// Internal: outside DeviceKit a drive is reached through `DriveAccess.claim(...).passthrough()`
    /// (anything that changes it) or `DriveAccess.openForIdentification` (read-only commands).
    init(path: String, readOnly: Bool = false, exclusive: Bool = false) throws {
        self.path = path
        let descriptor = open(path, (readOnly ? O_RDONLY : O_RDWR) | O_NONBLOCK | O_CLOEXEC | (exclusive ? O_EXCL : 0))
        guard descriptor >= 0 else {
            throw PassthroughError(code: .openFailed, errno: errno, context: path)
        }
        fd = descriptor
        ownsDescriptor = true
    }

    /// Commands on a descriptor another object owns and keeps open (a `ClaimedDrive`).
    init(borrowing descriptor: Int32, path: String) {
        self.path = path
        fd = descriptor
        ownsDescriptor = false
    }

    deinit { if ownsDescriptor { close(fd) } }

    public func scsi(_ command: ScsiCommand) throws -> ScsiResult {
        guard (6...16).contains(command.cdb.count) else {
            throw PassthroughError(code: .invalidRequest, context: "\(path): CDB length \(command.cdb.count)")
        }
        var buffer: [UInt8]
        let direction: Int32
        switch command.direction {
        case .none:
            buffer = []
            direction = Int32(CLINUX_SG_DIR_NONE)
        case .toDevice:
            buffer = command.dataOut
            direction = Int32(CLINUX_SG_DIR_TO_DEVICE)
        case .fromDevice:
            buffer = [UInt8](repeating: 0, count: command.transferLength)
            direction = Int32(CLINUX_SG_DIR_FROM_DEVICE)
        }
        // 32 bytes of sense as hdparm asks (SPC-5 descriptor sense with the 14-byte ATA
        // Status Return descriptor needs 22).
        var sense = [UInt8](repeating: 0, count: 32)
        var outcome = clinux_sg_outcome()
        var rc: Int32 = 0
        var savedErrno: Int32 = 0
        repeat {
            rc = command.cdb.withUnsafeBufferPointer { cdb in
                buffer.withUnsafeMutableBytes { data in
                    sense.withUnsafeMutableBufferPointer { sb in
                        clinux_sg_io(fd, cdb.baseAddress, UInt8(cdb.count), direction,
                                     data.baseAddress, UInt32(data.count), sb.baseAddress, UInt8(sb.count),
                                     command.timeoutMs, &outcome)
                    }
                }
            }
            savedErrno = rc < 0 ? errno : 0
        } while rc < 0 && savedErrno == EINTR
        if rc < 0 {
            let code: PassthroughError.Code = (savedErrno == ENODEV || savedErrno == ENXIO) ? .deviceGone : .ioctlFailed
            throw PassthroughError(code: code, errno: savedErrno, context: "\(path): SG_IO opcode \(Hex.fixed(UInt64(command.cdb[0]), width: 2))")
        }
        // Host status 03h DID_TIME_OUT, or driver status 06h DRIVER_TIMEOUT (scsi.h): the
        // command never completed.
        if outcome.host_status == 0x03 || outcome.driver_status & 0x0F == 0x06 {
            throw PassthroughError(code: .timedOut, context: "\(path): opcode \(Hex.fixed(UInt64(command.cdb[0]), width: 2)) after \(command.timeoutMs) ms")
        }
        // 01h DID_NO_CONNECT, 04h DID_BAD_TARGET: the drive is gone.
        if outcome.host_status == 0x01 || outcome.host_status == 0x04 {
            throw PassthroughError(code: .deviceGone, context: "\(path): host status \(outcome.host_status)")
        }
        let residual = max(0, min(Int(outcome.resid), buffer.count))
        let dataIn = command.direction == .fromDevice ? Array(buffer.prefix(buffer.count - residual)) : []
        return ScsiResult(status: outcome.status, sense: Array(sense.prefix(Int(outcome.sb_len_wr))),
                          dataIn: dataIn, hostStatus: outcome.host_status, driverStatus: outcome.driver_status)
    }

    public func nvmeAdmin(_ command: NvmeAdminCommand, dataOut: [UInt8]) throws -> NvmeResult {
        var cmd = clinux_nvme_admin_cmd()
        cmd.opcode = command.opcode
        cmd.flags = command.flags
        cmd.nsid = command.nsid
        cmd.cdw2 = command.cdw2
        cmd.cdw3 = command.cdw3
        cmd.cdw10 = command.cdw10
        cmd.cdw11 = command.cdw11
        cmd.cdw12 = command.cdw12
        cmd.cdw13 = command.cdw13
        cmd.cdw14 = command.cdw14
        cmd.cdw15 = command.cdw15
        cmd.data_len = command.dataLength
        cmd.timeout_ms = command.timeoutMs
        var buffer: [UInt8]
        if command.direction == .toDevice {
            guard dataOut.count == Int(command.dataLength) else {
                throw PassthroughError(code: .invalidRequest, context: "\(path): payload \(dataOut.count) != data_len \(command.dataLength)")
            }
            buffer = dataOut
        } else {
            buffer = [UInt8](repeating: 0, count: Int(command.dataLength))
        }
        let rc = buffer.withUnsafeMutableBytes { data in
            clinux_nvme_admin(fd, &cmd, command.dataLength > 0 ? data.baseAddress : nil)
        }
        if rc < 0 {
            let err = errno
            let code: PassthroughError.Code
            switch err {
            case ETIMEDOUT, EINTR: code = .timedOut
            case ENODEV, ENXIO: code = .deviceGone
            default: code = .ioctlFailed
            }
            throw PassthroughError(code: code, errno: err, context: "\(path): NVMe admin opcode \(Hex.fixed(UInt64(command.opcode), width: 2))")
        }
        return NvmeResult(result: cmd.result, status: UInt16(truncatingIfNeeded: rc),
                          dataIn: command.direction == .fromDevice ? buffer : [])
    }

    /// The NVMe namespace ID of this node (NVME_IOCTL_ID), nil for a controller character
    /// device or a non-NVMe node. The kernel's `nvmeXnY` name does not guarantee Y = NSID.
    public func nvmeNamespaceID() -> UInt32? {
        let id = clinux_nvme_namespace_id(fd)
        return id > 0 ? UInt32(id) : nil
    }
}

/// Identification only: the read-only commands `ardoise identify` needs, on a read-only
/// descriptor; every other command is refused before it reaches the kernel (root's
/// CAP_SYS_RAWIO would let SG_IO send anything, even on a read-only descriptor).
final class IdentificationPassthrough: PassthroughTransport {
    private let device: LinuxPassthroughDevice

    init(device: LinuxPassthroughDevice) { self.device = device }

    func scsi(_ command: ScsiCommand) throws -> ScsiResult {
        guard Self.isIdentification(command.cdb) else {
            throw PassthroughError(code: .invalidRequest, context: "\(device.path): opcode \(command.cdb.first.map { Hex.fixed(UInt64($0), width: 2) } ?? "-") refused, identification only")
        }
        return try device.scsi(command)
    }

    func nvmeAdmin(_ command: NvmeAdminCommand, dataOut: [UInt8]) throws -> NvmeResult {
        // NVMe Base 2.0 §5: 06h Identify, 02h Get Log Page.
        guard [0x06, 0x02].contains(command.opcode) else {
            throw PassthroughError(code: .invalidRequest, context: "\(device.path): NVMe admin opcode \(Hex.fixed(UInt64(command.opcode), width: 2)) refused, identification only")
        }
        return try device.nvmeAdmin(command, dataOut: dataOut)
    }

    func nvmeNamespaceID() -> UInt32? { device.nvmeNamespaceID() }

    /// INQUIRY (12h, SPC-5 §6.7); READ CAPACITY (16) (9Eh/10h, SBC-4 §5.20); REPORT SUPPORTED
    /// OPERATION CODES (A3h/0Ch, SPC-5 §6.35); ATA PASS-THROUGH (16) (85h, command in byte 14)
    /// and (12) (A1h, command in byte 9) carrying IDENTIFY DEVICE (ECh) or IDENTIFY PACKET
    /// DEVICE (A1h) (SAT-4 §12.2).
    static func isIdentification(_ cdb: [UInt8]) -> Bool {
        guard let opcode = cdb.first else { return false }
        switch opcode {
        case 0x12: return true
        case 0x9E: return cdb.count > 1 && cdb[1] & 0x1F == 0x10
        case 0xA3: return cdb.count > 1 && cdb[1] & 0x1F == 0x0C
        case 0x85: return cdb.count == 16 && [0xEC, 0xA1].contains(cdb[14])
        case 0xA1: return cdb.count == 12 && [0xEC, 0xA1].contains(cdb[9])
        default: return false
        }
    }
}

extension DriveAccess {
    /// A transport for identification only (`ardoise identify`): `path` opened read-only and
    /// non-exclusively, any command but IDENTIFY / INQUIRY / READ CAPACITY / REPORT SUPPORTED
    /// OPERATION CODES / NVMe Identify and Get Log Page refused before it is sent. Needs no
    /// safety classification since nothing through it changes a drive; whatever changes one
    /// goes through `claim(...).passthrough()`.
    /// - Throws: `PassthroughError` `.openFailed`.
    public static func openForIdentification(_ path: String) throws -> PassthroughTransport {
        IdentificationPassthrough(device: try LinuxPassthroughDevice(path: path, readOnly: true))
    }
}
