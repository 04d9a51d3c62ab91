import ArdoiseSupport
import ErasureRecords
import Crypto
import Foundation
import Synchronization

// Verification of `JobRunner`: full read-back and NIST/percent samples of a pass.
extension JobRunner {
    // MARK: Verification

    func verify(_ pass: PlannedPass, record: inout PassRecord) throws(JobStop) -> VerificationRecord {
        let clock = ContinuousClock()
        let start = clock.now
        let mode = pass.specification.verification
        emit(.verificationStarted(pass: pass.index, mode: mode.description))
        let sampleSeed = PassPlanner.choiceSeed(seed: options.seed, label: "ardoise.samples", index: pass.index)
        let plan = SamplePlan.forMode(mode, sizeInBytes: size, logicalSectorSize: sector, sampleLength: options.sampleLength, seed: sampleSeed)
        var result: VerificationRecord
        if let plan {
            result = try verifySamples(pass, plan: plan, knownBad: record.badRanges, errors: &record.ioErrorCount)
            result.mode = mode.description
        } else {
            result = try verifyFull(pass, knownBad: record.badRanges, errors: &record.ioErrorCount)
            result.mode = mode.description
            if mode != .full {
                result.sampleDescription = "target too small to sample: read in full"
            }
        }
        result.durationSeconds = (clock.now - start).seconds
        return result
    }

    /// Reads everything with the I/O threads; each thread compares the chunk it has just read
    /// in its own buffer, so a chunk is never handed to another thread (no queue, no wake-up,
    /// and the comparisons of several chunks run on several cores, as the reads do).
    ///
    /// Chunks are taken in order and a thread stops taking new ones once `maxRecordedBadOffsets`
    /// were found, but always finishes the chunk it holds: the chunks compared are then a prefix
    /// of the target, so the sorted first offsets are the target's first bad offsets whatever
    /// the thread timing.
    func verifyFull(_ pass: PlannedPass, knownBad: [ByteRange], errors: inout Int) throws(JobStop) -> VerificationRecord {
        let (stride, staticFill) = stride(for: pass)
        let chunkCount = Int((size + UInt64(stride) - 1) / UInt64(stride))
        withMeter { $0.beginPhase(pass: pass.index, phase: .verifying, total: size) }
        let source = pass.source
        // Expected bytes of a multi-byte pattern (a one-byte pattern is compared without a copy).
        let expected: AlignedBuffer? = staticFill && (source.fixedBytes?.count ?? 0) > 1 ? AlignedBuffer(count: stride, alignment: alignment) : nil
        if let expected { source.fill(expected.mutableBytes, at: 0) }
        let findings = Mutex(Findings())
        let limit = options.maxRecordedBadOffsets
        let sectorSize = sector
        let total = size
        let passIndex = pass.index
        let alignment = self.alignment
        let ledger = PhaseLedger(chunkCount: chunkCount)
        runIOThreads(verifyThreadCount, name: "ardoise-read") { thread in
            let buffer = AlignedBuffer.forLargeIO(count: stride, alignment: alignment)
            let scratch = self.retryScratch()
            // Expected stream bytes for `compare` (only stream passes use it).
            let workScratch = AlignedBuffer(count: WipeOptions.compareScratchSize, alignment: alignment)
            self.waitAtStartGate()
            // A thread beyond the job's share ends when more jobs have started since this
            // phase began (the first thread always stays, and chunks are taken one at a time).
            while !ledger.isStopped, thread < self.verifyThreadCount {
                if findings.withLock({ $0.badOffsets.count >= limit }) { return }
                if self.isCancelled() { ledger.stop(self.cancelledStop(pass: passIndex)); return }
                guard let chunk = ledger.takeChunk() else { return }
                let offset = UInt64(chunk) * UInt64(stride)
                let length = Int(min(UInt64(stride), total - offset))
                var skip = knownBad.compactMap { range -> ByteRange? in
                    let start = max(range.start, offset), end = min(range.end, offset + UInt64(length))
                    return start < end ? ByteRange(start: start, end: end) : nil
                }
                do throws(WipeTargetError) {
                    try self.target.read(into: buffer.mutableBytes(count: length), at: offset)
                    self.resetConsecutiveErrors()
                } catch {
                    guard case .io = error else { ledger.stop(self.stop(for: error, pass: passIndex)); return }
                    var failed: [ByteRange] = []
                    var retryErrors = 1
                    do throws(JobStop) {
                        _ = try self.retry(.read, buffer: buffer, length: length, offset: offset, pass: passIndex, scratch: scratch,
                                           failed: &failed, errors: &retryErrors)
                    } catch {
                        ledger.add(bytes: 0, errors: retryErrors, failed: failed)
                        ledger.stop(error)
                        return
                    }
                    ledger.add(bytes: 0, errors: retryErrors, failed: failed)
                    skip += failed
                }
                skip.sort { $0.start < $1.start }
                let bad = Self.compare(buffer.bytes(count: length), at: offset, source: source, expected: expected,
                                       skip: skip, sector: sectorSize, limit: limit, scratch: workScratch.mutableBytes)
                let skipped = skip.reduce(0) { $0 + $1.count }
                findings.withLock {
                    $0.compared += UInt64(length) - skipped
                    $0.badOffsets.append(contentsOf: bad)
                }
                self.withMeter { $0.advance(UInt64(length)) }
            }
        }
        let result = ledger.result
        errors += result.errors
        if let stop = result.stop { throw stop }
        var unreadable: [ByteRange] = []
        for range in result.failed.sorted(by: { $0.start < $1.start }) { unreadable.appendMerging(range) }
        let found = findings.withLock { $0 }
        return VerificationRecord(
            mode: "full", result: !found.badOffsets.isEmpty ? .failed : (unreadable.isEmpty ? .passed : .incomplete),
            bytesCompared: found.compared, firstBadOffsets: Array(found.badOffsets.sorted().prefix(limit)),
            unreadableRanges: unreadable)
    }

    func verifySamples(_ pass: PlannedPass, plan: SamplePlan, knownBad: [ByteRange], errors: inout Int) throws(JobStop) -> VerificationRecord {
        withMeter { $0.beginPhase(pass: pass.index, phase: .verifying, total: UInt64(plan.ranges.count * plan.sampleLength), countsTowardTotal: false) }
        let buffer = scratchForSamples(length: plan.sampleLength)
        waitAtStartGate()
        var compared: UInt64 = 0
        var badOffsets: [UInt64] = []
        var unreadable: [ByteRange] = []
        for range in plan.ranges {
            try checkCancelled(pass: pass.index)
            let length = Int(range.count)
            var skip = knownBad.compactMap { bad -> ByteRange? in
                let start = max(bad.start, range.start), end = min(bad.end, range.end)
                return start < end ? ByteRange(start: start, end: end) : nil
            }
            do {
                try target.read(into: buffer.mutableBytes(count: length), at: range.start)
                resetConsecutiveErrors()
            } catch {
                guard case .io = error else { throw stop(for: error, pass: pass.index) }
                errors += 1
                var failed: [ByteRange] = []
                _ = try retry(.read, buffer: buffer, length: length, offset: range.start, pass: pass.index, scratch: scratch, failed: &failed, errors: &errors)
                for bad in failed { unreadable.appendMerging(bad) }
                skip += failed
            }
            let bad = Self.compare(buffer.bytes(count: length), at: range.start, source: pass.source, expected: nil,
                                   skip: skip.sorted { $0.start < $1.start }, sector: sector,
                                   limit: options.maxRecordedBadOffsets - badOffsets.count, scratch: compareScratch.mutableBytes)
            badOffsets += bad
            compared += UInt64(length) - skip.reduce(0) { $0 + $1.count }
            withMeter { $0.advance(UInt64(length)) }
            if badOffsets.count >= options.maxRecordedBadOffsets { break }
        }
        return VerificationRecord(
            mode: "", result: !badOffsets.isEmpty ? .failed : (unreadable.isEmpty ? .passed : .incomplete),
            bytesCompared: compared, sampleCount: plan.ranges.count, sampleLength: plan.sampleLength,
            sampleDescription: plan.description,
            sampleOffsets: plan.ranges.count <= options.maxRecordedSampleOffsets ? plan.ranges.map(\.start) : nil,
            firstBadOffsets: badOffsets, unreadableRanges: unreadable)
    }

    func scratchForSamples(length: Int) -> AlignedBuffer {
        if let sampleBuffer, sampleBuffer.count >= length { return sampleBuffer }
        let buffer = AlignedBuffer(count: (length + alignment - 1) / alignment * alignment, alignment: alignment)
        sampleBuffer = buffer
        return buffer
    }

    /// Offsets of the first mismatching byte of each bad sector (at most `limit`), skipping
    /// `skip` (absolute ranges whose content is already known to be bad).
    static func compare(_ data: UnsafeRawBufferPointer, at offset: UInt64, source: PassDataSource, expected: AlignedBuffer?,
                        skip: [ByteRange], sector: Int, limit: Int, scratch: UnsafeMutableRawBufferPointer) -> [UInt64] {
        guard limit > 0, let base = data.baseAddress else { return [] }
        var bad: [UInt64] = []
        var position = 0
        var skipIndex = 0
        while position < data.count, bad.count < limit {
            let absolute = offset + UInt64(position)
            while skipIndex < skip.count, skip[skipIndex].end <= absolute { skipIndex += 1 }
            var segmentEnd = data.count
            if skipIndex < skip.count {
                if skip[skipIndex].start <= absolute {
                    position = Int(skip[skipIndex].end - offset)
                    continue
                }
                segmentEnd = Int(skip[skipIndex].start - offset)
            }
            let segment = UnsafeRawBufferPointer(start: base + position, count: segmentEnd - position)
            let mismatch: Int?
            if let bytes = source.fixedBytes, bytes.count == 1 {
                // One byte everywhere (zero passes): read only the data, not an expected copy.
                mismatch = firstDifference(segment, fromByte: bytes[0])
            } else if let expected {
                // Static fill: the chunk starts at phase 0, so the expected byte sits at the same position.
                mismatch = firstDifference(segment, UnsafeRawBufferPointer(start: expected.pointer + position, count: segment.count))
            } else {
                mismatch = source.firstMismatch(in: segment, at: absolute, scratch: scratch)
            }
            guard let mismatch else {
                position = segmentEnd
                continue
            }
            bad.append(absolute + UInt64(mismatch))
            // Next sector after the bad byte: one offset per bad sector.
            let badPosition = position + mismatch
            position = (badPosition / sector + 1) * sector
            if position <= badPosition { position = badPosition + 1 }
        }
        return bad
    }

    /// Index of the first byte of `data` that is not `byte`. Whole 4 KiB blocks are checked
    /// with an OR of XORs over 64-bit words, which the compiler vectorizes.
    static func firstDifference(_ data: UnsafeRawBufferPointer, fromByte byte: UInt8) -> Int? {
        guard let base = data.baseAddress else { return nil }
        let word = UInt64(byte) &* 0x0101_0101_0101_0101
        let blockSize = 4096
        var position = 0
        while position + blockSize <= data.count {
            var difference: UInt64 = 0
            var offset = 0
            while offset < blockSize {
                difference |= base.loadUnaligned(fromByteOffset: position &+ offset, as: UInt64.self) ^ word
                offset &+= 8
            }
            if difference != 0 { break }
            position += blockSize
        }
        while position < data.count {
            if data[position] != byte { return position }
            position += 1
        }
        return nil
    }

    static func firstDifference(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Int? {
        guard let left = lhs.baseAddress, let right = rhs.baseAddress else { return nil }
        if memcmp(left, right, lhs.count) == 0 { return nil }
        for index in 0..<lhs.count where lhs[index] != rhs[index] { return index }
        return nil
    }
}
