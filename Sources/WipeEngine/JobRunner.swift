import ArdoiseSupport
import ErasureRecords
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

    let size: UInt64
    let sector: Int
    let alignment: Int
    /// Aligned scratch for retries and samples (`retryIOSize` or the sample length, whichever is larger).
    let scratch: AlignedBuffer
    /// Expected data for samples and unaligned comparisons.
    let compareScratch: AlignedBuffer
    var consecutiveSectorErrors = 0
    var meter: ProgressMeter
    let lock = NSLock()
    /// Reused by sample verifications (job thread only).
    var sampleBuffer: AlignedBuffer?
    /// The gate of the jobs started with this one (`StartGate`), and whether this job came.
    let startGate: StartGate?
    private let cameToStartGate = Atomic<Bool>(false)

    init(profile: WipeProfile, target: any WipeTarget, options: WipeOptions, plan: [PlannedPass], startGate: StartGate? = nil,
         isCancelled: @escaping @Sendable () -> Bool, emit: @escaping @Sendable (WipeEvent) -> Void) {
        self.startGate = startGate
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
        RunningJobs.begin()
        defer { RunningJobs.end() }
        // A job that ends before any I/O still counts itself in, so the others go on.
        defer { comeToStartGate() }
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

    func runPass(_ pass: PlannedPass, record: inout PassRecord) throws(JobStop) {
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
    func stride(for pass: PlannedPass, writing: Bool = false) -> (stride: Int, staticFill: Bool) {
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
    /// Read at each phase's start (and by a fixed pattern's writers before every chunk): with
    /// many jobs running in the process, each gets fewer
    /// (`WipeOptions.ioThreads(sharedWith:)`).
    private var ioThreadCount: Int {
        target.supportsConcurrentIO ? options.ioThreads(sharedWith: activeJobs) : 1
    }

    /// The jobs running in the process now, this one included (1 if it shares nothing).
    private var activeJobs: Int {
        options.sharesIOThreadsWithOtherJobs ? RunningJobs.count : 1
    }

    /// Writers of generated data: each generates its chunk into its own buffer, then writes
    /// it (`WipeOptions.streamWriterCount`), never more than the phase's I/O threads.
    private var streamWriterCount: Int {
        target.supportsConcurrentIO ? min(options.streamWriterCount, ioThreadCount) : 1
    }

    /// Threads of a full verification: each one reads a chunk, then compares it. Two keep a
    /// read in flight while the other thread compares (8 MiB queued with the default buffer);
    /// more add no depth the device needs but compete with the comparisons for the cores.
    /// Measured with bench/ab.sh on a 2 GiB loop device: 2 threads read 5–20 % faster than 4.
    /// With many jobs, 1 (`WipeOptions.verifyThreads(sharedWith:)`). Read at the phase's
    /// start and by the readers before every chunk, as `ioThreadCount`.
    var verifyThreadCount: Int {
        target.supportsConcurrentIO ? options.verifyThreads(sharedWith: activeJobs) : 1
    }

    /// Runs `body(thread index)` on `count` threads (the calling one included) and waits for all.
    func runIOThreads(_ count: Int, name: String, _ body: @escaping @Sendable (Int) -> Void) {
        let helpers = (1..<max(count, 1)).map { index in
            WorkerThread(name: "\(name)-\(index)") { body(index) }
        }
        body(0)
        helpers.forEach { $0.join() }
    }

    func retryScratch() -> AlignedBuffer {
        let size = max(options.retryIOSize, sector)
        return AlignedBuffer(count: (size + alignment - 1) / alignment * alignment, alignment: alignment)
    }

    func writePass(_ pass: PlannedPass, record: inout PassRecord) throws(JobStop) {
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
            runIOThreads(threads, name: "ardoise-write") { thread in
                let scratch = self.retryScratch()
                self.waitAtStartGate()
                // A thread beyond the job's share ends when more jobs have started since
                // this phase began, so a job started first does not keep more threads than
                // the later ones (the share is read again before every chunk).
                while !ledger.isStopped, thread < self.ioThreadCount, let chunk = ledger.takeChunk() {
                    if self.isCancelled() { ledger.stop(self.cancelledStop(pass: passIndex)); return }
                    let offset = UInt64(chunk) * UInt64(stride)
                    let length = Int(min(UInt64(stride), total - offset))
                    self.writeChunk(buffer, length: length, offset: offset, pass: passIndex, scratch: scratch, ledger: ledger)
                }
            }
        } else {
            // Generated data: each writer takes the next chunk, generates it into its own
            // buffer and writes it, so one writer's generation overlaps the other's write.
            // The generation is spread over the writers like the I/O, and with many drives
            // each drive's share of the CPU follows its threads, as fio's jobs do (a separate
            // generator thread per drive measured 1.5–1.7 slowest/fastest on 16 drives, 1.2–1.3
            // this way; bench/results 2026-12-06 night). `GenerationShare` then keeps each
            // pass within 8 MiB of the least advanced one that wants the CPU (1.02–1.04).
            let source = pass.source
            let alignment = alignment
            let account = GenerationShare.process.join()
            defer { GenerationShare.process.leave(account) }
            runIOThreads(streamWriterCount, name: "ardoise-write") { _ in
                let buffer = AlignedBuffer.forLargeIO(count: stride, alignment: alignment)
                let scratch = self.retryScratch()
                self.waitAtStartGate()
                while !ledger.isStopped, let chunk = ledger.takeChunk() {
                    if self.isCancelled() { ledger.stop(self.cancelledStop(pass: passIndex)); return }
                    let offset = UInt64(chunk) * UInt64(stride)
                    let length = Int(min(UInt64(stride), total - offset))
                    GenerationShare.process.acquire(account, bytes: length)
                    source.fill(buffer.mutableBytes(count: (length + 15) & ~15), at: offset)
                    GenerationShare.process.release(account)
                    self.writeChunk(buffer, length: length, offset: offset, pass: passIndex, scratch: scratch, ledger: ledger)
                }
            }
        }
        let result = ledger.result
        record.bytesWritten += result.bytes
        record.ioErrorCount += result.errors
        for range in result.failed.sorted(by: { $0.start < $1.start }) { record.badRanges.appendMerging(range) }
        if let stop = result.stop { throw stop }
    }

    /// Writes one chunk; on an I/O error retries it piece by piece. Results and stops go to `ledger`.
    func writeChunk(_ buffer: AlignedBuffer, length: Int, offset: UInt64, pass: Int, scratch: AlignedBuffer, ledger: PhaseLedger) {
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

    enum Direction { case write, read }

    /// After a failed I/O: check the drive is still the same one, then redo the range in
    /// `retryIOSize` pieces and the failing pieces sector by sector, through the aligned
    /// `scratch` buffer. Returns the bytes that succeeded; `failed` gets the sectors that did not.
    func retry(_ direction: Direction, buffer: AlignedBuffer, length: Int, offset: UInt64, pass: Int, scratch: AlignedBuffer,
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
    func transfer(_ direction: Direction, buffer: AlignedBuffer, position: Int, length: Int, offset: UInt64,
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

    func withMeter(_ body: (inout ProgressMeter) -> Void) {
        lock.lock()
        body(&meter)
        lock.unlock()
    }

    func resetConsecutiveErrors() {
        lock.lock()
        consecutiveSectorErrors = 0
        lock.unlock()
    }

    func countConsecutiveError() -> Int {
        lock.lock()
        defer { lock.unlock() }
        consecutiveSectorErrors += 1
        return consecutiveSectorErrors
    }

    // MARK: Stops

    func checkCancelled(pass: Int) throws(JobStop) {
        if isCancelled() { throw cancelledStop(pass: pass) }
    }

    func cancelledStop(pass: Int) -> JobStop {
        JobStop(status: .interrupted(WipeStopReason(
            code: .cancelled, message: LocalizedText(fr: "effacement annulé", en: "wipe cancelled"), pass: pass)))
    }

    /// Counts this job in at its start gate, once (later calls do nothing).
    func comeToStartGate() {
        guard let startGate, !cameToStartGate.exchange(true, ordering: .relaxed) else { return }
        startGate.arrive()
    }

    /// Called by each I/O thread just before its first I/O of a phase, once its buffers are
    /// ready: the job comes to its start gate and waits for the jobs started with it. As
    /// late as that, none of them gets a head start (setting up costs little, but a job
    /// that sets up while the others already run gets little CPU for it). Returns at once
    /// after the first phase.
    func waitAtStartGate() {
        guard let startGate else { return }
        comeToStartGate()
        startGate.wait()
    }

    func checkIdentity(pass: Int) throws(JobStop) {
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

    func stop(for error: WipeTargetError, pass: Int, flushing: Bool = false) -> JobStop {
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
