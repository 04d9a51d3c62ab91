import ArdoiseSupport
import DeviceKit

/// An NVMe controller with one or more namespaces, for tests and dry runs.
///
/// It decodes the 72-byte `struct nvme_passthru_cmd` image of each admin command (the same
/// bytes the kernel receives), answers Identify, Get Log Page 81h, Format NVM and Sanitize
/// with NVMe Base 2.0 status codes, and keeps sanitize progress that advances on each
/// Sanitize Status log read.
public final class SimulatedNvmeController: PassthroughTransport {
    public struct Configuration: Sendable {
        public var model = "ARDOISE SIM NVME 512GB"
        public var serialNumber = "SIMNVME00003"
        public var firmwareRevision = "2.1"
        public var vendorID: UInt16 = 0x1B36
        public var oacs: UInt16 = 0x0002          // Format NVM
        public var sanicap: UInt32 = 0x0000_0003  // crypto + block erase
        public var fna: UInt8 = 0x05              // format all namespaces, crypto erase supported
        public var namespaceCount: UInt32 = 1
        public var namespaceBlocks: UInt64 = 1_000_215_216
        public var lbads: UInt8 = 9
        public init() {}
    }

    public enum Fault: Sendable, Hashable {
        /// Commands with this opcode time out.
        case timeout(opcode: UInt8)
        /// The sanitize fails at the n-th Sanitize Status log read.
        case sanitizeFailsAtPoll(Int)
        /// Format NVM completes with Internal Error (SC 06h).
        case formatFails
    }

    public var configuration: Configuration
    public var faults: Set<Fault> = []
    public var sanitizeProgressPerPoll: UInt32 = 21_846
    public var data: SimulatedDataSamples
    /// Told of every change an erase makes to the media (tests mirror it into a file).
    public var onMediaChange: ((SimulatedMediaChange) -> Void)?

    private func change(_ change: SimulatedMediaChange) {
        data.apply(change)
        onMediaChange?(change)
    }
    private var identifyTemplate: [UInt8]?
    private var sanitizeCDW10: UInt32 = 0
    private var sanitizePattern: UInt32 = 0
    private var sanitizeRunning: UInt32?   // SANACT
    private var sanitizeProgress: UInt32 = 0
    private var sanitizePolls = 0
    private var lastStatus: NvmeSanitizeStatusLog.Status = .neverSanitized
    /// Number of Format NVM commands that erased data, with their SES.
    public private(set) var formats: [(nsid: UInt32, ses: UInt32)] = []
    /// The 72-byte ioctl images received, in order.
    public private(set) var receivedCommands: [[UInt8]] = []

    public init(configuration: Configuration = Configuration(), seed: UInt64 = 3) {
        self.configuration = configuration
        data = SimulatedDataSamples(nativeSectors: configuration.namespaceBlocks, seed: seed)
    }

    /// A controller answering Identify Controller with a saved 4096-byte dump.
    public init(identifyControllerDump: [UInt8], seed: UInt64 = 3) throws {
        let parsed = try NvmeControllerIdentity.parse(identifyControllerDump)
        var config = Configuration()
        config.model = parsed.model
        config.serialNumber = parsed.serialNumber
        config.oacs = parsed.oacs
        config.sanicap = parsed.sanicap
        config.fna = parsed.fna
        config.namespaceCount = max(1, parsed.namespaceCount)
        configuration = config
        identifyTemplate = identifyControllerDump
        data = SimulatedDataSamples(nativeSectors: config.namespaceBlocks, seed: seed)
    }

    public func scsi(_ command: ScsiCommand) throws -> ScsiResult {
        // The NVMe driver's SCSI translation is not what we test; refuse like a bridge would.
        ScsiResult(status: 0x02, sense: [0x72, 0x05, 0x20, 0x00, 0, 0, 0, 0], driverStatus: 0x08)
    }

    public func nvmeAdmin(_ command: NvmeAdminCommand, dataOut: [UInt8]) throws -> NvmeResult {
        let raw = command.ioctlBytes
        receivedCommands.append(raw)
        // Decode the ioctl image (nvme_ioctl.h offsets), not the Swift struct.
        let opcode = raw[0]
        let nsid = raw.le32(4)
        let dataLength = raw.le32(36)
        let cdw10 = raw.le32(40)
        if faults.contains(.timeout(opcode: opcode)) {
            throw PassthroughError(code: .timedOut, errno: 4, context: "simulated controller: opcode \(Hex.fixed(UInt64(opcode), width: 2))")
        }
        switch opcode {
        case 0x06:
            guard dataLength == 4096 else { return status(0x02) }
            switch cdw10 & 0xFF {
            case 0x01: return NvmeResult(dataIn: identifyController())
            case 0x00:
                guard nsid >= 1, nsid <= configuration.namespaceCount else { return status(0x0B) } // Invalid Namespace
                return NvmeResult(dataIn: identifyNamespace())
            default: return status(0x02)
            }
        case 0x02:
            let lid = cdw10 & 0xFF
            let numd = (cdw10 >> 16) + (raw.le32(44) & 0xFFFF) << 16 + 1
            guard lid == 0x81, numd * 4 == dataLength else { return status(0x02) } // Invalid Field in Command
            return sanitizeLog(length: Int(dataLength))
        case 0x80:
            guard configuration.oacs & 0x2 != 0 else { return status(0x01) }       // Invalid Command Opcode
            if sanitizeRunning != nil { return status(0x1D) }                      // Sanitize In Progress
            let ses = cdw10 >> 9 & 0x7
            if ses > 2 || (ses == 2 && configuration.fna & 0x4 == 0) { return status(0x02) }
            if nsid == 0xFFFF_FFFF && configuration.fna & 0x8 != 0 { return status(0x0B) }
            if nsid != 0xFFFF_FFFF && (nsid == 0 || nsid > configuration.namespaceCount) { return status(0x0B) }
            if faults.contains(.formatFails) { return status(0x06) }                // Internal Error
            switch ses {
            case 1: change(.fill(0, belowSector: nil))
            case 2: change(.scramble(seed: 0xF2, belowSector: nil))
            default: break
            }
            formats.append((nsid, ses))
            return NvmeResult()
        case 0x84:
            let sanact = cdw10 & 0x7
            let supported: Bool
            switch sanact {
            case 1: supported = true
            case 2: supported = configuration.sanicap & 0x2 != 0
            case 3: supported = configuration.sanicap & 0x4 != 0
            case 4: supported = configuration.sanicap & 0x1 != 0
            default: supported = false
            }
            guard configuration.sanicap & 0x7 != 0 else { return status(0x01) }
            guard supported else { return status(0x02) }
            if sanitizeRunning != nil { return status(0x1D) }
            if sanact == 1 {
                if lastStatus == .failed { lastStatus = .neverSanitized }
                return NvmeResult()
            }
            sanitizeRunning = sanact
            sanitizeCDW10 = cdw10
            sanitizePattern = raw.le32(44)
            sanitizeProgress = 0
            sanitizePolls = 0
            lastStatus = .inProgress
            return NvmeResult()
        default:
            return status(0x01)
        }
    }

    private func status(_ sc: UInt8, sct: UInt8 = 0) -> NvmeResult {
        // DNR set: these errors do not get better with a retry.
        NvmeResult(status: 0x4000 | UInt16(sct) << 8 | UInt16(sc))
    }

    private func sanitizeLog(length: Int) -> NvmeResult {
        if let action = sanitizeRunning {
            sanitizePolls += 1
            if faults.contains(.sanitizeFailsAtPoll(sanitizePolls)) {
                sanitizeRunning = nil
                lastStatus = .failed
                change(.fill(0xDD, belowSector: configuration.namespaceBlocks / 2))
            } else {
                sanitizeProgress += sanitizeProgressPerPoll
                if sanitizeProgress >= 65_536 {
                    switch action {
                    case 2: change(.fill(0, belowSector: nil))
                    case 3: change(.pattern((0..<4).map { UInt8(truncatingIfNeeded: sanitizePattern >> (8 * $0)) }))
                    case 4: change(.scramble(seed: 0x84, belowSector: nil))
                    default: break
                    }
                    sanitizeRunning = nil
                    lastStatus = .succeeded
                }
            }
        }
        var log = [UInt8](repeating: 0, count: max(length, 32))
        let sprog: UInt16 = lastStatus == .inProgress ? UInt16(sanitizeProgress) : 0xFFFF
        log[0] = UInt8(sprog & 0xFF); log[1] = UInt8(sprog >> 8)
        var sstat = UInt16(lastStatus.rawValue)
        if lastStatus == .succeeded { sstat |= 0x100 }
        log[2] = UInt8(sstat & 0xFF); log[3] = UInt8(sstat >> 8)
        for i in 0..<4 { log[4 + i] = UInt8(truncatingIfNeeded: sanitizeCDW10 >> (8 * UInt32(i))) }
        for offset in stride(from: 8, to: 32, by: 4) { for i in 0..<4 { log[offset + i] = 0xFF } }
        log[16] = 10; log[17] = 0; log[18] = 0; log[19] = 0   // crypto erase: 10 s
        return NvmeResult(dataIn: Array(log.prefix(length)))
    }

    /// Identify Controller data (NVMe Base 2.0 Figure 275).
    public func identifyController() -> [UInt8] {
        if let identifyTemplate { return identifyTemplate }
        return SimulatedNvmeController.makeIdentifyController(configuration)
    }

    public static func makeIdentifyController(_ c: Configuration) -> [UInt8] {
        var id = [UInt8](repeating: 0, count: 4096)
        func put(_ text: String, _ range: Range<Int>) {
            let bytes = Array(text.utf8.prefix(range.count))
            for i in range { id[i] = 0x20 }
            for (i, b) in bytes.enumerated() { id[range.lowerBound + i] = b }
        }
        func put16(_ v: UInt16, _ o: Int) { id[o] = UInt8(v & 0xFF); id[o + 1] = UInt8(v >> 8) }
        func put32(_ v: UInt32, _ o: Int) { for i in 0..<4 { id[o + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) } }
        put16(c.vendorID, 0)
        put16(c.vendorID, 2)
        put(c.serialNumber, 4..<24)
        put(c.model, 24..<64)
        put(c.firmwareRevision, 64..<72)
        put32(0x0002_0000, 80)      // VER 2.0
        put16(c.oacs, 256)
        let capacity = c.namespaceBlocks << UInt64(c.lbads)
        for i in 0..<8 { id[280 + i] = UInt8(truncatingIfNeeded: capacity >> (8 * UInt64(i))) }
        put32(c.sanicap, 328)
        id[512] = 0x66; id[513] = 0x44
        put32(c.namespaceCount, 516)
        id[524] = c.fna
        return id
    }

    /// Identify Namespace data: NSZE, FLBAS 0, LBA format 0 with the configured LBADS.
    public func identifyNamespace() -> [UInt8] {
        var ns = [UInt8](repeating: 0, count: 4096)
        for i in 0..<8 {
            let byte = UInt8(truncatingIfNeeded: configuration.namespaceBlocks >> (8 * UInt64(i)))
            ns[i] = byte; ns[8 + i] = byte; ns[16 + i] = byte
        }
        ns[25] = 0        // NLBAF: one format
        ns[26] = 0        // FLBAS: format 0
        ns[130] = configuration.lbads
        return ns
    }
}
