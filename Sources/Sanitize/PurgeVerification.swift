import ArdoiseSupport

/// What sampled read-back after a firmware erase must show (issue 6, `nist-800-88-purge`):
/// the engine reads the same sampled blocks before and after the erase and asks `check`.
public enum PurgeVerificationRule: Sendable, Hashable {
    /// Crypto erase (and erases whose content is vendor-defined): no sampled block may equal
    /// its content before the erase — so sample blocks that held written data (an SSD may
    /// return zeroes for a deallocated block both before and after).
    case noBlockEqualsBefore
    /// Every byte of every sampled block reads this value (ATA normal security erase writes
    /// binary zeroes, ACS-3 §7.45.5).
    case allBytes(UInt8)
    /// Each sampled block is uniform (one byte value repeated) and differs from before: block
    /// erase leaves the media in a vendor-specific erased state (often 00h or FFh).
    case uniformAndChanged
    /// The overwrite pattern repeated through each block, and the block changed (unless the
    /// content before already was the pattern).
    case pattern([UInt8])

    /// The rule for `method`. Overwrite patterns are compared as the 32-bit value repeated in
    /// little-endian byte order for ATA/NVMe (a dword written to memory) and big-endian for SCSI
    /// (the parameter list bytes); with INVERT between passes the final content is not
    /// predictable from here, so the check falls back to `noBlockEqualsBefore`.
    public static func rule(for method: FirmwareEraseMethod, options: FirmwareEraseOptions = FirmwareEraseOptions()) -> PurgeVerificationRule {
        let p = options.overwritePattern
        switch method {
        case .ataSanitizeCrypto, .nvmeSanitizeCrypto, .scsiSanitizeCrypto, .nvmeFormatCrypto,
             .ataSecurityEraseEnhanced, .nvmeFormatUserData, .scsiFormatSecure, .auto:
            return .noBlockEqualsBefore
        case .ataSecurityErase:
            return .allBytes(0)
        case .ataSanitizeBlock, .nvmeSanitizeBlock, .scsiSanitizeBlock:
            return .uniformAndChanged
        case .ataSanitizeOverwrite, .nvmeSanitizeOverwrite:
            if options.invertBetweenPasses { return .noBlockEqualsBefore }
            return .pattern([UInt8(p & 0xFF), UInt8(p >> 8 & 0xFF), UInt8(p >> 16 & 0xFF), UInt8(p >> 24)])
        case .scsiSanitizeOverwrite:
            if options.invertBetweenPasses { return .noBlockEqualsBefore }
            return .pattern([UInt8(p >> 24), UInt8(p >> 16 & 0xFF), UInt8(p >> 8 & 0xFF), UInt8(p & 0xFF)])
        }
    }

    /// The verdict on sampled blocks.
    public struct Verdict: Sendable, Hashable {
        public var passed: Bool
        /// Indexes of the samples that failed.
        public var failedSamples: [Int]
        public var message: LocalizedText
    }

    /// Checks `after` against `before` (same sample order; `before` may be empty for rules
    /// that do not need it). Pure function: no I/O.
    public func check(before: [[UInt8]], after: [[UInt8]]) -> Verdict {
        var failed: [Int] = []
        for (i, block) in after.enumerated() {
            let prior = i < before.count ? before[i] : nil
            let ok: Bool
            switch self {
            case .noBlockEqualsBefore:
                ok = prior != nil && block != prior!
            case .allBytes(let value):
                ok = block.allSatisfy { $0 == value }
            case .uniformAndChanged:
                // A block that was already uniform (never written, trimmed) cannot show a change.
                let priorUniform = prior.map { Set($0).count == 1 } ?? true
                ok = !block.isEmpty && Set(block).count == 1 && (priorUniform || block != prior!)
            case .pattern(let pattern):
                let matches = !pattern.isEmpty && block.indices.allSatisfy { block[$0] == pattern[$0 % pattern.count] }
                ok = matches
            }
            if !ok { failed.append(i) }
        }
        if after.isEmpty { failed = [0] }
        let passed = failed.isEmpty
        return Verdict(passed: passed, failedSamples: failed, message: passed
            ? .init(fr: "vérification par échantillons réussie (\(after.count) blocs)", en: "sampled verification passed (\(after.count) blocks)")
            : .init(fr: "vérification par échantillons ÉCHOUÉE : \(failed.count) bloc(s) sur \(after.count) ne sont pas effacés comme attendu ; rien n'est certifié",
                    en: "sampled verification FAILED: \(failed.count) of \(after.count) block(s) are not erased as expected; nothing is certified"))
    }
}
