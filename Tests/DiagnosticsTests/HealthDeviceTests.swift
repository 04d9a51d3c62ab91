import ArdoiseTestSupport
import DeviceKit
import Foundation
import Testing
import WipeEngine
@testable import Diagnostics

/// Wraps a real target and injects what a failing drive does: read errors on chosen ranges
/// and slow reads, the way the engine's fault-injection tests wrap their targets.
final class FaultInjectingTarget: WipeTarget, @unchecked Sendable {
    // Immutable after init; the scanner reads from one thread.
    let inner: any WipeTarget
    let badReadRanges: [ByteRange]
    let slowRanges: [(ByteRange, Double)]

    init(_ inner: any WipeTarget, badReadRanges: [ByteRange], slowRanges: [(ByteRange, Double)] = []) {
        self.inner = inner
        self.badReadRanges = badReadRanges
        self.slowRanges = slowRanges
    }

    var name: String { inner.name }
    var sizeInBytes: UInt64 { inner.sizeInBytes }
    var logicalSectorSize: Int { inner.logicalSectorSize }
    var bufferAlignment: Int { inner.bufferAlignment }

    func write(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws(WipeTargetError) {
        Issue.record("the surface scan wrote at \(offset)")
        throw .io(errno: EROFS, offset: offset)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(WipeTargetError) {
        let end = offset + UInt64(buffer.count)
        for (range, seconds) in slowRanges where range.start < end && offset < range.end {
            Thread.sleep(forTimeInterval: seconds)
        }
        if badReadRanges.contains(where: { $0.start < end && offset < $0.end }) { throw .io(errno: EIO, offset: offset) }
        try inner.read(into: buffer, at: offset)
    }

    func flush() throws(WipeTargetError) {}
    func checkIdentity() throws(WipeTargetError) { try inner.checkIdentity() }
}

@Suite(.serialized) struct HealthDeviceTests {
    static let size: UInt64 = 32 << 20

    @Test(.enabled(if: LoopDevice.isAvailable, "needs root and losetup"))
    func aLoopDeviceHasNoSmartSoItsHealthIsUnknown() throws {
        let loop = try LoopDevice(sizeInBytes: Self.size, fill: 0x5A)
        defer { loop.detach() }
        let check = HealthCheck(policy: try defaultPolicy())
        #expect(check.chosenDeviceType(for: loop.path) == nil)
        let report = try check.run(device: loop.path)
        #expect(report.verdict == .unknown)
        #expect(report.reasons.count == 1)
        #expect(report.reasons.first?.severity == "unknown")
        #expect(["smartctl_command_line_error", "smart_device_open_failed", "smart_unavailable"].contains(report.reasons.first?.code ?? ""))
        #expect(report.source.kind == "device")
        #expect(report.source.path == loop.path)
    }

    @Test(.enabled(if: LoopDevice.isAvailable, "needs root and losetup"))
    func surfaceScanReadsTheWholeLoopDevice() throws {
        let loop = try LoopDevice(sizeInBytes: Self.size, fill: 0x5A)
        defer { loop.detach() }
        let before = try Data(contentsOf: loop.backingFile)
        var check = HealthCheck(policy: try defaultPolicy())
        check.surface = SurfaceScanner(mode: .full, blockSize: 1 << 20)
        let report = try check.run(device: loop.path)
        let surface = try #require(report.surface)
        #expect(surface.mode == "full")
        #expect(surface.bytesPlanned == Self.size)
        #expect(surface.bytesRead == Self.size)
        #expect(surface.histogram.blocks == 32)
        #expect(surface.unreadableRanges.isEmpty)
        #expect(!surface.stoppedEarly)
        // SMART is still unknown; a clean surface does not make it "reuse".
        #expect(report.verdict == .unknown)
        // Read-only: the medium is byte for byte what it was.
        #expect(try Data(contentsOf: loop.backingFile) == before)
    }

    @Test(.enabled(if: LoopDevice.isAvailable, "needs root and losetup"))
    func injectedReadErrorsBecomeUnreadableRangesAndDiscard() throws {
        let loop = try LoopDevice(sizeInBytes: Self.size, fill: 0x00)
        defer { loop.detach() }
        let bad = [ByteRange(start: 5 << 20 | 8192, end: 5 << 20 | 16384), ByteRange(start: Self.size - 512, end: Self.size)]
        var check = HealthCheck(policy: try defaultPolicy())
        check.surface = SurfaceScanner(mode: .full, blockSize: 1 << 20)
        check.targetWrapper = { FaultInjectingTarget($0, badReadRanges: bad, slowRanges: [(ByteRange(start: 7 << 20, end: 7 << 20 | 4096), 0.06)]) }
        let report = try check.run(device: loop.path)
        let surface = try #require(report.surface)
        #expect(surface.unreadableRanges == bad)
        #expect(surface.unreadableBytes == 8192 + 512)
        #expect(surface.bytesRead == Self.size - 8192 - 512)
        #expect(surface.histogram.slowerThan50ms >= 1)
        #expect(surface.histogram.slowerThan500ms == 0)
        #expect(report.verdict == .discard)
        let reason = try #require(report.reason("surface_unreadable"))
        #expect(reason.value == .integer(17))  // 16 + 1 sectors of 512 bytes
        #expect(reason.threshold == .integer(1))
    }

    @Test(.enabled(if: LoopDevice.isAvailable, "needs root and losetup"))
    func sampledScanReadsFirstAndLastBlocks() throws {
        let loop = try LoopDevice(sizeInBytes: 256 << 20)
        defer { loop.detach() }
        let handle = try DriveAccess.openForReading(loop.path)
        defer { handle.close() }
        let bad = [ByteRange(start: 0, end: 512)]
        let scan = SurfaceScanner(mode: .sample(seed: 7), blockSize: 64 << 10)
            .scan(FaultInjectingTarget(ReadOnlyDriveTarget(handle: handle), badReadRanges: bad))
        #expect(scan.mode == "sample")
        #expect(scan.bytesPlanned < 256 << 20)
        #expect(scan.unreadableRanges == bad)
        #expect(scan.histogram.blocks > 1000)
    }

    @Test func surfaceScanStopsWhenTheDriveVanishes() throws {
        final class Vanishing: WipeTarget, @unchecked Sendable {
            var name: String { "gone" }
            var sizeInBytes: UInt64 { 8 << 20 }
            var logicalSectorSize: Int { 512 }
            var bufferAlignment: Int { 4096 }
            func write(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws(WipeTargetError) {}
            func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(WipeTargetError) {
                if offset >= 2 << 20 { throw .vanished(errno: ENODEV) }
            }
            func flush() throws(WipeTargetError) {}
            func checkIdentity() throws(WipeTargetError) {}
        }
        let scan = SurfaceScanner(blockSize: 1 << 20).scan(Vanishing())
        #expect(scan.stoppedEarly)
        #expect(scan.bytesRead == 2 << 20)
        #expect(scan.stopReason?.contains("vanished") == true)
        let report = HealthEvaluator(policy: try defaultPolicy()).evaluate(.unavailable(code: "smart_unavailable", detail: "-"),
                                                                         source: HealthSource(kind: "device", path: "gone"), surface: scan)
        #expect(report.verdict == .unknown)
        #expect(report.codes.contains("surface_scan_incomplete"))
    }
}

@Suite struct SurfaceRetryTests {
    /// A target in memory whose reads fail on given sectors, counting every read.
    final class CountingTarget: WipeTarget, @unchecked Sendable {
        // Counters are guarded by `lock`; the scanner calls from one thread.
        let lock = NSLock()
        var reads = 0
        let bad: [ByteRange]
        init(bad: [ByteRange]) { self.bad = bad }
        var name: String { "memory" }
        var sizeInBytes: UInt64 { 4 << 20 }
        var logicalSectorSize: Int { 4096 }
        var bufferAlignment: Int { 4096 }
        func write(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws(WipeTargetError) { throw .io(errno: EROFS, offset: offset) }
        func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(WipeTargetError) {
            lock.withLock { reads += 1 }
            let end = offset + UInt64(buffer.count)
            if bad.contains(where: { $0.start < end && offset < $0.end }) { throw .io(errno: EIO, offset: offset) }
        }
        func flush() throws(WipeTargetError) {}
        func checkIdentity() throws(WipeTargetError) {}
    }

    @Test func aBadSectorCostsOnePieceOfSectorReadsNotAWholeBlock() {
        let bad = [ByteRange(start: (1 << 20) + 8192, end: (1 << 20) + 12288)]
        let target = CountingTarget(bad: bad)
        let scan = SurfaceScanner(blockSize: 1 << 20).scan(target)
        #expect(scan.unreadableRanges == bad)
        #expect(scan.bytesRead == (4 << 20) - 4096)
        // 4 blocks, 16 pieces of the failing block, 16 sectors of the failing piece.
        #expect(target.lock.withLock { target.reads } == 4 + 16 + 16)
    }

    @Test func theScanStopsAfterTooManyUnreadableSectors() {
        let scan = SurfaceScanner(blockSize: 1 << 20, maxUnreadableSectors: 8).scan(CountingTarget(bad: [ByteRange(start: 0, end: 4 << 20)]))
        #expect(scan.stoppedEarly)
        #expect(scan.unreadableRanges == [ByteRange(start: 0, end: 8 * 4096)])
        #expect(scan.stopReason?.contains("too many") == true)
    }
}
