import Foundation

/// Parsed NVMe Identify Controller data (NVMe Base 2.0 §5.17.2.1, Figure 275).
public struct NvmeControllerIdentity: Sendable, Hashable, Codable {
    public var vendorID: UInt16              // bytes 0-1 VID
    public var subsystemVendorID: UInt16     // bytes 2-3 SSVID
    public var serialNumber: String          // bytes 4-23 SN
    public var model: String                 // bytes 24-63 MN
    public var firmwareRevision: String      // bytes 64-71 FR
    public var version: UInt32               // bytes 80-83 VER
    public var oacs: UInt16                  // bytes 256-257
    public var totalCapacityInBytes: UInt64  // bytes 280-295 TNVMCAP (low 64 bits)
    public var sanicap: UInt32               // bytes 328-331
    public var namespaceCount: UInt32        // bytes 516-519 NN
    public var fna: UInt8                    // byte 524

    /// OACS bit 1: Format NVM supported.
    public var supportsFormat: Bool { oacs & 0x2 != 0 }
    /// OACS bit 0: Security Send/Receive.
    public var supportsSecuritySendReceive: Bool { oacs & 0x1 != 0 }
    /// SANICAP bit 0 CES: Crypto Erase sanitize.
    public var sanitizeCryptoErase: Bool { sanicap & 0x1 != 0 }
    /// SANICAP bit 1 BES: Block Erase sanitize.
    public var sanitizeBlockErase: Bool { sanicap & 0x2 != 0 }
    /// SANICAP bit 2 OWS: Overwrite sanitize.
    public var sanitizeOverwrite: Bool { sanicap & 0x4 != 0 }
    /// SANICAP bit 29 NDI: No-Deallocate Inhibited.
    public var noDeallocateInhibited: Bool { sanicap & (1 << 29) != 0 }
    /// FNA bit 0: a format applies to all namespaces.
    public var formatAppliesToAllNamespaces: Bool { fna & 0x1 != 0 }
    /// FNA bit 1: a secure erase (SES≠0) applies to all namespaces.
    public var secureEraseAppliesToAllNamespaces: Bool { fna & 0x2 != 0 }
    /// FNA bit 2: cryptographic erase supported as part of Format (SES=2).
    public var formatCryptoEraseSupported: Bool { fna & 0x4 != 0 }
    /// FNA bit 3 (2.0): Format NVM with NSID FFFFFFFFh not supported.
    public var formatBroadcastUnsupported: Bool { fna & 0x8 != 0 }

    /// Parses the 4096-byte Identify Controller data. Strings are plain ASCII, space padded
    /// (not byte-swapped as in ATA).
    public static func parse(_ data: [UInt8]) throws -> NvmeControllerIdentity {
        guard data.count == 4096 else { throw SanitizeError.malformed("Identify Controller", "\(data.count) bytes, 4096 expected") }
        if data.allSatisfy({ $0 == 0 }) { throw SanitizeError.malformed("Identify Controller", "all bytes are zero") }
        func text(_ range: Range<Int>) -> String {
            String(decoding: data[range].map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        }
        return NvmeControllerIdentity(
            vendorID: data.le16(0), subsystemVendorID: data.le16(2),
            serialNumber: text(4..<24), model: text(24..<64), firmwareRevision: text(64..<72),
            version: data.le32(80), oacs: data.le16(256), totalCapacityInBytes: data.le64(280),
            sanicap: data.le32(328), namespaceCount: data.le32(516), fna: data[524])
    }
}

/// Parsed NVMe Identify Namespace data (NVMe NVM Command Set 1.0 §4.1.5.1): enough to keep the
/// current LBA format when formatting.
public struct NvmeNamespaceIdentity: Sendable, Hashable, Codable {
    public var sizeInBlocks: UInt64          // bytes 0-7 NSZE
    public var formattedLBASizeByte: UInt8   // byte 26 FLBAS
    public var dataProtectionSettings: UInt8 // byte 29 DPS
    public var blockSize: Int                // 2^LBADS of the current format

    /// Index of the current LBA format: FLBAS bits 3:0, plus bits 6:5 as bits 5:4 (NVMe 2.0).
    public var lbaFormatIndex: UInt8 { formattedLBASizeByte & 0x0F | (formattedLBASizeByte >> 5 & 0x3) << 4 }
    /// FLBAS bit 4: metadata transferred at the end of the data LBA (MSET for Format).
    public var extendedMetadata: Bool { formattedLBASizeByte & 0x10 != 0 }
    /// DPS bits 2:0: protection information type.
    public var protectionType: UInt8 { dataProtectionSettings & 0x7 }
    /// DPS bit 3: PI in the first bytes of metadata (PIL).
    public var protectionFirst: Bool { dataProtectionSettings & 0x8 != 0 }

    public static func parse(_ data: [UInt8]) throws -> NvmeNamespaceIdentity {
        guard data.count == 4096 else { throw SanitizeError.malformed("Identify Namespace", "\(data.count) bytes, 4096 expected") }
        let flbas = data[26]
        let index = Int(flbas & 0x0F | (flbas >> 5 & 0x3) << 4)
        // LBA Format n at bytes 128 + 4n: byte 2 LBADS (log2 of the block size).
        let lbads = Int(data[128 + 4 * index + 2])
        guard (9...16).contains(lbads) else {
            throw SanitizeError.malformed("Identify Namespace", "LBA format \(index) has LBADS \(lbads) (block size 2^\(lbads))")
        }
        return NvmeNamespaceIdentity(sizeInBlocks: data.le64(0), formattedLBASizeByte: flbas, dataProtectionSettings: data[29], blockSize: 1 << lbads)
    }
}

/// The NVMe Sanitize Status log page, LID 81h (NVMe Base 2.0 §5.16.1.25, Figure 287).
public struct NvmeSanitizeStatusLog: Sendable, Hashable, Codable {
    public enum Status: UInt8, Sendable, Codable {
        case neverSanitized = 0
        case succeeded = 1
        case inProgress = 2
        case failed = 3
        case succeededNoDeallocate = 4
    }

    /// SPROG, bytes 0-1: n/65536; FFFFh when no sanitize is in progress.
    public var progress: UInt16
    /// SSTAT bits 2:0.
    public var status: Status
    /// SSTAT bits 7:3: overwrite passes completed.
    public var overwritePassesCompleted: Int
    /// SSTAT bit 8: Global Data Erased (no user data written since the last sanitize/format).
    public var globalDataErased: Bool
    /// SCDW10, bytes 4-7: CDW10 of the sanitize that ran.
    public var sanitizeCDW10: UInt32
    /// Estimated seconds, bytes 8-11 overwrite, 12-15 block erase, 16-19 crypto erase; nil for FFFFFFFFh.
    public var estimatedOverwriteSeconds: UInt32?
    public var estimatedBlockEraseSeconds: UInt32?
    public var estimatedCryptoEraseSeconds: UInt32?

    public var progressFraction: Double? { status == .inProgress ? Double(progress) / 65536.0 : nil }

    public static func parse(_ data: [UInt8]) throws -> NvmeSanitizeStatusLog {
        guard data.count >= 20 else { throw SanitizeError.malformed("Sanitize Status log", "\(data.count) bytes, 512 expected") }
        let sstat = data.le16(2)
        guard let status = Status(rawValue: UInt8(sstat & 0x7)) else {
            throw SanitizeError.malformed("Sanitize Status log", "SSTAT status \(sstat & 0x7) is reserved")
        }
        func estimate(_ offset: Int) -> UInt32? { let v = data.le32(offset); return v == 0xFFFF_FFFF ? nil : v }
        return NvmeSanitizeStatusLog(progress: data.le16(0), status: status, overwritePassesCompleted: Int(sstat >> 3 & 0x1F),
                                     globalDataErased: sstat & 0x100 != 0, sanitizeCDW10: data.le32(4),
                                     estimatedOverwriteSeconds: estimate(8), estimatedBlockEraseSeconds: estimate(12),
                                     estimatedCryptoEraseSeconds: estimate(16))
    }
}
