import Foundation
/// Decoded SCSI sense data (SPC-5 §4.4): fixed format (70h/71h) or descriptor format (72h/73h).
public struct SenseData: Sendable, Hashable, Codable {
    public enum Format: String, Sendable, Codable { case fixed, descriptor }

    public var format: Format
    /// 71h/73h: deferred error.
    public var isDeferred: Bool
    /// SENSE KEY (bits 3:0): 0 NO SENSE, 1 RECOVERED, 2 NOT READY, 3 MEDIUM ERROR, 4 HARDWARE,
    /// 5 ILLEGAL REQUEST, 6 UNIT ATTENTION, Bh ABORTED COMMAND.
    public var senseKey: UInt8
    public var additionalSenseCode: UInt8
    public var additionalSenseCodeQualifier: UInt8
    /// PROGRESS INDICATION from the sense-key specific field when SKSV=1 and the key is
    /// NO SENSE or NOT READY (SPC-5 §4.4.2.4.4): numerator over 65536.
    public var progress: UInt16?
    /// The ATA Status Return descriptor (SAT-4 §12.2.2.6), when present.
    public var ataStatus: AtaStatusReturn?

    /// Fraction done, 0…1, from `progress`.
    public var progressFraction: Double? { progress.map { Double($0) / 65536.0 } }

    /// Decodes `bytes`. Nil when empty or the response code is not 70h-73h.
    public static func decode(_ bytes: [UInt8]) -> SenseData? {
        guard bytes.count >= 8 else { return nil }
        let responseCode = bytes[0] & 0x7F
        switch responseCode {
        case 0x70, 0x71: return decodeFixed(bytes, deferred: responseCode == 0x71)
        case 0x72, 0x73: return decodeDescriptor(bytes, deferred: responseCode == 0x73)
        default: return nil
        }
    }

    /// Fixed format (SPC-5 §4.4.3, Table 48): byte 2 bits 3:0 key, byte 7 additional length,
    /// 12 ASC, 13 ASCQ, 15 bit 7 SKSV, 16-17 progress. Some SATLs return the ATA registers in
    /// this form (SAT-4 §12.2.2.6, fixed format): INFORMATION bytes 3-6 = ERROR, STATUS, DEVICE,
    /// COUNT 7:0; COMMAND-SPECIFIC INFORMATION byte 8 bit 7 EXTEND, bytes 9-11 LBA 7:0, 15:8,
    /// 23:16 (the upper bytes are only flagged, not carried).
    static func decodeFixed(_ bytes: [UInt8], deferred: Bool) -> SenseData {
        let key = bytes[2] & 0x0F
        let asc = bytes.count > 12 ? bytes[12] : 0
        let ascq = bytes.count > 13 ? bytes[13] : 0
        var progress: UInt16?
        if bytes.count >= 18, bytes[15] & 0x80 != 0, key == 0x0 || key == 0x2 {
            progress = bytes.be16(16)
        }
        var ata: AtaStatusReturn?
        // ASC/ASCQ 00h/1Dh "ATA PASS THROUGH INFORMATION AVAILABLE" in fixed form (SAT-4 Table 196).
        if asc == 0x00 && ascq == 0x1D && bytes.count >= 12 {
            let lbaLow = UInt64(bytes[9]) | UInt64(bytes[10]) << 8 | UInt64(bytes[11]) << 16
            ata = AtaStatusReturn(extend: bytes[8] & 0x80 != 0, error: bytes[3], count: UInt16(bytes[6]),
                                  lba: lbaLow, device: bytes[5], status: bytes[4],
                                  countUpperUnknown: bytes[8] & 0x40 != 0, lbaUpperUnknown: bytes[8] & 0x20 != 0)
        }
        return SenseData(format: .fixed, isDeferred: deferred, senseKey: key, additionalSenseCode: asc,
                         additionalSenseCodeQualifier: ascq, progress: progress, ataStatus: ata)
    }

    /// Descriptor format (SPC-5 §4.4.2, Table 27): byte 1 key, 2 ASC, 3 ASCQ, 7 additional
    /// length, descriptors from byte 8 (type, additional length, body).
    static func decodeDescriptor(_ bytes: [UInt8], deferred: Bool) -> SenseData {
        var sense = SenseData(format: .descriptor, isDeferred: deferred, senseKey: bytes[1] & 0x0F,
                              additionalSenseCode: bytes[2], additionalSenseCodeQualifier: bytes[3], progress: nil, ataStatus: nil)
        let end = min(bytes.count, 8 + Int(bytes[7]))
        var offset = 8
        while offset + 2 <= end {
            let type = bytes[offset]
            let length = Int(bytes[offset + 1])
            let next = offset + 2 + length
            guard next <= end else { break }
            let descriptor = Array(bytes[offset..<next])
            switch type {
            case 0x02 where length >= 6:
                // Sense-key specific descriptor (SPC-5 §4.4.2.4): byte 4 bit 7 SKSV, 5-6 progress.
                if descriptor[4] & 0x80 != 0, sense.senseKey == 0x0 || sense.senseKey == 0x2 {
                    sense.progress = descriptor.be16(5)
                }
            case 0x09 where length >= 12:
                sense.ataStatus = AtaStatusReturn.decode(descriptor)
            case 0x0A where length >= 6:
                // Another progress indication descriptor (SPC-5 §4.4.2.9): bytes 6-7 progress.
                if sense.progress == nil { sense.progress = descriptor.be16(6) }
            default:
                break
            }
            offset = next
        }
        return sense
    }
}

/// The ATA Status Return descriptor, code 09h, additional length 0Ch (SAT-4 §12.2.2.6,
/// Table 195): [2] bit 0 EXTEND, [3] ERROR, [4] COUNT 15:8, [5] COUNT 7:0, [6] LBA 31:24,
/// [7] LBA 7:0, [8] LBA 39:32, [9] LBA 15:8, [10] LBA 47:40, [11] LBA 23:16, [12] DEVICE,
/// [13] STATUS.
public struct AtaStatusReturn: Sendable, Hashable, Codable {
    public var extend: Bool
    public var error: UInt8
    public var count: UInt16
    public var lba: UInt64
    public var device: UInt8
    public var status: UInt8
    /// Fixed-format sense only carries COUNT 7:0 and flags "COUNT 15:8 non-zero" (SAT-4
    /// §12.2.2.6): when true, `count`'s upper byte is unknown.
    public var countUpperUnknown: Bool
    /// Likewise for LBA 47:24 ("LBA 47:24 non-zero" flag).
    public var lbaUpperUnknown: Bool

    public init(extend: Bool, error: UInt8, count: UInt16, lba: UInt64, device: UInt8, status: UInt8,
                countUpperUnknown: Bool = false, lbaUpperUnknown: Bool = false) {
        self.extend = extend
        self.error = error
        self.count = count
        self.lba = lba
        self.device = device
        self.status = status
        self.countUpperUnknown = countUpperUnknown
        self.lbaUpperUnknown = lbaUpperUnknown
    }

    static func decode(_ d: [UInt8]) -> AtaStatusReturn? {
        guard d.count >= 14, d[0] == 0x09 else { return nil }
        let lba = UInt64(d[7]) | UInt64(d[9]) << 8 | UInt64(d[11]) << 16 | UInt64(d[6]) << 24 | UInt64(d[8]) << 32 | UInt64(d[10]) << 40
        return AtaStatusReturn(extend: d[2] & 1 != 0, error: d[3], count: UInt16(d[4]) << 8 | UInt16(d[5]),
                               lba: lba, device: d[12], status: d[13])
    }

    /// The 18 bytes of fixed-format sense carrying these registers (SAT-4 §12.2.2.6), as some
    /// SATLs answer (used by simulated drives).
    public func fixedSenseBytes(senseKey: UInt8, asc: UInt8, ascq: UInt8) -> [UInt8] {
        var flags: UInt8 = extend ? 0x80 : 0
        if count > 0xFF { flags |= 0x40 }
        if lba > 0xFF_FFFF { flags |= 0x20 }
        return [0x70, 0, senseKey, error, status, device, UInt8(count & 0xFF), 10,
                flags, UInt8(lba & 0xFF), UInt8(lba >> 8 & 0xFF), UInt8(lba >> 16 & 0xFF), asc, ascq, 0, 0, 0, 0]
    }

    /// The 14 descriptor bytes (used by simulated drives).
    public var descriptorBytes: [UInt8] {
        func b(_ s: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: lba >> s) }
        return [0x09, 0x0C, extend ? 1 : 0, error, UInt8(count >> 8), UInt8(count & 0xFF),
                b(24), b(0), b(32), b(8), b(40), b(16), device, status]
    }

    /// STATUS bit 0 ERR or bit 5 DF (ACS-3 §6.2).
    public var isError: Bool { status & 0x01 != 0 || status & 0x20 != 0 }
    /// ERROR bit 2 ABRT.
    public var isAborted: Bool { error & 0x04 != 0 }
}

/// The SCSI INQUIRY standard data that identifies a drive (SPC-5 §6.7.2).
public struct ScsiInquiry: Sendable, Hashable, Codable {
    public var peripheralDeviceType: UInt8
    public var vendor: String
    public var product: String
    public var revision: String

    public static func decode(_ bytes: [UInt8]) throws -> ScsiInquiry {
        guard bytes.count >= 36 else { throw SanitizeError.malformed("INQUIRY", "\(bytes.count) bytes, 36 needed") }
        func text(_ range: Range<Int>) -> String {
            String(decoding: bytes[range], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        }
        return ScsiInquiry(peripheralDeviceType: bytes[0] & 0x1F, vendor: text(8..<16), product: text(16..<32), revision: text(32..<36))
    }
}

/// A SCSI drive's identity: INQUIRY, Unit Serial Number VPD page (80h), READ CAPACITY (16)
/// and which SANITIZE service actions REPORT SUPPORTED OPERATION CODES lists.
public struct ScsiIdentity: Sendable, Hashable, Codable {
    public var inquiry: ScsiInquiry
    public var serialNumber: String?
    public var logicalBlocks: UInt64?
    public var logicalBlockSize: Int?
    /// nil when the drive does not answer REPORT SUPPORTED OPERATION CODES.
    public var sanitizeOverwrite: Bool?
    public var sanitizeBlockErase: Bool?
    public var sanitizeCryptographicErase: Bool?

    public var capacityInBytes: UInt64? {
        guard let logicalBlocks, let logicalBlockSize else { return nil }
        return logicalBlocks * UInt64(logicalBlockSize)
    }

    /// Unit Serial Number page (SPC-5 §7.7.18): byte 1 = 80h, bytes 2-3 length, serial from byte 4.
    public static func decodeSerial(_ bytes: [UInt8]) -> String? {
        guard bytes.count >= 4, bytes[1] == 0x80 else { return nil }
        let length = min(Int(bytes.be16(2)), bytes.count - 4)
        let text = String(decoding: bytes[4..<(4 + length)].filter { $0 != 0 }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? nil : text
    }

    /// READ CAPACITY (16) data (SBC-4 §5.20.2): bytes 0-7 last LBA, 8-11 block length.
    public static func decodeCapacity(_ bytes: [UInt8]) -> (blocks: UInt64, blockSize: Int)? {
        guard bytes.count >= 12 else { return nil }
        let last = UInt64(bytes.be32(0)) << 32 | UInt64(bytes.be32(4))
        return (last + 1, Int(bytes.be32(8)))
    }

    /// One-command REPORT SUPPORTED OPERATION CODES data (SPC-5 §6.35.3): byte 1 bits 2:0
    /// SUPPORT — 011b supported as the standard says, 101b supported vendor-specifically,
    /// 001b not supported, 000b not available.
    public static func decodeSupport(_ bytes: [UInt8]) -> Bool? {
        guard bytes.count >= 2 else { return nil }
        switch bytes[1] & 0x07 {
        case 0b011, 0b101: return true
        case 0b001: return false
        default: return nil
        }
    }
}
