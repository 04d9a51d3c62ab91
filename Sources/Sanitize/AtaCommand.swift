import ArdoiseSupport
import DeviceKit

/// SAT-4 §12.2.2 PROTOCOL field values used here (libata rejects 0, 1, 7, 8, 9, 15).
public enum AtaProtocol: UInt8, Sendable {
    case nonData = 3
    case pioDataIn = 4
    case pioDataOut = 5
}

/// One ATA command as its registers (the 48-bit taskfile of ACS-3 §7) plus how the SATL must
/// move its data.
public struct AtaCommand: Sendable, Hashable {
    public var command: UInt8
    public var feature: UInt16
    public var count: UInt16
    /// 48-bit LBA field (bits 47:0).
    public var lba: UInt64
    public var device: UInt8
    public var `protocol`: AtaProtocol
    /// A 48-bit (EXT) command: EXTEND=1 in the CDB; not expressible in ATA PASS-THROUGH(12).
    public var isExtended: Bool
    /// CK_COND=1: the SATL returns the result registers (ATA Status Return descriptor) even on
    /// success — needed when the output registers are the answer (READ NATIVE MAX, SANITIZE STATUS).
    public var checkCondition: Bool
    /// The 512-byte payload of a PIO data-out command.
    public var dataOut: [UInt8]
    /// Timeout for SG_IO, milliseconds.
    public var timeoutMs: UInt32

    public init(command: UInt8, feature: UInt16 = 0, count: UInt16 = 0, lba: UInt64 = 0, device: UInt8 = 0x40,
                protocol: AtaProtocol, isExtended: Bool = false, checkCondition: Bool = false,
                dataOut: [UInt8] = [], timeoutMs: UInt32 = AtaCommand.defaultTimeoutMs) {
        self.command = command
        self.feature = feature
        self.count = count
        self.lba = lba
        self.device = device
        self.protocol = `protocol`
        self.isExtended = isExtended
        self.checkCondition = checkCondition
        self.dataOut = dataOut
        self.timeoutMs = timeoutMs
    }

    /// 15 s for short commands, as hdparm's default SG_IO timeout.
    public static let defaultTimeoutMs: UInt32 = 15_000

    /// Bytes moved by the data phase: one 512-byte block for the PIO commands used here.
    public var transferLength: Int { self.protocol == .nonData ? 0 : 512 * Int(count == 0 ? 1 : count) }

    public var direction: PassthroughDirection {
        switch self.protocol {
        case .nonData: return .none
        case .pioDataIn: return .fromDevice
        case .pioDataOut: return .toDevice
        }
    }

    /// CDB byte 1: bits 4:1 PROTOCOL, bit 0 EXTEND (SAT-4 §12.2.2.1, Table 187).
    var byte1: UInt8 { self.protocol.rawValue << 1 | (isExtended ? 1 : 0) }

    /// CDB byte 2 (SAT-4 §12.2.2.1): bit 5 CK_COND, bit 3 T_DIR (1 = from device),
    /// bit 2 BYTE_BLOCK (1 = blocks), bits 1:0 T_LENGTH (2 = length in COUNT). T_TYPE (bit 4)
    /// stays 0: 512-byte blocks. No data → T_LENGTH 0, BYTE_BLOCK 0.
    var byte2: UInt8 {
        var value: UInt8 = checkCondition ? 0x20 : 0
        switch self.protocol {
        case .nonData: break
        case .pioDataIn: value |= 0x08 | 0x04 | 0x02
        case .pioDataOut: value |= 0x04 | 0x02
        }
        return value
    }

    /// ATA PASS-THROUGH(16), opcode 85h (SAT-4 §12.2.2.3, Table 190). LBA bytes interleave
    /// "high order / low order" exactly as the register pairs: 7 LBA 31:24, 8 LBA 7:0,
    /// 9 LBA 39:32, 10 LBA 15:8, 11 LBA 47:40, 12 LBA 23:16.
    public var cdb16: [UInt8] {
        func b(_ shift: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: lba >> shift) }
        return [0x85, byte1, byte2,
                UInt8(feature >> 8), UInt8(feature & 0xFF),
                UInt8(count >> 8), UInt8(count & 0xFF),
                b(24), b(0), b(32), b(8), b(40), b(16),
                device, command, 0x00]
    }

    /// ATA PASS-THROUGH(12), opcode A1h (SAT-4 §12.2.2.2, Table 189): 28-bit registers only,
    /// byte 1 bit 0 reserved, byte 10 reserved. Nil for a 48-bit command that needs the upper
    /// bytes (feature/count/LBA beyond 8/8/24 bits, or EXTEND).
    public var cdb12: [UInt8]? {
        if isExtended || feature > 0xFF || count > 0xFF || lba > 0x0FFF_FFFF { return nil }
        return [0xA1, self.protocol.rawValue << 1, byte2,
                UInt8(feature), UInt8(count),
                UInt8(truncatingIfNeeded: lba), UInt8(truncatingIfNeeded: lba >> 8), UInt8(truncatingIfNeeded: lba >> 16),
                device | UInt8(truncatingIfNeeded: lba >> 24) & 0x0F, command, 0x00, 0x00]
    }

    /// The SG_IO request for this command in the 16- or 12-byte form.
    public func scsiCommand(twelveByte: Bool) throws -> ScsiCommand {
        let cdb: [UInt8]
        if twelveByte {
            guard let short = cdb12 else {
                throw SanitizeError(.unsupported, context: "ATA command \(Hex.fixed(UInt64(command), width: 2))",
                                    message: .init(fr: "cette commande 48 bits exige ATA PASS-THROUGH(16) ; le type sat12 ne peut pas la transmettre",
                                                   en: "this 48-bit command needs ATA PASS-THROUGH(16); device type sat12 cannot carry it"))
            }
            cdb = short
        } else {
            cdb = cdb16
        }
        return ScsiCommand(cdb: cdb, direction: direction, transferLength: transferLength, dataOut: dataOut, timeoutMs: timeoutMs)
    }
}

/// The ATA commands a wipe needs (ACS-3 / ACS-4 §7), encoded as hdparm 9.65 does: DEVICE 40h
/// (hdparm's `tf_init` sets ATA_USING_LBA), E0h for SET ACCESSIBLE MAX ADDRESS EXT; CK_COND on
/// every non-data command so the result registers come back; none on the PIO data-out
/// security commands.
public enum AtaCommands {
    /// IDENTIFY DEVICE, ECh, PIO data-in, 512 bytes (ACS-3 §7.12).
    public static func identifyDevice() -> AtaCommand {
        AtaCommand(command: 0xEC, count: 1, protocol: .pioDataIn)
    }

    /// SECURITY SET PASSWORD, F1h (ACS-3 §7.45.3): user password, master password capability
    /// High (word 0 bit 8 = 0) so the master password can still unlock (not erase-only).
    public static func securitySetPassword(_ password: AtaPassword, master: Bool = false, maximum: Bool = false) -> AtaCommand {
        var payload = securityPayload(password, master: master)
        if maximum { payload[1] = 0x01 }    // word 0 bit 8: Master Password Capability = Maximum
        return AtaCommand(command: 0xF1, count: 1, protocol: .pioDataOut, dataOut: payload)
    }

    /// SECURITY UNLOCK, F2h (ACS-3 §7.45.7).
    public static func securityUnlock(_ password: AtaPassword, master: Bool = false) -> AtaCommand {
        AtaCommand(command: 0xF2, count: 1, protocol: .pioDataOut, dataOut: securityPayload(password, master: master))
    }

    /// SECURITY ERASE PREPARE, F3h, non-data (ACS-3 §7.45.4); must immediately precede F4h.
    public static func securityErasePrepare() -> AtaCommand {
        AtaCommand(command: 0xF3, protocol: .nonData, checkCondition: true)
    }

    /// SECURITY ERASE UNIT, F4h (ACS-3 §7.45.5): word 0 bit 1 ENHANCED.
    public static func securityEraseUnit(_ password: AtaPassword, enhanced: Bool, master: Bool = false, timeoutMs: UInt32) -> AtaCommand {
        var payload = securityPayload(password, master: master)
        if enhanced { payload[0] |= 0x02 }
        return AtaCommand(command: 0xF4, count: 1, protocol: .pioDataOut, dataOut: payload, timeoutMs: timeoutMs)
    }

    /// SECURITY FREEZE LOCK, F5h, non-data (ACS-3 §7.45.6).
    public static func securityFreezeLock() -> AtaCommand {
        AtaCommand(command: 0xF5, protocol: .nonData, checkCondition: true)
    }

    /// SECURITY DISABLE PASSWORD, F6h (ACS-3 §7.45.2).
    public static func securityDisablePassword(_ password: AtaPassword, master: Bool = false) -> AtaCommand {
        AtaCommand(command: 0xF6, count: 1, protocol: .pioDataOut, dataOut: securityPayload(password, master: master))
    }

    /// The 512-byte security data (ACS-3 §7.45.x, Table "SECURITY … data content"): byte 0 bit 0
    /// IDENTIFIER (1 = master), bytes 2..33 the 32-byte password copied in plain byte order as
    /// hdparm does (it is binary data, not an ATA string), rest zero.
    public static func securityPayload(_ password: AtaPassword, master: Bool) -> [UInt8] {
        var payload = [UInt8](repeating: 0, count: 512)
        if master { payload[0] = 0x01 }
        payload.replaceSubrange(2..<34, with: password.bytes)
        return payload
    }

    /// READ NATIVE MAX ADDRESS EXT, 27h, 48-bit non-data, output LBA = native max (ACS-2 §7.31; obsolete in ACS-3).
    public static func readNativeMaxAddressExt() -> AtaCommand {
        AtaCommand(command: 0x27, protocol: .nonData, isExtended: true, checkCondition: true)
    }

    /// SET MAX ADDRESS EXT, 37h (ACS-2 §7.51): COUNT bit 0 = value volatile (0) / non-volatile (1).
    public static func setMaxAddressExt(maxLBA: UInt64, nonVolatile: Bool) -> AtaCommand {
        AtaCommand(command: 0x37, count: nonVolatile ? 1 : 0, lba: maxLBA, protocol: .nonData, isExtended: true, checkCondition: true)
    }

    /// GET NATIVE MAX ADDRESS EXT, 78h/0000h (ACS-3 §7.6.2, Accessible Max Address Configuration).
    public static func getNativeMaxAddressExt() -> AtaCommand {
        AtaCommand(command: 0x78, feature: 0x0000, protocol: .nonData, isExtended: true, checkCondition: true)
    }

    /// SET ACCESSIBLE MAX ADDRESS EXT, 78h/0001h (ACS-3 §7.6.3); always non-volatile. DEVICE E0h
    /// and COUNT 1 as hdparm sends.
    public static func setAccessibleMaxAddressExt(maxLBA: UInt64) -> AtaCommand {
        AtaCommand(command: 0x78, feature: 0x0001, count: 1, lba: maxLBA, device: 0xE0, protocol: .nonData, isExtended: true, checkCondition: true)
    }

    /// DEVICE CONFIGURATION IDENTIFY, B1h/C2h, PIO data-in (ACS-2 §7.9.4).
    public static func dcoIdentify() -> AtaCommand {
        AtaCommand(command: 0xB1, feature: 0xC2, count: 1, protocol: .pioDataIn)
    }

    /// DEVICE CONFIGURATION RESTORE, B1h/C0h, non-data (ACS-2 §7.9.5).
    public static func dcoRestore() -> AtaCommand {
        AtaCommand(command: 0xB1, feature: 0xC0, protocol: .nonData, checkCondition: true)
    }

    /// SANITIZE STATUS EXT, B4h/0000h (ACS-3 §7.36.6): COUNT bit 0 CLEAR SANITIZE OPERATION FAILED.
    public static func sanitizeStatusExt(clearFailure: Bool = false) -> AtaCommand {
        AtaCommand(command: 0xB4, feature: 0x0000, count: clearFailure ? 1 : 0, protocol: .nonData, isExtended: true, checkCondition: true)
    }

    /// CRYPTO SCRAMBLE EXT, B4h/0011h, LBA signature 0000_4372_7970h "Cryp" (ACS-3 §7.36.3).
    public static func sanitizeCryptoScrambleExt(failureMode: Bool = false) -> AtaCommand {
        AtaCommand(command: 0xB4, feature: 0x0011, count: failureMode ? 0x10 : 0, lba: 0x0000_4372_7970,
                   protocol: .nonData, isExtended: true, checkCondition: true, timeoutMs: sanitizeStartTimeoutMs)
    }

    /// BLOCK ERASE EXT, B4h/0012h, LBA signature 0000_426B_4572h "BkEr" (ACS-3 §7.36.2).
    public static func sanitizeBlockEraseExt(failureMode: Bool = false) -> AtaCommand {
        AtaCommand(command: 0xB4, feature: 0x0012, count: failureMode ? 0x10 : 0, lba: 0x0000_426B_4572,
                   protocol: .nonData, isExtended: true, checkCondition: true, timeoutMs: sanitizeStartTimeoutMs)
    }

    /// OVERWRITE EXT, B4h/0014h (ACS-3 §7.36.5): LBA 47:32 = 4F57h "OW", LBA 31:0 = pattern;
    /// COUNT bits 3:0 passes (0 = 16), bit 4 FAILURE MODE, bit 7 INVERT PATTERN BETWEEN PASSES.
    public static func sanitizeOverwriteExt(pattern: UInt32, passes: Int, invert: Bool, failureMode: Bool = false) -> AtaCommand {
        var count = UInt16(passes & 0x0F)
        if failureMode { count |= 0x10 }
        if invert { count |= 0x80 }
        return AtaCommand(command: 0xB4, feature: 0x0014, count: count, lba: 0x4F57_0000_0000 | UInt64(pattern),
                          protocol: .nonData, isExtended: true, checkCondition: true, timeoutMs: sanitizeStartTimeoutMs)
    }

    /// SANITIZE FREEZE LOCK EXT, B4h/0020h, "FrLk" (ACS-3 §7.36.4).
    public static func sanitizeFreezeLockExt() -> AtaCommand {
        AtaCommand(command: 0xB4, feature: 0x0020, lba: 0x0000_4672_4C6B, protocol: .nonData, isExtended: true, checkCondition: true)
    }

    /// SANITIZE ANTIFREEZE LOCK EXT, B4h/0040h, "Anti" (ACS-3 §7.36.1).
    public static func sanitizeAntifreezeLockExt() -> AtaCommand {
        AtaCommand(command: 0xB4, feature: 0x0040, lba: 0x0000_416E_7469, protocol: .nonData, isExtended: true, checkCondition: true)
    }

    /// Sanitize commands return as soon as the operation has started (ACS-3 §4.17.3); a minute is ample.
    public static let sanitizeStartTimeoutMs: UInt32 = 60_000
}

/// A 32-byte ATA security password (ACS-3 §7.45, words 1-16 of the security data).
public struct AtaPassword: Sendable, Hashable, Codable {
    public let bytes: [UInt8]

    /// Raw 32 bytes; shorter input is NUL padded, longer is rejected.
    public init?(bytes: [UInt8]) {
        guard bytes.count <= 32 else { return nil }
        self.bytes = bytes + [UInt8](repeating: 0, count: 32 - bytes.count)
    }

    /// A text password as hdparm takes it (plain byte order, NUL padded).
    public init?(text: String) {
        self.init(bytes: Array(text.utf8))
    }

    /// The printable form (up to the first NUL) for logs and the secret store.
    public var text: String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// A fresh temporary password: "ardoise-" and 16 random lowercase hex digits.
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> AtaPassword {
        var text = "ardoise-"
        for _ in 0..<8 { text += Hex.byte(UInt8.random(in: 0...255, using: &generator)) }
        return AtaPassword(text: text)!
    }
}
