import ArdoiseSupport
import Foundation
import WipeEngine

/// Read latencies of a surface scan, as MHDD and Victoria show them. Counts are cumulative:
/// a block slower than 500 ms also counts as slower than 150 ms and 50 ms.
public struct LatencyHistogram: Sendable, Equatable, Codable {
    public var blocks: UInt64 = 0
    public var slowerThan50ms: UInt64 = 0
    public var slowerThan150ms: UInt64 = 0
    public var slowerThan500ms: UInt64 = 0
    public var maxLatencyMilliseconds: Double = 0

    public init() {}

    mutating func record(milliseconds: Double) {
        blocks += 1
        if milliseconds >= 50 { slowerThan50ms += 1 }
        if milliseconds >= 150 { slowerThan150ms += 1 }
        if milliseconds >= 500 { slowerThan500ms += 1 }
        maxLatencyMilliseconds = max(maxLatencyMilliseconds, milliseconds)
    }
}

/// What a read-only surface scan found.
public struct SurfaceScanReport: Sendable, Equatable, Codable {
    /// `full` (every byte) or `sample` (NIST SP 800-88-style sub-sections, first and last blocks).
    public var mode: String
    public var bytesPlanned: UInt64
    public var bytesRead: UInt64
    /// Bytes per timed read (one histogram block).
    public var blockSize: Int
    public var sectorSize: Int
    public var histogram: LatencyHistogram
    /// Every range no read could return, at sector granularity, merged when adjacent.
    public var unreadableRanges: [ByteRange]
    /// True when the scan ended before its plan (drive gone, too many errors, cancelled).
    public var stoppedEarly: Bool
    public var stopReason: String?
    public var durationSeconds: Double

    public var unreadableBytes: UInt64 { unreadableRanges.reduce(0) { $0 + $1.count } }
}

/// Reads a target without ever writing to it, timing every block and pinning read errors
/// down to the sector. Works on any `WipeTarget` (a block device opened read-only, a file, a
/// test target that injects faults), through the same positioned-read calls the engine's
/// verification uses. Blocks the calling thread: run it on a dedicated thread.
public struct SurfaceScanner: Sendable {
    public enum Mode: Sendable, Equatable {
        case full
        /// NIST SP 800-88-style sampling (`SamplePlan.nist`); a target too small to sample is read whole.
        case sample(seed: UInt64)
    }

    public var mode: Mode
    /// Bytes per timed read; rounded down to whole sectors.
    public var blockSize: Int
    /// Unreadable sectors after which the scan stops (a dying drive would otherwise take days).
    public var maxUnreadableSectors: Int
    /// Called after each block with (bytes done, bytes planned); return false to stop.
    public var progress: (@Sendable (UInt64, UInt64) -> Bool)?

    public init(mode: Mode = .full, blockSize: Int = 1 << 20, maxUnreadableSectors: Int = 4096,
                progress: (@Sendable (UInt64, UInt64) -> Bool)? = nil) {
        self.mode = mode
        self.blockSize = blockSize
        self.maxUnreadableSectors = maxUnreadableSectors
        self.progress = progress
    }

    public func scan(_ target: any WipeTarget) -> SurfaceScanReport {
        let sector = max(target.logicalSectorSize, 1)
        let block = max(sector, blockSize / sector * sector)
        let size = target.sizeInBytes / UInt64(sector) * UInt64(sector)
        var ranges: [ByteRange]
        var modeName = "full"
        switch mode {
        case .full:
            ranges = [ByteRange(start: 0, end: size)]
        case .sample(let seed):
            if let plan = SamplePlan.nist(sizeInBytes: size, logicalSectorSize: sector, sampleLength: min(block, 64 << 10), seed: seed) {
                // The first and last blocks may coincide with a sub-section's sample: read each byte once.
                ranges = Self.merged(plan.ranges)
                modeName = "sample"
            } else {
                ranges = [ByteRange(start: 0, end: size)]
            }
        }
        let planned = ranges.reduce(UInt64(0)) { $0 + $1.count }
        let alignment = max(target.bufferAlignment, 16)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: block, alignment: alignment)
        defer { buffer.deallocate() }

        var histogram = LatencyHistogram()
        var unreadable: [ByteRange] = []
        var unreadableSectors = 0
        var bytesRead: UInt64 = 0
        var done: UInt64 = 0
        var stopReason: String?
        let clock = ContinuousClock()
        let started = clock.now

        scanning: for range in ranges {
            var offset = range.start
            while offset < range.end {
                let length = Int(min(UInt64(block), range.end - offset))
                let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length])
                let before = clock.now
                var failed = false
                do {
                    try target.read(into: slice, at: offset)
                } catch {
                    if case .vanished(let code) = error {
                        stopReason = "vanished (errno \(code))"
                        break scanning
                    }
                    if case .identityChanged(let detail) = error {
                        stopReason = "identity changed: \(detail)"
                        break scanning
                    }
                    failed = true
                }
                histogram.record(milliseconds: (clock.now - before).seconds * 1000)
                if failed {
                    // Pin the error down as the engine's retry does: 64 KiB pieces, then the
                    // sectors of each piece that failed (a good sector is read once or twice,
                    // not a whole block sector by sector).
                    let piece = max(sector, min(block, 64 << 10) / sector * sector)
                    var pieceStart = offset
                    let end = offset + UInt64(length)
                    while pieceStart < end {
                        let pieceLength = Int(min(UInt64(piece), end - pieceStart))
                        let whole = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<pieceLength])
                        var pieceFailed = false
                        do {
                            try target.read(into: whole, at: pieceStart)
                            bytesRead += UInt64(pieceLength)
                        } catch {
                            if case .vanished(let code) = error {
                                stopReason = "vanished (errno \(code))"
                                break scanning
                            }
                            pieceFailed = true
                        }
                        var position = pieceStart
                        while pieceFailed, position < pieceStart + UInt64(pieceLength) {
                            let one = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<sector])
                            do {
                                try target.read(into: one, at: position)
                                bytesRead += UInt64(sector)
                            } catch {
                                if case .vanished(let code) = error {
                                    stopReason = "vanished (errno \(code))"
                                    break scanning
                                }
                                Self.appendMerging(&unreadable, ByteRange(start: position, end: position + UInt64(sector)))
                                unreadableSectors += 1
                                if unreadableSectors >= maxUnreadableSectors {
                                    stopReason = "too many unreadable sectors (\(unreadableSectors))"
                                    break scanning
                                }
                            }
                            position += UInt64(sector)
                        }
                        pieceStart += UInt64(pieceLength)
                    }
                } else {
                    bytesRead += UInt64(length)
                }
                offset += UInt64(length)
                done += UInt64(length)
                if let progress, !progress(done, planned) {
                    stopReason = "cancelled"
                    break scanning
                }
            }
        }
        return SurfaceScanReport(
            mode: modeName, bytesPlanned: planned, bytesRead: bytesRead, blockSize: block, sectorSize: sector,
            histogram: histogram, unreadableRanges: unreadable, stoppedEarly: stopReason != nil, stopReason: stopReason,
            durationSeconds: (clock.now - started).seconds)
    }

    /// Sorted, with overlapping or touching ranges joined.
    static func merged(_ ranges: [ByteRange]) -> [ByteRange] {
        var result: [ByteRange] = []
        for range in ranges.sorted(by: { $0.start < $1.start }) {
            if let last = result.last, range.start <= last.end {
                result[result.count - 1].end = max(last.end, range.end)
            } else {
                result.append(range)
            }
        }
        return result
    }

    static func appendMerging(_ ranges: inout [ByteRange], _ range: ByteRange) {
        if let last = ranges.last, last.end == range.start {
            ranges[ranges.count - 1].end = range.end
        } else {
            ranges.append(range)
        }
    }
}
