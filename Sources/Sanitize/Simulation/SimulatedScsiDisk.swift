import ArdoiseSupport
import DeviceKit

/// A native SCSI/SAS disk for tests and dry runs: INQUIRY, READ CAPACITY(16), SANITIZE 48h,
/// FORMAT UNIT 04h and REQUEST SENSE with progress indication (fixed format sense, as most
/// SAS drives answer without DESC).
public final class SimulatedScsiDisk: PassthroughTransport {
    public var supportedSanitizeActions: Set<UInt8> = [0x01, 0x02, 0x03]
    public var supportsFormatSecurityInitialize = true
    /// False: REPORT SUPPORTED OPERATION CODES is an invalid opcode (older drives).
    public var reportsSupportedOperationCodes = true
    public var progressPerPoll: UInt32 = 32_768
    public var failsAtPoll: Int?
    public var timeoutOpcode: UInt8?
    public var data: SimulatedDataSamples
    /// Told of every change an erase makes to the media (tests mirror it into a file).
    public var onMediaChange: ((SimulatedMediaChange) -> Void)?

    private func change(_ change: SimulatedMediaChange) {
        data.apply(change)
        onMediaChange?(change)
    }
    public let blocks: UInt64 = 585_937_500
    private var operation: UInt8?    // 0x48 or 0x04
    private var serviceAction: UInt8 = 0
    private var overwritePattern: [UInt8] = [0]
    private var progress: UInt32 = 0
    private var polls = 0
    private var failed = false
    public private(set) var receivedCDBs: [[UInt8]] = []
    public private(set) var receivedParameterLists: [[UInt8]] = []

    public init(seed: UInt64 = 5) {
        data = SimulatedDataSamples(nativeSectors: blocks, seed: seed)
    }

    public func nvmeAdmin(_ command: NvmeAdminCommand, dataOut: [UInt8]) throws -> NvmeResult {
        throw PassthroughError(code: .ioctlFailed, errno: 25, context: "simulated SCSI disk: not an NVMe device (ENOTTY)")
    }

    public func scsi(_ command: ScsiCommand) throws -> ScsiResult {
        receivedCDBs.append(command.cdb)
        let cdb = command.cdb
        if let timeoutOpcode, cdb.first == timeoutOpcode {
            throw PassthroughError(code: .timedOut, context: "simulated SCSI disk: opcode \(Hex.fixed(UInt64(timeoutOpcode), width: 2))")
        }
        switch cdb[0] {
        case 0x12 where cdb[1] & 1 == 1:
            guard cdb[2] == 0x80 else { return check(key: 0x5, asc: 0x24, ascq: 0x00) }
            let serial = Array("Z1Z0ABCD0000".utf8)
            let page: [UInt8] = [0, 0x80, 0, UInt8(serial.count)] + serial
            return ScsiResult(status: 0, dataIn: Array(page.prefix(command.transferLength)))
        case 0xA3 where cdb[1] & 0x1F == 0x0C:
            // REPORT SUPPORTED OPERATION CODES, one command (SPC-5 §6.35): SUPPORT 011b / 001b.
            guard cdb[2] & 0x7 == 0x02 else { return check(key: 0x5, asc: 0x24, ascq: 0x00) }
            if !reportsSupportedOperationCodes { return check(key: 0x5, asc: 0x20, ascq: 0x00) }
            let supported: Bool
            switch cdb[3] {
            case 0x48: supported = supportedSanitizeActions.contains(UInt8(cdb.be16(4) & 0x1F))
            case 0x04: supported = supportsFormatSecurityInitialize
            default: supported = [0x12, 0x03, 0x9E, 0xA3].contains(cdb[3])
            }
            let answer: [UInt8] = [0, supported ? 0x03 : 0x01, 0, 10, cdb[3], 0xFF, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0x07]
            return ScsiResult(status: 0, dataIn: Array(answer.prefix(command.transferLength)))
        case 0x12:
            var inquiry = [UInt8](repeating: 0x20, count: 36)
            inquiry[0] = 0; inquiry[2] = 0x06; inquiry[3] = 0x02; inquiry[4] = 31
            for (i, c) in Array("SEAGATE".utf8).enumerated() { inquiry[8 + i] = c }
            for (i, c) in Array("ST300MM0048".utf8).enumerated() { inquiry[16 + i] = c }
            for (i, c) in Array("N004".utf8).enumerated() { inquiry[32 + i] = c }
            return ScsiResult(status: 0, dataIn: Array(inquiry.prefix(command.transferLength)))
        case 0x9E:
            var cap = [UInt8](repeating: 0, count: 32)
            let last = blocks - 1
            for i in 0..<8 { cap[i] = UInt8(truncatingIfNeeded: last >> (8 * UInt64(7 - i))) }
            cap[10] = 0x02   // 512-byte blocks
            return ScsiResult(status: 0, dataIn: Array(cap.prefix(command.transferLength)))
        case 0x48:
            if operation != nil { return check(key: 0x2, asc: 0x04, ascq: 0x1B) }
            let action = cdb[1] & 0x1F
            guard supportedSanitizeActions.contains(action) else { return check(key: 0x5, asc: 0x24, ascq: 0x00) }
            let listLength = Int(cdb.be16(7))
            if action == 0x01 {
                // OVERWRITE needs a parameter list of 4 + pattern bytes (SBC-4 §5.30.3).
                guard listLength >= 5, command.dataOut.count == listLength, command.direction == .toDevice,
                      Int(command.dataOut.be16(2)) == listLength - 4, command.dataOut[0] & 0x1F != 0 else {
                    return check(key: 0x5, asc: 0x26, ascq: 0x00)
                }
                overwritePattern = Array(command.dataOut[4...])
                receivedParameterLists.append(command.dataOut)
            } else if listLength != 0 {
                return check(key: 0x5, asc: 0x24, ascq: 0x00)
            }
            failed = false
            start(0x48, action: action)
            return ScsiResult(status: 0)
        case 0x04:
            guard supportsFormatSecurityInitialize, cdb[1] & 0x10 != 0, command.dataOut.count >= 8,
                  command.dataOut[1] & 0x08 != 0, command.dataOut[4] & 0x20 != 0 else {
                return check(key: 0x5, asc: 0x26, ascq: 0x00)
            }
            receivedParameterLists.append(command.dataOut)
            start(0x04, action: 0)
            return ScsiResult(status: 0)
        case 0x03:
            var sense = [UInt8](repeating: 0, count: 18)
            sense[0] = 0x70; sense[7] = 10
            if let op = operation {
                polls += 1
                if let failsAtPoll, polls >= failsAtPoll {
                    operation = nil
                    failed = true
                } else {
                    progress += progressPerPoll
                    if progress >= 65_536 {
                        finish(op)
                    } else {
                        sense[2] = 0x02; sense[12] = 0x04; sense[13] = op == 0x48 ? 0x1B : 0x04
                        sense[15] = 0x80; sense[16] = UInt8(progress >> 8); sense[17] = UInt8(progress & 0xFF)
                        return ScsiResult(status: 0, dataIn: Array(sense.prefix(command.transferLength)))
                    }
                }
            }
            if failed {
                // MEDIUM ERROR, SANITIZE COMMAND FAILED (SBC-4 §4.11.4).
                sense[2] = 0x03; sense[12] = 0x31; sense[13] = 0x03
            }
            return ScsiResult(status: 0, dataIn: Array(sense.prefix(command.transferLength)))
        default:
            if operation != nil { return check(key: 0x2, asc: 0x04, ascq: operation == 0x48 ? 0x1B : 0x04) }
            return check(key: 0x5, asc: 0x20, ascq: 0x00)
        }
    }

    private func start(_ op: UInt8, action: UInt8) {
        operation = op
        serviceAction = action
        progress = 0
        polls = 0
    }

    private func finish(_ op: UInt8) {
        if op == 0x04 { change(.fill(0, belowSector: nil)) } else {
            switch serviceAction {
            case 0x01: change(.pattern(overwritePattern))
            case 0x02: change(.fill(0, belowSector: nil))
            case 0x03: change(.scramble(seed: 0x48, belowSector: nil))
            default: break
            }
        }
        operation = nil
    }

    private func check(key: UInt8, asc: UInt8, ascq: UInt8) -> ScsiResult {
        var sense = [UInt8](repeating: 0, count: 18)
        sense[0] = 0x70; sense[2] = key; sense[7] = 10; sense[12] = asc; sense[13] = ascq
        return ScsiResult(status: 0x02, sense: sense, driverStatus: 0x08)
    }
}
