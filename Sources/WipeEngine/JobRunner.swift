import ArdoiseSupport
import Crypto
import Foundation
import Synchronization

/// The end of a job before its last pass, carried up from wherever it was decided.
struct JobStop: Error {
    let status: WipeStatus
}

/// Runs one job's passes on the job's own thread; everything here blocks.
///
/// Sendable by hand: during a pass, the I/O threads share `meter` and
/// `consecutiveSectorErrors` under `lock`; everything else is written only by the job thread
/// between passes.
final class JobRunner: @unchecked Sendable {
    let profile: WipeProfile
    let target: any WipeTarget
    let options: WipeOptions
    let plan: [PlannedPass]
    let isCancelled: @Sendable () -> Bool
    let emit: @Sendable (WipeEvent) -> Void

    private let size: UInt64
    private let sector: Int
    private let alignment: Int
    /// Aligned scratch for retries and samples (`retryIOSize` or the sample length, whichever is larger).
    private let scratch: AlignedBuffer
    /// Expected data for samples and unaligned comparisons.
    private let compareScratch: AlignedBuffer
    private var consecutiveSectorErrors = 0
    private var meter: ProgressMeter
    private let lock = NSLock()

    init(profile: WipeProfile, target: any WipeTarget, options: WipeOptions, plan: [PlannedPass],
         isCancelled: @escaping @Sendable () -> Bool, emit: @escaping @Sendable (WipeEvent) -> Void) {
        self.profile = profile
        self.target = target
        self.options = options
        self.plan = plan
        self.isCancelled = isCancelled
        self.emit = emit
        size = target.sizeInBytes
        sector = target.logicalSectorSize
        alignment = max(target.bufferAlignment, 4096)
        let scratchSize = max(options.retryIOSize, options.sampleLength, sector) + sector
        scratch = AlignedBuffer(count: (scratchSize + alignment - 1) / alignment * alignment, alignment: alignment)
        compareScratch = AlignedBuffer(count: WipeOptions.compareScratchSize, alignment: alignment)
        var totalWork: UInt64 = 0
        for pass in plan where pass.index >= options.firstPass {
            if pass.specification.writes { totalWork += target.sizeInBytes }
            if pass.specification.verification == .full { totalWork += target.sizeInBytes }
        }
        meter = ProgressMeter(totalWork: totalWork, passCount: plan.count, interval: options.progressInterval, emit: emit)
    }

    func run() -> WipeReport {
        let startedAt = Date()
        let clock = ContinuousClock()
        let start = clock.now
        emit(.jobStarted(target: target.name, sizeInBytes: size, profile: profile.name, passCount: plan.count))
        var records: [PassRecord] = []
        var status: WipeStatus = .completed
        do {
            // A resumed job skips the passes its earlier job completed.
            for pass in plan where pass.index >= options.firstPass {
                var record = pass.record
                defer { records.append(record) }
                try runPass(pass, record: &record)
                options.passHook?(record)
                emit(.passFinished(record))
                if !record.badRanges.isEmpty || !(record.verification?.unreadableRanges.isEmpty ?? true) {
                    status = .completedWithExceptions
                }
            }
        } catch {
            status = error.status
        }
        let elapsed = (clock.now - start).seconds
        let written = records.reduce(0) { $0 + $1.bytesWritten }
        let verified = records.reduce(0) { $0 + ($1.verification?.bytesCompared ?? 0) }
        let report = WipeReport(
            targetName: target.name, targetSizeInBytes: size, logicalSectorSize: sector,
            profileName: profile.name, profileTitle: profile.title, standard: profile.standard, reading: profile.reading,
            nistCategory: profile.nistCategory, onError: profile.onError, status: status, passes: records,
            plannedPassCount: plan.count, startedAt: startedAt, endedAt: Date(),
            totalBytesWritten: written, totalBytesVerified: verified,
            averageBytesPerSecond: elapsed > 0 ? Double(written + verified) / elapsed : 0,
            seedSHA256: Array(SHA256.hash(data: options.seed)).hexString, bufferSize: options.bufferSize)
        return report
    }

    // MARK: Pass

    private func runPass(_ pass: PlannedPass, record: inout PassRecord) throws(JobStop) {
        try checkCancelled(pass: pass.index)
        try checkIdentity(pass: pass.index)
        emit(.passStarted(index: pass.index, count: plan.count, description: pass.summary))
        resetConsecutiveErrors()
        let clock = ContinuousClock()
        let start = clock.now
        record.startedAt = Date()
        var writeSeconds: Double?
        // Durations and rates are recorded however the pass ends (a stopped pass still reports what it did).
        defer {
            record.endedAt = Date()
            record.durationSeconds = (clock.now - start).seconds
            let seconds = writeSeconds ?? record.durationSeconds
            record.bytesPerSecond = seconds > 0 ? Double(record.bytesWritten) / seconds : 0
        }
        if pass.specification.writes {
            try writePass(pass, record: &record)
            do {
                try target.flush()
            } catch {
                throw stop(for: error, pass: pass.index, flushing: true)
            }
            if !record.badRanges.isEmpty, profile.onError == .abort {
                throw JobStop(status: .failed(WipeStopReason(
                    code: .ioErrorAbort,
                    message: LocalizedText(fr: "secteurs impossibles à écrire ; le profil demande l'arrêt", en: "sectors could not be written; the profile says abort"),
                    pass: pass.index, offset: record.badRanges.first?.start)))
            }
        }
        writeSeconds = (clock.now - start).seconds
        if pass.specification.verification != .none {
            let verification: VerificationRecord
            do {
                try checkIdentity(pass: pass.index)
                verification = try verify(pass, record: &record)
            } catch {
                record.verification = VerificationRecord(mode: pass.specification.verification.description, result: .notRun)
                throw error
            }
            record.verification = verification
            emit(.verificationFinished(pass: pass.index, verification))
            if verification.result == .failed {
                throw JobStop(status: .failed(WipeStopReason(
                    code: .verificationMismatch,
                    message: LocalizedText(fr: "la relecture ne correspond pas à ce qui a été écrit", en: "read-back data differs from what was written"),
                    pass: pass.index, offset: verification.firstBadOffsets.first)))
            }
            if !verification.unreadableRanges.isEmpty, profile.onError == .abort {
                throw JobStop(status: .failed(WipeStopReason(
                    code: .ioErrorAbort,
                    message: LocalizedText(fr: "secteurs illisibles à la vérification ; le profil demande l'arrêt", en: "sectors unreadable during verification; the profile says abort"),
                    pass: pass.index, offset: verification.unreadableRanges.first?.start)))
            }
        }
        record.completed = true
    }

    /// Bytes per I/O: a multiple of the sector size and, for a fixed pattern, of its period,
    /// so every chunk starts at pattern phase 0 and one pre-filled buffer serves every write
    /// (and, read back, every comparison).
    ///
    /// Writes of a fixed pattern (`writing`) are capped at `staticWriteSize`: the writers send
    /// the same pre-filled buffer again and again, and a buffer that small stays in the CPU's
    /// cache, so the copy the kernel makes of it (loop device, page cache, bounce buffers)
    /// reads cache instead of memory. Measured with bench/ab.sh on loop devices (1 MiB against
    /// 4 MiB): about +10 % on a zero pass, tmpfs- and disk-backed, one drive or four. A real
    /// drive's DMA does not care, and 1 MiB sequential writes with several in flight are what
    /// fio's reference load uses. Reads and generated data keep `bufferSize`, which measured
    /// better for them (fewer, larger reads; the generator works in large blocks).
    private func stride(for pass: PlannedPass, writing: Bool = false) -> (stride: Int, staticFill: Bool) {
        let base = options.bufferSize - options.bufferSize % sector
        guard let bytes = pass.fixedPattern else { return (base, false) }
        let unit = lcm(lcm(sector, bytes.count), 16)
        guard unit <= base else { return (base, false) }
        let limit = writing ? max(min(base, Self.staticWriteSize), unit) : base
        return (limit - limit % unit, true)
    }

    /// Bytes per write of a pre-filled pattern buffer (see `stride(for:writing:)`).
    static let staticWriteSize = 1 << 20

    /// I/O threads for this target: several writes or reads in flight keep a queue-based
    /// device (loop, NVMe) busy, as fio's iodepth does; one when the target is not thread-safe.
    private var ioThreadCount: Int {
        target.supportsConcurrentIO ? options.ioThreads : 1
    }

    /// Writers of generated data: fewer than for a pre-filled pattern, because each holds a
    /// buffer of the ring (`WipeOptions.streamWriterCount`), and the generator, not the
    /// queue depth, is what limits a stream pass.
    private var streamWriterCount: Int {
        target.supportsConcurrentIO ? options.streamWriterCount : 1
    }

    /// Threads of a full verification: each one reads a chunk, then compares it. Two keep a
    /// read in flight while the other thread compares (8 MiB queued with the default buffer);
    /// more add no depth the device needs but compete with the comparisons for the cores.
    /// Measured with bench/ab.sh on a 2 GiB loop device: 2 threads read 5–20 % faster than 4.
    private var verifyThreadCount: Int {
        min(ioThreadCount, 2)
    }

    /// Runs `body(thread index)` on `count` threads (the calling one included) and waits for all.
    private func runIOThreads(_ count: Int, name: String, _ body: @escaping @Sendable (Int) -> Void) {
        let helpers = (1..<max(count, 1)).map { index in
            WorkerThread(name: "\(name)-\(index)") { body(index) }
        }
        body(0)
        helpers.forEach { $0.join() }
    }

    private func retryScratch() -> AlignedBuffer {
        let size = max(options.retryIOSize, sector)
        return AlignedBuffer(count: (size + alignment - 1) / alignment * alignment, alignment: alignment)
    }

    private func writePass(_ pass: PlannedPass, record: inout PassRecord) throws(JobStop) {
        let (stride, staticFill) = stride(for: pass, writing: true)
        let chunkCount = Int((size + UInt64(stride) - 1) / UInt64(stride))
        withMeter { $0.beginPhase(pass: pass.index, phase: .writing, total: size) }
        let threads = ioThreadCount
        let ledger = PhaseLedger(chunkCount: chunkCount)
        let total = size
        let passIndex = pass.index
        if staticFill {
            // One pre-filled buffer, only read by the writers, and shared with the other
            // jobs of the process writing the same pattern.
            let buffer = SharedPatternBuffers.buffer(pattern: pass.fixedPattern ?? [], count: stride, alignment: alignment) {
                pass.source.fill($0.mutableBytes, at: 0)
            }
            runIOThreads(threads, name: "ardoise-write") { _ in
                let scratch = self.retryScratch()
                while !ledger.isStopped, let chunk = ledger.takeChunk() {
                    if self.isCancelled() { ledger.stop(self.cancelledStop(pass: passIndex)); return }
                    let offset = UInt64(chunk) * UInt64(stride)
                    let length = Int(min(UInt64(stride), total - offset))
                    self.writeChunk(buffer, length: length, offset: offset, pass: passIndex, scratch: scratch, ledger: ledger)
                }
            }
        } else {
            // Generated data: a generator thread fills the ring while the writers write. The
            // ring is the job's memory (`WipeOptions.streamRingBufferCount` buffers).
            let source = pass.source
            let ring = BufferRing(buffers: (0..<options.streamRingBufferCount).map { _ in
                AlignedBuffer.forLargeIO(count: stride, alignment: alignment)
            })
            let generator = WorkerThread(name: "ardoise-gen-\(pass.index)") {
                for chunk in 0..<chunkCount {
                    guard let buffer = ring.acquireFree() else { return }
                    let offset = UInt64(chunk) * UInt64(stride)
                    let length = Int(min(UInt64(stride), total - offset))
                    source.fill(buffer.mutableBytes(count: (length + 15) & ~15), at: offset)
                    ring.submit(.init(buffer: buffer, chunk: chunk, skip: []))
                }
                ring.finishProducing()
            }
            runIOThreads(streamWriterCount, name: "ardoise-write") { _ in
                let scratch = self.retryScratch()
                while !ledger.isStopped, let item = ring.acquireSubmitted() {
                    if self.isCancelled() { ledger.stop(self.cancelledStop(pass: passIndex)); break }
                    let offset = UInt64(item.chunk) * UInt64(stride)
                    let length = Int(min(UInt64(stride), total - offset))
                    self.writeChunk(item.buffer, length: length, offset: offset, pass: passIndex, scratch: scratch, ledger: ledger)
                    ring.release(item.buffer)
                }
                // A stopping writer wakes the others and the generator.
                if ledger.isStopped { ring.close() }
            }
            ring.close()
            generator.join()
        }
        let result = ledger.result
        record.bytesWritten += result.bytes
        record.ioErrorCount += result.errors
        for range in result.failed.sorted(by: { $0.start < $1.start }) { record.badRanges.appendMerging(range) }
        if let stop = result.stop { throw stop }
    }

    /// Writes one chunk; on an I/O error retries it piece by piece. Results and stops go to `ledger`.
    private func writeChunk(_ buffer: AlignedBuffer, length: Int, offset: UInt64, pass: Int, scratch: AlignedBuffer, ledger: PhaseLedger) {
        // Another I/O thread may have stopped the phase (drive gone) since this chunk was taken.
        if ledger.isStopped { return }
        do {
            try target.write(buffer.bytes(count: length), at: offset)
            resetConsecutiveErrors()
            ledger.add(bytes: UInt64(length))
        } catch {
            guard case .io = error else { ledger.stop(stop(for: error, pass: pass)); return }
            var failed: [ByteRange] = []
            var errors = 1
            do {
                let good = try retry(.write, buffer: buffer, length: length, offset: offset, pass: pass, scratch: scratch,
                                     failed: &failed, errors: &errors)
                ledger.add(bytes: good, errors: errors, failed: failed)
            } catch {
                ledger.add(bytes: 0, errors: errors, failed: failed)
                ledger.stop(error)
                return
            }
        }
        withMeter { $0.advance(UInt64(length)) }
    }

    private enum Direction { case write, read }

    /// After a failed I/O: check the drive is still the same one, then redo the range in
    /// `retryIOSize` pieces and the failing pieces sector by sector, through the aligned
    /// `scratch` buffer. Returns the bytes that succeeded; `failed` gets the sectors that did not.
    private func retry(_ direction: Direction, buffer: AlignedBuffer, length: Int, offset: UInt64, pass: Int, scratch: AlignedBuffer,
                       failed: inout [ByteRange], errors: inout Int) throws(JobStop) -> UInt64 {
        try checkIdentity(pass: pass)
        var good: UInt64 = 0
        let pieceSize = max(sector, min(scratch.count, options.retryIOSize) / sector * sector)
        var position = 0
        while position < length {
            try checkCancelled(pass: pass)
            let pieceLength = min(pieceSize, length - position)
            if (try? transfer(direction, buffer: buffer, position: position, length: pieceLength, offset: offset, scratch: scratch)) != nil {
                good += UInt64(pieceLength)
                resetConsecutiveErrors()
            } else {
                errors += 1
                var sectorPosition = position
                while sectorPosition < position + pieceLength {
                    do {
                        try transfer(direction, buffer: buffer, position: sectorPosition, length: sector, offset: offset, scratch: scratch)
                        good += UInt64(sector)
                        resetConsecutiveErrors()
                    } catch {
                        guard case .io = error else { throw stop(for: error, pass: pass) }
                        errors += 1
                        let start = offset + UInt64(sectorPosition)
                        failed.appendMerging(ByteRange(start: start, end: start + UInt64(sector)))
                        let inARow = countConsecutiveError()
                        if inARow >= options.maxConsecutiveSectorErrors {
                            throw JobStop(status: .interrupted(WipeStopReason(
                                code: .repeatedIOErrors,
                                message: LocalizedText(fr: "\(inARow) secteurs en erreur d'affilée : disque considéré comme perdu",
                                                       en: "\(inARow) sectors failed in a row: the drive is treated as gone"),
                                pass: pass, offset: start)))
                        }
                        try checkIdentity(pass: pass)
                    }
                    sectorPosition += sector
                }
            }
            position += pieceLength
        }
        return good
    }

    /// One retry I/O of `length` bytes at `buffer[position]`, through the aligned scratch.
    private func transfer(_ direction: Direction, buffer: AlignedBuffer, position: Int, length: Int, offset: UInt64,
                          scratch: AlignedBuffer) throws(WipeTargetError) {
        let absolute = offset + UInt64(position)
        switch direction {
        case .write:
            scratch.pointer.copyMemory(from: buffer.pointer + position, byteCount: length)
            try target.write(scratch.bytes(count: length), at: absolute)
        case .read:
            try target.read(into: scratch.mutableBytes(count: length), at: absolute)
            (buffer.pointer + position).copyMemory(from: scratch.pointer, byteCount: length)
        }
    }

    // MARK: Shared state of the I/O threads

    private func withMeter(_ body: (inout ProgressMeter) -> Void) {
        lock.lock()
        body(&meter)
        lock.unlock()
    }

    private func resetConsecutiveErrors() {
        lock.lock()
        consecutiveSectorErrors = 0
        lock.unlock()
    }

    private func countConsecutiveError() -> Int {
        lock.lock()
        defer { lock.unlock() }
        consecutiveSectorErrors += 1
        return consecutiveSectorErrors
    }

    // MARK: Verification

    private func verify(_ pass: PlannedPass, record: inout PassRecord) throws(JobStop) -> VerificationRecord {
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
    private func verifyFull(_ pass: PlannedPass, knownBad: [ByteRange], errors: inout Int) throws(JobStop) -> VerificationRecord {
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
        runIOThreads(verifyThreadCount, name: "ardoise-read") { _ in
            let buffer = AlignedBuffer.forLargeIO(count: stride, alignment: alignment)
            let scratch = self.retryScratch()
            // Expected stream bytes for `compare` (only stream passes use it).
            let workScratch = AlignedBuffer(count: WipeOptions.compareScratchSize, alignment: alignment)
            while !ledger.isStopped {
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

    private func verifySamples(_ pass: PlannedPass, plan: SamplePlan, knownBad: [ByteRange], errors: inout Int) throws(JobStop) -> VerificationRecord {
        withMeter { $0.beginPhase(pass: pass.index, phase: .verifying, total: UInt64(plan.ranges.count * plan.sampleLength), countsTowardTotal: false) }
        let buffer = scratchForSamples(length: plan.sampleLength)
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

    private var sampleBuffer: AlignedBuffer?
    private func scratchForSamples(length: Int) -> AlignedBuffer {
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

    // MARK: Stops

    private func checkCancelled(pass: Int) throws(JobStop) {
        if isCancelled() { throw cancelledStop(pass: pass) }
    }

    private func cancelledStop(pass: Int) -> JobStop {
        JobStop(status: .interrupted(WipeStopReason(
            code: .cancelled, message: LocalizedText(fr: "effacement annulé", en: "wipe cancelled"), pass: pass)))
    }

    private func checkIdentity(pass: Int) throws(JobStop) {
        do {
            try target.checkIdentity()
        } catch {
            if case .io(let errno, let offset) = error {
                // The identity could not even be read: treat the drive as gone, never write on.
                throw JobStop(status: .interrupted(WipeStopReason(
                    code: .vanished,
                    message: LocalizedText(fr: "identité du disque illisible (errno \(errno))", en: "drive identity unreadable (errno \(errno))"),
                    pass: pass, offset: offset)))
            }
            throw stop(for: error, pass: pass)
        }
    }

    private func stop(for error: WipeTargetError, pass: Int, flushing: Bool = false) -> JobStop {
        switch error {
        case .vanished(let errno):
            return JobStop(status: .interrupted(WipeStopReason(
                code: .vanished,
                message: LocalizedText(fr: "le disque a disparu (errno \(errno)) : rebranchez-le et relancez l'effacement",
                                       en: "the drive vanished (errno \(errno)): reconnect it and start the wipe again"),
                pass: pass)))
        case .identityChanged(let reason):
            return JobStop(status: .interrupted(WipeStopReason(
                code: .identityChanged,
                message: LocalizedText(fr: "un autre support répond sur ce nœud (\(reason)) : arrêt sans écrire",
                                       en: "another medium answers on this node (\(reason)): stopped without writing"),
                pass: pass)))
        case .io(let errno, let offset):
            return JobStop(status: .failed(WipeStopReason(
                code: flushing ? .flushFailed : .ioErrorAbort,
                message: flushing
                    ? LocalizedText(fr: "le vidage du cache a échoué (errno \(errno))", en: "the cache flush failed (errno \(errno))")
                    : LocalizedText(fr: "erreur d'entrée-sortie (errno \(errno))", en: "I/O error (errno \(errno))"),
                pass: pass, offset: offset)))
        }
    }
}

/// What the I/O threads of one phase share: the next chunk to take, the first stop, and
/// the totals. Sendable by hand: every field is guarded by `lock`.
final class PhaseLedger: @unchecked Sendable {
    private let lock = NSLock()
    private let chunkCount: Int
    private var nextChunk = 0
    private var stopRequest: JobStop?
    private var bytes: UInt64 = 0
    private var errors = 0
    private var failed: [ByteRange] = []

    init(chunkCount: Int) {
        self.chunkCount = chunkCount
    }

    /// The next chunk in order, or nil when all were taken or the phase stopped.
    func takeChunk() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard stopRequest == nil, nextChunk < chunkCount else { return nil }
        nextChunk += 1
        return nextChunk - 1
    }

    /// Records why the phase stops; the first reason wins.
    func stop(_ request: JobStop) {
        lock.lock()
        if stopRequest == nil { stopRequest = request }
        lock.unlock()
    }

    var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopRequest != nil
    }

    func add(bytes: UInt64, errors: Int = 0, failed: [ByteRange] = []) {
        lock.lock()
        self.bytes += bytes
        self.errors += errors
        self.failed += failed
        lock.unlock()
    }

    var result: (bytes: UInt64, errors: Int, failed: [ByteRange], stop: JobStop?) {
        lock.lock()
        defer { lock.unlock() }
        return (bytes, errors, failed, stopRequest)
    }
}

struct Findings {
    var compared: UInt64 = 0
    var badOffsets: [UInt64] = []
}

func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
func lcm(_ a: Int, _ b: Int) -> Int { a / gcd(a, b) * b }

/// Rate-limited progress events for one job.
struct ProgressMeter {
    let totalWork: UInt64
    let passCount: Int
    let interval: Double
    let emit: @Sendable (WipeEvent) -> Void
    private let clock = ContinuousClock()
    private let jobStart: ContinuousClock.Instant
    private var workDoneBefore: UInt64 = 0
    private var pass = 0
    private var phase = WipeProgress.Phase.writing
    private var total: UInt64 = 0
    private var done: UInt64 = 0
    private var phaseStart: ContinuousClock.Instant
    private var lastEmit: ContinuousClock.Instant
    private var lastDone: UInt64 = 0
    private var countsTowardTotal = true

    init(totalWork: UInt64, passCount: Int, interval: Double, emit: @escaping @Sendable (WipeEvent) -> Void) {
        self.totalWork = totalWork
        self.passCount = passCount
        self.interval = interval
        self.emit = emit
        jobStart = clock.now
        phaseStart = jobStart
        lastEmit = jobStart
    }

    /// `countsTowardTotal` is false for sampled reads, whose size is not in `totalWork`.
    mutating func beginPhase(pass: Int, phase: WipeProgress.Phase, total: UInt64, countsTowardTotal: Bool = true) {
        if self.countsTowardTotal { workDoneBefore += done }
        self.pass = pass
        self.phase = phase
        self.total = total
        self.countsTowardTotal = countsTowardTotal
        done = 0
        lastDone = 0
        phaseStart = clock.now
        lastEmit = phaseStart
    }

    mutating func advance(_ bytes: UInt64) {
        done += bytes
        let now = clock.now
        let sinceLast = (now - lastEmit).seconds
        guard sinceLast >= interval || done == total else { return }
        let phaseSeconds = (now - phaseStart).seconds
        let average = phaseSeconds > 0 ? Double(done) / phaseSeconds : 0
        let current = sinceLast > 0 ? Double(done - lastDone) / sinceLast : average
        let overallDone = min(totalWork, workDoneBefore + (countsTowardTotal ? done : 0))
        let jobSeconds = (now - jobStart).seconds
        let jobRate = jobSeconds > 0 ? Double(overallDone) / jobSeconds : 0
        let progress = WipeProgress(
            pass: pass, passCount: passCount, phase: phase, bytesDone: done, bytesTotal: total,
            currentBytesPerSecond: current, averageBytesPerSecond: average,
            phaseETASeconds: average > 0 ? Double(total - min(done, total)) / average : nil,
            overallBytesDone: overallDone, overallBytesTotal: totalWork,
            overallFraction: totalWork > 0 ? Double(overallDone) / Double(totalWork) : 1,
            overallETASeconds: jobRate > 0 ? Double(totalWork - overallDone) / jobRate : nil)
        emit(.progress(progress))
        lastEmit = now
        lastDone = done
    }
}
