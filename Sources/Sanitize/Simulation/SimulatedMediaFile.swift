import Foundation

/// A regular file standing for a simulated drive's media: connect it to a simulated drive's
/// `onMediaChange` and every erase the drive performs changes the file the same way, so a
/// test can read it back through the bench's own block-I/O path (a `WipeTarget`).
public final class SimulatedMediaFile {
    public let path: String
    public let sectorSize: Int

    public init(path: String, sectorSize: Int = 512) {
        self.path = path
        self.sectorSize = sectorSize
    }

    /// Applies `change` to the file (synchronously, then fsync).
    public func apply(_ change: SimulatedMediaChange) {
        guard let handle = FileHandle(forUpdatingAtPath: path) else { return }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let chunk = 1 << 20
        var offset: UInt64 = 0
        var state: UInt64 = 0
        let limit: UInt64
        switch change {
        case .fill(_, let below), .scramble(_, let below):
            limit = below.map { min(size, $0 * UInt64(sectorSize)) } ?? size
        case .pattern:
            limit = size
        }
        if case .scramble(let seed, _) = change { state = seed | 1 }
        while offset < limit {
            let length = Int(min(UInt64(chunk), limit - offset))
            var bytes = [UInt8](repeating: 0, count: length)
            switch change {
            case .fill(let byte, _):
                for i in 0..<length { bytes[i] = byte }
            case .pattern(let pattern):
                // Each sector starts the pattern afresh (what ATA/NVMe/SCSI overwrite produce
                // for a pattern that divides the sector, as 4-byte patterns do).
                for i in 0..<length { bytes[i] = pattern[(Int(offset) + i) % sectorSize % max(pattern.count, 1)] }
            case .scramble:
                for i in 0..<length {
                    state ^= state << 13; state ^= state >> 7; state ^= state << 17
                    bytes[i] = UInt8(truncatingIfNeeded: state >> 24)
                }
            }
            try? handle.seek(toOffset: offset)
            try? handle.write(contentsOf: bytes)
            offset += UInt64(length)
        }
        try? handle.synchronize()
    }
}
