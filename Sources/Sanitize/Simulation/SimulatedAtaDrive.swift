import ArdoiseSupport
import DeviceKit

/// A SATA drive behind a SCSI/ATA Translation layer, for tests and dry runs.
///
/// It receives the same CDB bytes a real SATL does (ATA PASS-THROUGH 16 and 12, INQUIRY,
/// REQUEST SENSE), decodes the taskfile from them, runs the ATA security / sanitize / HPA state
/// machines of ACS-3, and answers with the same sense data libata produces (descriptor sense,
/// ATA Status Return descriptor). Not thread-safe: one flow drives it at a time.
public final class SimulatedAtaDrive: PassthroughTransport {
    /// Static description of the drive, turned into IDENTIFY DEVICE data.
    public struct Configuration: Sendable {
        public var model = "ARDOISE SIM SSD 240GB"
        public var serialNumber = "SIM0000000001"
        public var firmwareRevision = "1.0"
        public var sectors: UInt64 = 468_862_128
        public var rotationRate: UInt16 = 1            // word 217: 1 = SSD
        public var securitySupported = true
        public var enhancedEraseSupported = true
        public var eraseTimeWord89: UInt16 = 2         // 4 minutes
        public var eraseTimeWord90: UInt16 = 2
        public var sanitizeCrypto = true
        public var sanitizeBlock = true
        public var sanitizeOverwrite = false
        public var hpaSupported = true
        public var accessibleMaxAddress = false        // ACS-3 AMAC (word 119 bit 8)
        public var dcoSupported = false
        public var trimSupported = true

        public init() {}

        /// A 7200 rpm hard disk with SANITIZE OVERWRITE and no enhanced erase.
        public static func hardDisk() -> Configuration {
            var c = Configuration()
            c.model = "ARDOISE SIM HDD 500GB"
            c.serialNumber = "SIMHDD000002"
            c.sectors = 976_773_168
            c.rotationRate = 7200
            c.enhancedEraseSupported = false
            c.eraseTimeWord89 = 0x8000 | 50   // extended form: 100 minutes
            c.eraseTimeWord90 = 0
            c.sanitizeCrypto = false
            c.sanitizeBlock = false
            c.sanitizeOverwrite = true
            c.trimSupported = false
            return c
        }
    }

    /// Faults to inject.
    public enum Fault: Sendable, Hashable {
        /// Commands with this ATA opcode never complete (SG_IO reports DID_TIME_OUT).
        case timeout(command: UInt8)
        /// Power is lost during SECURITY ERASE UNIT: the drive comes back locked with the
        /// password still set, the erase not done.
        case powerCutDuringSecurityErase
        /// The sanitize operation fails at the n-th SANITIZE STATUS EXT poll (1-based).
        case sanitizeFailsAtPoll(Int)
        /// The drive aborts this ATA opcode.
        case abort(command: UInt8)
        /// A USB bridge without pass-through: 85h and A1h are ILLEGAL REQUEST.
        case noPassThrough
        /// A SATL that reports the ATA registers in fixed-format sense (70h), which cannot
        /// carry COUNT 15:8 nor LBA 47:24.
        case fixedFormatSense
    }

    public var configuration: Configuration
    public var faults: Set<Fault> = []
    /// Progress added per SANITIZE STATUS EXT poll (n/65536).
    public var sanitizeProgressPerPoll: UInt32 = 16_384
    /// Identify template: a real dump (dry run) or generated from the configuration.
    private var identifyTemplate: [UInt8]
    private let capabilities: AtaIdentify

    // ATA state (ACS-3 §4.18 security, §4.17 sanitize).
    public private(set) var securityEnabled = false
    public private(set) var locked = false
    public var frozen = false
    public private(set) var countExpired = false
    public var sanitizeFrozen = false
    public private(set) var userPassword: AtaPassword?
    public private(set) var masterPassword = AtaPassword(text: "MASTER-FACTORY")!
    private var failedUnlockAttempts = 0
    private var erasePrepared = false
    private var lastCommand: UInt8 = 0
    public private(set) var nativeSectors: UInt64
    public private(set) var accessibleSectors: UInt64
    public private(set) var dcoMaxLBA: UInt64?
    private var sanitizeAction: UInt16?
    private var sanitizeOverwritePattern: UInt32 = 0
    private var sanitizeProgress: UInt32 = 0
    private var sanitizePolls = 0
    private var lastSanitizeSucceeded = false
    private var lastSanitizeFailed = false
    public var data: SimulatedDataSamples
    /// Told of every change an erase makes to the media (tests mirror it into a file).
    public var onMediaChange: ((SimulatedMediaChange) -> Void)?

    private func change(_ change: SimulatedMediaChange) {
        data.apply(change)
        onMediaChange?(change)
    }
    /// Every CDB received, in order.
    public private(set) var receivedCDBs: [[UInt8]] = []
    /// Count of security erases completed.
    public private(set) var securityErasesDone = 0

    /// A drive generated from `configuration`, optionally with a host protected area hiding
    /// `hiddenSectors` beyond the accessible capacity.
    public init(configuration: Configuration = Configuration(), hiddenSectors: UInt64 = 0, dcoHiddenSectors: UInt64 = 0, seed: UInt64 = 1) {
        self.configuration = configuration
        let template = SimulatedAtaDrive.makeIdentify(configuration)
        identifyTemplate = template
        capabilities = try! AtaIdentify.parse(template) // generated data always parses
        nativeSectors = configuration.sectors + hiddenSectors
        accessibleSectors = configuration.sectors
        if configuration.dcoSupported { dcoMaxLBA = nativeSectors + dcoHiddenSectors - 1 }
        data = SimulatedDataSamples(nativeSectors: nativeSectors + dcoHiddenSectors, seed: seed)
    }

    /// A drive that answers with a saved IDENTIFY dump (dry runs with `--identify-from`); its
    /// security word 128 sets the initial state (locked/frozen/expired) so every branch can be
    /// exercised. Throws when the dump is malformed.
    public init(identifyDump: [UInt8], seed: UInt64 = 1) throws {
        let parsed = try AtaIdentify.parse(identifyDump)
        capabilities = parsed
        identifyTemplate = identifyDump
        var config = Configuration()
        config.model = parsed.model
        config.serialNumber = parsed.serialNumber
        config.sectors = parsed.userAddressableSectors
        configuration = config
        nativeSectors = parsed.userAddressableSectors
        accessibleSectors = parsed.userAddressableSectors
        securityEnabled = parsed.security.enabled
        locked = parsed.security.locked
        frozen = parsed.security.frozen
        countExpired = parsed.security.countExpired
        data = SimulatedDataSamples(nativeSectors: nativeSectors, seed: seed)
    }

    // MARK: - Transport

    public func scsi(_ command: ScsiCommand) throws -> ScsiResult {
        receivedCDBs.append(command.cdb)
        guard let opcode = command.cdb.first else { return illegalRequest() }
        switch opcode {
        case 0x85 where command.cdb.count == 16, 0xA1 where command.cdb.count == 12:
            if faults.contains(.noPassThrough) { return illegalRequest(asc: 0x20) }
            return try ataPassThrough(command)
        case 0x12:
            // INQUIRY: libata reports vendor "ATA", the model's first 16 characters.
            var inquiry = [UInt8](repeating: 0x20, count: 36)
            inquiry[0] = 0x00; inquiry[2] = 0x07; inquiry[3] = 0x02; inquiry[4] = 31
            for (i, c) in Array("ATA".utf8).enumerated() { inquiry[8 + i] = c }
            for (i, c) in Array(configuration.model.utf8.prefix(16)).enumerated() { inquiry[16 + i] = c }
            return ScsiResult(status: 0, dataIn: Array(inquiry.prefix(command.transferLength)))
        case 0x03:
            return ScsiResult(status: 0, dataIn: Array([0x70, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0].prefix(command.transferLength)))
        default:
            return illegalRequest()
        }
    }

    public func nvmeAdmin(_ command: NvmeAdminCommand, dataOut: [UInt8]) throws -> NvmeResult {
        throw PassthroughError(code: .ioctlFailed, errno: 25, context: "simulated SATA drive: not an NVMe device (ENOTTY)")
    }

    // MARK: - ATA PASS-THROUGH decoding (SAT-4 §12.2.2)

    private struct Taskfile {
        var command: UInt8, feature: UInt16, count: UInt16, lba: UInt64, device: UInt8
        var protocolField: UInt8, extend: Bool, ckCond: Bool, tDir: Bool, byteBlock: Bool, tLength: UInt8
    }

    private func decode(_ cdb: [UInt8]) -> Taskfile {
        if cdb[0] == 0x85 {
            let lba = UInt64(cdb[8]) | UInt64(cdb[10]) << 8 | UInt64(cdb[12]) << 16 | UInt64(cdb[7]) << 24 | UInt64(cdb[9]) << 32 | UInt64(cdb[11]) << 40
            return Taskfile(command: cdb[14], feature: UInt16(cdb[3]) << 8 | UInt16(cdb[4]), count: UInt16(cdb[5]) << 8 | UInt16(cdb[6]),
                            lba: lba, device: cdb[13], protocolField: cdb[1] >> 1 & 0xF, extend: cdb[1] & 1 != 0,
                            ckCond: cdb[2] & 0x20 != 0, tDir: cdb[2] & 0x08 != 0, byteBlock: cdb[2] & 0x04 != 0, tLength: cdb[2] & 0x3)
        }
        let lba = UInt64(cdb[5]) | UInt64(cdb[6]) << 8 | UInt64(cdb[7]) << 16 | UInt64(cdb[8] & 0x0F) << 24
        return Taskfile(command: cdb[9], feature: UInt16(cdb[3]), count: UInt16(cdb[4]), lba: lba, device: cdb[8],
                        protocolField: cdb[1] >> 1 & 0xF, extend: false, ckCond: cdb[2] & 0x20 != 0,
                        tDir: cdb[2] & 0x08 != 0, byteBlock: cdb[2] & 0x04 != 0, tLength: cdb[2] & 0x3)
    }

    /// Outcome of one ATA command inside the simulator.
    private enum Outcome {
        case ok(count: UInt16 = 0, lba: UInt64 = 0, data: [UInt8] = [])
        case abort(lba: UInt64 = 0)
    }

    private func ataPassThrough(_ command: ScsiCommand) throws -> ScsiResult {
        let tf = decode(command.cdb)
        // A SATL checks the transfer description against the protocol (SAT-4 §12.2.2.1).
        let expectsData = tf.protocolField == 4 || tf.protocolField == 5
        if expectsData {
            let wantDir: PassthroughDirection = tf.protocolField == 4 ? .fromDevice : .toDevice
            guard tf.tLength == 2, tf.byteBlock, tf.tDir == (tf.protocolField == 4), command.direction == wantDir,
                  command.transferLength == 512 * Int(max(1, tf.count & 0xFF)) else {
                return illegalRequest(asc: 0x24)
            }
        } else if tf.protocolField != 3 || command.direction != .none || tf.tLength != 0 {
            return illegalRequest(asc: 0x24)
        }
        for fault in faults {
            if case .timeout(let op) = fault, op == tf.command {
                throw PassthroughError(code: .timedOut, context: "simulated drive: command \(Hex.fixed(UInt64(op), width: 2)) after \(command.timeoutMs) ms")
            }
        }
        if faults.contains(.abort(command: tf.command)) { return respond(tf, .abort()) }
        let outcome = try execute(tf, payload: command.dataOut)
        if tf.command != 0xF3 { erasePrepared = false }
        lastCommand = tf.command
        return respond(tf, outcome)
    }

    private func respond(_ tf: Taskfile, _ outcome: Outcome) -> ScsiResult {
        switch outcome {
        case .ok(let count, let lba, let data):
            guard tf.ckCond else { return ScsiResult(status: 0, dataIn: data) }
            let registers = AtaStatusReturn(extend: tf.extend, error: 0, count: count, lba: lba, device: tf.device, status: 0x50)
            // CK_COND success: CHECK CONDITION, RECOVERED ERROR, 00h/1Dh ATA PASS THROUGH
            // INFORMATION AVAILABLE (SAT-4 §12.2.2.6; libata's ata_gen_passthru_sense).
            return ScsiResult(status: 0x02, sense: sense(key: 0x1, asc: 0x00, ascq: 0x1D, registers), dataIn: data, driverStatus: 0x08)
        case .abort(let lba):
            // ABRT: ABORTED COMMAND with the registers (libata's ata_to_sense_error).
            let registers = AtaStatusReturn(extend: tf.extend, error: 0x04, count: 0, lba: lba, device: tf.device, status: 0x51)
            return ScsiResult(status: 0x02, sense: sense(key: 0xB, asc: 0x00, ascq: faults.contains(.fixedFormatSense) ? 0x1D : 0x00, registers), driverStatus: 0x08)
        }
    }

    private func sense(key: UInt8, asc: UInt8, ascq: UInt8, _ registers: AtaStatusReturn) -> [UInt8] {
        if faults.contains(.fixedFormatSense) { return registers.fixedSenseBytes(senseKey: key, asc: asc, ascq: ascq) }
        return [0x72, key, asc, ascq, 0, 0, 0, 14] + registers.descriptorBytes
    }

    private func illegalRequest(asc: UInt8 = 0x20) -> ScsiResult {
        ScsiResult(status: 0x02, sense: [0x72, 0x05, asc, 0x00, 0, 0, 0, 0], driverStatus: 0x08)
    }

    // MARK: - ATA command set

    private func execute(_ tf: Taskfile, payload: [UInt8]) throws -> Outcome {
        // ACS-3 §4.18.11 Table 19: a locked drive aborts media access and most commands.
        switch tf.command {
        case 0xEC:
            return .ok(data: currentIdentify())
        case 0xF1:
            guard capabilities.security.supported, !frozen, !locked, payload.count == 512 else { return .abort() }
            let password = AtaPassword(bytes: Array(payload[2..<34]))!
            if payload[0] & 1 == 0 {
                userPassword = password
                securityEnabled = true
            } else {
                masterPassword = password
            }
            return .ok()
        case 0xF2:
            guard capabilities.security.supported, !frozen, !countExpired, payload.count == 512 else { return .abort() }
            guard checkPassword(payload) else { return .abort() }
            locked = false
            return .ok()
        case 0xF3:
            guard capabilities.security.supported, !frozen else { return .abort() }
            erasePrepared = true
            return .ok()
        case 0xF4:
            guard capabilities.security.supported, !frozen, !countExpired, erasePrepared, lastCommand == 0xF3, payload.count == 512 else { return .abort() }
            let enhanced = payload[0] & 0x02 != 0
            if enhanced && !capabilities.security.enhancedEraseSupported { return .abort() }
            guard checkPassword(payload) else { return .abort() }
            if faults.contains(.powerCutDuringSecurityErase) {
                faults.remove(.powerCutDuringSecurityErase)
                // Power returns: password still set, so the drive powers up locked (SEC4).
                locked = true
                erasePrepared = false
                change(.fill(0, belowSector: accessibleSectors / 3))  // a third done
                throw PassthroughError(code: .deviceGone, context: "simulated drive: power lost during SECURITY ERASE UNIT")
            }
            if enhanced { change(.scramble(seed: 0xE4, belowSector: nil)) } else { change(.fill(0, belowSector: accessibleSectors)) }
            securityEnabled = false
            userPassword = nil
            locked = false
            securityErasesDone += 1
            return .ok()
        case 0xF5:
            guard capabilities.security.supported, !locked else { return .abort() }
            frozen = true
            return .ok()
        case 0xF6:
            guard capabilities.security.supported, !frozen, !locked, securityEnabled, payload.count == 512 else { return .abort() }
            guard checkPassword(payload) else { return .abort() }
            securityEnabled = false
            userPassword = nil
            return .ok()
        case 0x27:
            guard capabilities.supportsHPA, tf.extend else { return .abort() }
            return .ok(lba: nativeSectors - 1)
        case 0x37:
            guard capabilities.supportsHPA, tf.extend, lastCommand == 0x27, tf.lba < nativeSectors else { return .abort() }
            accessibleSectors = tf.lba + 1
            return .ok()
        case 0x78:
            guard capabilities.supportsAccessibleMaxAddress, tf.extend else { return .abort() }
            switch tf.feature {
            case 0x0000: return .ok(lba: nativeSectors - 1)
            case 0x0001:
                guard tf.lba < nativeSectors else { return .abort() }
                accessibleSectors = tf.lba + 1
                return .ok()
            default: return .abort()
            }
        case 0xB1:
            guard capabilities.supportsDCO, let dcoMax = dcoMaxLBA else { return .abort() }
            switch tf.feature {
            case 0xC2:
                var dco = [UInt8](repeating: 0, count: 512)
                dco[0] = 0x02   // word 0: DCO revision
                for i in 0..<4 { dco[6 + 2 * i] = UInt8(truncatingIfNeeded: dcoMax >> (16 * UInt64(i))); dco[7 + 2 * i] = UInt8(truncatingIfNeeded: dcoMax >> (16 * UInt64(i) + 8)) }
                AtaIdentify.seal(&dco)
                return .ok(data: dco)
            case 0xC0:
                // DCO RESTORE is aborted while an HPA is set (ACS-2 §7.9.5).
                guard accessibleSectors == nativeSectors else { return .abort() }
                nativeSectors = dcoMax + 1
                accessibleSectors = nativeSectors
                return .ok()
            default: return .abort()
            }
        case 0xB4:
            return sanitize(tf)
        default:
            return .abort()
        }
    }

    private func checkPassword(_ payload: [UInt8]) -> Bool {
        let given = Array(payload[2..<34])
        let master = payload[0] & 1 != 0
        let expected = master ? masterPassword.bytes : (userPassword?.bytes ?? [])
        if given == expected { failedUnlockAttempts = 0; return true }
        failedUnlockAttempts += 1
        // ACS-3 §4.18.6: after five failed attempts the password attempt counter expires.
        if failedUnlockAttempts >= 5 { countExpired = true }
        return false
    }

    private func sanitize(_ tf: Taskfile) -> Outcome {
        let s = capabilities.sanitize
        guard s.supported, tf.extend else { return .abort(lba: 2) }
        if tf.feature == 0x0000 {
            // SANITIZE STATUS EXT.
            if sanitizeAction != nil {
                sanitizePolls += 1
                if faults.contains(.sanitizeFailsAtPoll(sanitizePolls)) {
                    sanitizeAction = nil
                    lastSanitizeFailed = true
                    lastSanitizeSucceeded = false
                    change(.fill(0xDD, belowSector: accessibleSectors / 2))
                    return .abort(lba: 1)
                }
                sanitizeProgress += sanitizeProgressPerPoll
                if sanitizeProgress >= 65_536 { finishSanitize() } else {
                    return .ok(count: 0x4000 | (sanitizeFrozen ? 0x2000 : 0), lba: UInt64(sanitizeProgress))
                }
            }
            if lastSanitizeFailed {
                if tf.count & 1 != 0 { lastSanitizeFailed = false } else { return .abort(lba: 1) }
            }
            return .ok(count: (lastSanitizeSucceeded ? 0x8000 : 0) | (sanitizeFrozen ? 0x2000 : 0), lba: 0xFFFF)
        }
        if locked { return .abort(lba: 0) }
        if sanitizeAction != nil { return .abort(lba: 0) }
        switch tf.feature {
        case 0x0011:
            guard s.cryptoScramble, tf.lba == 0x0000_4372_7970 else { return .abort(lba: 2) }
        case 0x0012:
            guard s.blockErase, tf.lba == 0x0000_426B_4572 else { return .abort(lba: 2) }
        case 0x0014:
            guard s.overwrite, tf.lba >> 32 == 0x4F57 else { return .abort(lba: 2) }
            sanitizeOverwritePattern = UInt32(truncatingIfNeeded: tf.lba)
        case 0x0020:
            guard tf.lba == 0x0000_4672_4C6B else { return .abort(lba: 2) }
            sanitizeFrozen = true
            return .ok()
        default:
            return .abort(lba: 2)
        }
        if sanitizeFrozen { return .abort(lba: 3) }
        sanitizeAction = tf.feature
        sanitizeProgress = 0
        sanitizePolls = 0
        lastSanitizeSucceeded = false
        return .ok()
    }

    private func finishSanitize() {
        switch sanitizeAction {
        case 0x0011: change(.scramble(seed: 0xC7, belowSector: nil))
        case 0x0012: change(.fill(0x00, belowSector: nil))
        case 0x0014: change(.pattern((0..<4).map { UInt8(truncatingIfNeeded: sanitizeOverwritePattern >> (8 * $0)) }))
        default: break
        }
        sanitizeAction = nil
        lastSanitizeSucceeded = true
        lastSanitizeFailed = false
    }

    // MARK: - IDENTIFY DEVICE

    /// The current IDENTIFY data: the template with word 128 (security state), word 85 bit 1
    /// and the capacity words reflecting the live state, checksum recomputed.
    public func currentIdentify() -> [UInt8] {
        var id = identifyTemplate
        func setWord(_ n: Int, _ value: UInt16) { id[2 * n] = UInt8(value & 0xFF); id[2 * n + 1] = UInt8(value >> 8) }
        func word(_ n: Int) -> UInt16 { id.le16(2 * n) }
        var w128 = word(128) & ~UInt16(0x1E)
        if securityEnabled { w128 |= 0x02 }
        if locked { w128 |= 0x04 }
        if frozen { w128 |= 0x08 }
        if countExpired { w128 |= 0x10 }
        setWord(128, w128)
        setWord(85, securityEnabled ? word(85) | 0x02 : word(85) & ~0x02)
        let hpaActive = accessibleSectors < nativeSectors
        setWord(85, hpaActive && capabilities.supportsHPA ? word(85) | 0x400 : word(85) & ~0x400)
        let s28 = UInt32(min(accessibleSectors, 0x0FFF_FFFF))
        setWord(60, UInt16(s28 & 0xFFFF)); setWord(61, UInt16(s28 >> 16))
        if capabilities.supports48Bit {
            for i in 0..<4 { setWord(100 + i, UInt16(truncatingIfNeeded: accessibleSectors >> (16 * UInt64(i)))) }
        }
        if id[510] == 0xA5 { AtaIdentify.seal(&id) }
        return id
    }

    /// Builds 512-byte IDENTIFY DEVICE data from a configuration (ACS-3 §7.12.7 word layout).
    public static func makeIdentify(_ c: Configuration) -> [UInt8] {
        var id = [UInt8](repeating: 0, count: 512)
        func setWord(_ n: Int, _ value: UInt16) { id[2 * n] = UInt8(value & 0xFF); id[2 * n + 1] = UInt8(value >> 8) }
        setWord(0, 0x0040)                              // fixed device
        AtaIdentify.putAtaString(c.serialNumber, into: &id, words: 10...19)
        AtaIdentify.putAtaString(c.firmwareRevision, into: &id, words: 23...26)
        AtaIdentify.putAtaString(c.model, into: &id, words: 27...46)
        setWord(49, 0x0300)                             // LBA + DMA
        var w59: UInt16 = 0x0100
        if c.sanitizeCrypto || c.sanitizeBlock || c.sanitizeOverwrite { w59 |= 0x1000 }
        if c.sanitizeCrypto { w59 |= 0x2000 }
        if c.sanitizeOverwrite { w59 |= 0x4000 }
        if c.sanitizeBlock { w59 |= 0x8000 }
        setWord(59, w59)
        let s28 = UInt32(min(c.sectors, 0x0FFF_FFFF))
        setWord(60, UInt16(s28 & 0xFFFF)); setWord(61, UInt16(s28 >> 16))
        setWord(69, c.trimSupported ? 0x4020 : 0)       // deterministic + zeroes after TRIM
        setWord(80, 0x07F0)                             // ATA/ATAPI-4 … ACS-3
        setWord(81, 0x011F)
        var w82: UInt16 = 0x4001
        if c.securitySupported { w82 |= 0x0002 }
        if c.hpaSupported { w82 |= 0x0400 }
        setWord(82, w82)
        setWord(83, 0x4400 | (c.dcoSupported ? 0x0800 : 0))
        setWord(84, 0x4000)
        setWord(85, 0x4001)
        setWord(86, 0x8400 | (c.dcoSupported ? 0x0800 : 0))
        setWord(87, 0x4000)
        setWord(89, c.securitySupported ? c.eraseTimeWord89 : 0)
        setWord(90, c.securitySupported && c.enhancedEraseSupported ? c.eraseTimeWord90 : 0)
        setWord(92, 0xFFFE)
        for i in 0..<4 { setWord(100 + i, UInt16(truncatingIfNeeded: c.sectors >> (16 * UInt64(i)))) }
        setWord(106, 0x4000)
        setWord(119, 0x4000 | (c.accessibleMaxAddress ? 0x0100 : 0))
        var w128: UInt16 = 0
        if c.securitySupported { w128 |= 0x0001; if c.enhancedEraseSupported { w128 |= 0x0020 } }
        setWord(128, w128)
        setWord(169, c.trimSupported ? 1 : 0)
        setWord(217, c.rotationRate)
        AtaIdentify.seal(&id)
        return id
    }
}
