import ArdoiseSupport
import Foundation

/// Parsed ATA IDENTIFY DEVICE data (ACS-3 §7.12.7, ACS-4 §9.11): what a wipe needs to know.
public struct AtaIdentify: Sendable, Hashable, Codable {
    public var model: String
    public var serialNumber: String
    public var firmwareRevision: String
    /// Words 60-61: 28-bit user addressable sectors.
    public var sectors28: UInt32
    /// Words 100-103: 48-bit user addressable sectors (0 when 48-bit is not supported).
    public var sectors48: UInt64
    /// Words 230-233 (extended number of user addressable sectors, valid when word 69 bit 3).
    public var extendedSectors: UInt64?
    public var supports48Bit: Bool
    public var logicalSectorSize: Int
    public var physicalSectorSize: Int
    public var security: Security
    public var sanitize: SanitizeSupport
    public var supportsHPA: Bool
    public var hpaEnabled: Bool
    public var supportsDCO: Bool
    /// Word 119 bit 8 (valid when word 86 bit 15): Accessible Max Address Configuration (ACS-3).
    public var supportsAccessibleMaxAddress: Bool
    public var supportsTrim: Bool
    public var deterministicReadAfterTrim: Bool
    public var zeroesAfterTrim: Bool
    /// Word 217: nil not reported, 1 non-rotating (SSD), else rpm.
    public var rotationRate: Int?
    /// Word 80: bit 10 ACS-3, bit 11 ACS-4.
    public var majorVersion: UInt16
    /// Word 255 bits 7:0 = A5h: a checksum is present and was verified.
    public var checksumValid: Bool

    /// Security feature set state, word 128 (ACS-3 §7.12.7.59).
    public struct Security: Sendable, Hashable, Codable {
        public var supported: Bool       // bit 0
        public var enabled: Bool         // bit 1
        public var locked: Bool          // bit 2
        public var frozen: Bool          // bit 3
        public var countExpired: Bool    // bit 4
        public var enhancedEraseSupported: Bool // bit 5
        /// bit 8: Master Password Capability, true = Maximum.
        public var masterPasswordMaximum: Bool
        /// Word 89 estimate for SECURITY ERASE UNIT, minutes (nil = not reported).
        public var eraseTimeMinutes: Int?
        /// Word 90 estimate for the enhanced erase, minutes.
        public var enhancedEraseTimeMinutes: Int?
        /// Word 92, nil when FFFEh/0000h (not set).
        public var masterPasswordIdentifier: UInt16?
    }

    /// SANITIZE feature set, word 59 (ACS-3 §7.12.7.24).
    public struct SanitizeSupport: Sendable, Hashable, Codable {
        public var supported: Bool          // bit 12
        public var cryptoScramble: Bool     // bit 13
        public var overwrite: Bool          // bit 14
        public var blockErase: Bool         // bit 15
        public var antifreezeLock: Bool     // bit 10
        /// bit 11 (ACS-4): ACS-3 commands allowed by sanitize.
        public var acs3CommandsAllowed: Bool
    }

    /// Sectors the host can address now: 48-bit count when supported, else 28-bit.
    public var userAddressableSectors: UInt64 {
        if let extendedSectors, extendedSectors > 0 { return extendedSectors }
        return supports48Bit && sectors48 > 0 ? sectors48 : UInt64(sectors28)
    }

    public var capacityInBytes: UInt64 { userAddressableSectors * UInt64(logicalSectorSize) }
    public var isSolidState: Bool { rotationRate == 1 }

    /// Parses the 512-byte IDENTIFY DEVICE data as the drive returned it (little-endian words).
    /// Throws `.malformedData` for a wrong size, a bad word-255 checksum, or an all-zero/FFFFh dump.
    public static func parse(_ data: [UInt8]) throws -> AtaIdentify {
        guard data.count == 512 else { throw SanitizeError.malformed("IDENTIFY DEVICE", "\(data.count) bytes, 512 expected") }
        if data.allSatisfy({ $0 == 0 }) || data.allSatisfy({ $0 == 0xFF }) {
            throw SanitizeError.malformed("IDENTIFY DEVICE", "empty (all 00h or all FFh): no ATA device answered")
        }
        func word(_ n: Int) -> UInt16 { data.le16(n * 2) }
        func bit(_ n: Int, _ b: Int) -> Bool { word(n) & (1 << UInt16(b)) != 0 }
        // Word 255 (ACS-3 §7.12.7.93): bits 7:0 signature A5h, bits 15:8 checksum such that
        // the 512 bytes sum to 0 modulo 256. Without the signature there is no checksum.
        var checksumValid = false
        if data[510] == 0xA5 {
            let sum = data.reduce(UInt8(0)) { $0 &+ $1 }
            guard sum == 0 else {
                throw SanitizeError.malformed("IDENTIFY DEVICE", "checksum word 255 is wrong (byte sum \(Hex.fixed(UInt64(sum), width: 2)), expected 0x00)")
            }
            checksumValid = true
        }
        // Words 83/86 are only meaningful when bits 15:14 = 01b (ACS-3 §7.12.7.40).
        let word83Valid = word(83) & 0xC000 == 0x4000
        let supports48 = word83Valid && bit(83, 10)
        var logical = 512
        var physical = 512
        let w106 = word(106)
        if w106 & 0xC000 == 0x4000 {
            if w106 & (1 << 12) != 0 {
                // Words 117-118: logical sector size in words (ACS-3 §7.12.7.63).
                let words = Int(data.le32(117 * 2))
                if words >= 256 { logical = words * 2 }
            }
            physical = w106 & (1 << 13) != 0 ? logical << Int(w106 & 0xF) : logical
        }
        func eraseTime(_ w: UInt16) -> Int? {
            // Words 89/90 (ACS-3 §7.12.7.45): bit 15 set → bits 14:0 × 2 min, else bits 7:0 × 2 min.
            if w == 0 { return nil }
            if w & 0x8000 != 0 { return Int(w & 0x7FFF) * 2 }
            return Int(w & 0xFF) * 2
        }
        let w92 = word(92)
        let w217 = word(217)
        let w69 = word(69)
        let extended: UInt64? = w69 & (1 << 3) != 0 ? data.le64(230 * 2) : nil
        return AtaIdentify(
            model: ataString(data, words: 27...46),
            serialNumber: ataString(data, words: 10...19),
            firmwareRevision: ataString(data, words: 23...26),
            sectors28: data.le32(60 * 2),
            sectors48: supports48 ? data.le64(100 * 2) : 0,
            extendedSectors: extended,
            supports48Bit: supports48,
            logicalSectorSize: logical,
            physicalSectorSize: physical,
            security: Security(
                supported: bit(128, 0), enabled: bit(128, 1), locked: bit(128, 2), frozen: bit(128, 3),
                countExpired: bit(128, 4), enhancedEraseSupported: bit(128, 5), masterPasswordMaximum: bit(128, 8),
                eraseTimeMinutes: eraseTime(word(89)), enhancedEraseTimeMinutes: eraseTime(word(90)),
                masterPasswordIdentifier: (w92 == 0 || w92 == 0xFFFE || w92 == 0xFFFF) ? nil : w92),
            sanitize: SanitizeSupport(
                supported: bit(59, 12), cryptoScramble: bit(59, 13), overwrite: bit(59, 14), blockErase: bit(59, 15),
                antifreezeLock: bit(59, 10), acs3CommandsAllowed: bit(59, 11)),
            supportsHPA: bit(82, 10),
            hpaEnabled: bit(85, 10),
            supportsDCO: word83Valid && bit(83, 11),
            supportsAccessibleMaxAddress: bit(86, 15) && bit(119, 8),
            supportsTrim: bit(169, 0),
            deterministicReadAfterTrim: bit(69, 14),
            zeroesAfterTrim: bit(69, 5),
            rotationRate: w217 == 0 || w217 == 0xFFFF ? nil : Int(w217),
            majorVersion: word(80),
            checksumValid: checksumValid)
    }

    /// ATA strings (ACS-3 §3.4.9): two characters per word, the first in the high byte, so
    /// each byte pair of the little-endian buffer is swapped. Trailing and leading spaces and
    /// NULs are removed (serials are often right-justified).
    public static func ataString(_ data: [UInt8], words: ClosedRange<Int>) -> String {
        var bytes: [UInt8] = []
        for w in words {
            bytes.append(data[w * 2 + 1])
            bytes.append(data[w * 2])
        }
        let text = String(decoding: bytes.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
        return text.trimmingCharacters(in: .whitespaces)
    }

    /// Sets an ATA string into IDENTIFY data words (the inverse of `ataString`), space padded.
    public static func putAtaString(_ text: String, into data: inout [UInt8], words: ClosedRange<Int>) {
        var chars = Array(text.utf8.prefix(words.count * 2))
        chars += [UInt8](repeating: 0x20, count: words.count * 2 - chars.count)
        for (i, w) in words.enumerated() {
            data[w * 2] = chars[i * 2 + 1]
            data[w * 2 + 1] = chars[i * 2]
        }
    }

    /// Writes signature A5h and the checksum into word 255 so the 512 bytes sum to 0.
    public static func seal(_ data: inout [UInt8]) {
        data[510] = 0xA5
        data[511] = 0
        let sum = data.reduce(UInt8(0)) { $0 &+ $1 }
        data[511] = 0 &- sum
    }
}

/// ATA SANITIZE STATUS EXT output (ACS-3 §7.36.6, Table "SANITIZE STATUS EXT normal output").
public struct AtaSanitizeStatus: Sendable, Hashable, Codable {
    /// COUNT bit 15: SANITIZE OPERATION COMPLETED WITHOUT ERROR.
    public var completedWithoutError: Bool
    /// COUNT bit 14: SANITIZE IN PROGRESS.
    public var inProgress: Bool
    /// COUNT bit 13: SANITIZE FROZEN.
    public var frozen: Bool
    /// COUNT bit 12: SANITIZE ANTIFREEZE.
    public var antifreeze: Bool
    /// LBA 15:0: progress n/65536 (FFFFh when not in progress).
    public var progress: UInt16
    /// Error output (status ERR, error ABRT): LBA 7:0 SANITIZE DEVICE ERROR REASON —
    /// 0 none reported, 1 last sanitize failed, 2 unsupported, 3 frozen, 4 antifreeze lock.
    public var errorReason: UInt8?

    public var progressFraction: Double? { inProgress ? Double(progress) / 65536.0 : nil }

    public static func decode(_ registers: AtaStatusReturn) -> AtaSanitizeStatus {
        if registers.isError {
            return AtaSanitizeStatus(completedWithoutError: false, inProgress: false, frozen: registers.lba & 0xFF == 3,
                                     antifreeze: registers.lba & 0xFF == 4, progress: 0xFFFF, errorReason: UInt8(registers.lba & 0xFF))
        }
        let c = registers.count
        return AtaSanitizeStatus(completedWithoutError: c & 0x8000 != 0, inProgress: c & 0x4000 != 0,
                                 frozen: c & 0x2000 != 0, antifreeze: c & 0x1000 != 0,
                                 progress: UInt16(registers.lba & 0xFFFF), errorReason: nil)
    }
}
