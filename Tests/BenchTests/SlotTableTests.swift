import ArdoiseSupport
import Foundation
import Logging
import Testing
@testable import Bench
@testable import DeviceKit

/// The daemon's parts as values: the slot table (what is on each node, its job) and the
/// scheduler (grace, queue, concurrency limit). No root, no device, no clock.
@Suite struct SlotTableTests {
    static func drive(_ name: String = "sdb", serial: String = "S1", diskseq: UInt64 = 1,
                      verdict: SafetyVerdict = .wipeable) -> BlockDeviceInfo {
        BlockDeviceInfo(name: name, path: "/dev/\(name)", deviceNumber: DeviceNumber(major: 8, minor: 16), sizeInBytes: 1 << 30,
                        transport: .sata, rotational: true, vendor: nil, model: "M", serial: serial, wwn: nil, firmwareRevision: nil,
                        logicalSectorSize: 512, physicalSectorSize: 512, diskSequence: diskseq, removable: false,
                        readOnly: false, holders: [], partitions: [], partitionTableType: nil,
                        wholeDiskSignature: nil, mountPoints: [], backingFile: nil, verdict: verdict)
    }

    static func status(_ info: BlockDeviceInfo, profile: String? = "zero") -> SlotStatus {
        var status = SlotStatus(device: info.path, model: info.model, serial: info.serial, sizeInBytes: info.sizeInBytes,
                                transport: info.transport.rawValue, diskSequence: info.diskSequence, state: .waiting)
        status.profile = profile
        return status
    }

    /// A table with `info` arrived, accepted and started: the generation of its job.
    static func running(_ table: inout SlotTable, _ info: BlockDeviceInfo) -> UInt64 {
        let generation = table.arrive(info, status: status(info))
        let r1 = table.accept(info.name, generation: generation)
        #expect(r1)
        let r2 = table.begin(generation: generation)
        #expect(r2)
        return generation
    }

    // MARK: Slot table

    @Test func anArrivalIsANewSlotWithANewGeneration() {
        var table = SlotTable(language: .english)
        let first = table.arrive(Self.drive("sdb"), status: Self.status(Self.drive("sdb")))
        let second = table.arrive(Self.drive("sdc"), status: Self.status(Self.drive("sdc")))
        #expect(first != second)
        #expect(table["sdb"]?.status.state == .waiting && table["sdb"]?.job == SlotTable.JobPhase.none)
        #expect(table.name(of: second) == "sdc")
        #expect(table.names == ["sdb", "sdc"])
    }

    @Test func aDifferentDriveOnTheSameNodeIsANewSlotNeverTheOldJob() {
        var table = SlotTable(language: .english)
        let old = Self.running(&table, Self.drive(serial: "OLD", diskseq: 1))
        let r3 = table.mediumLeft("sdb")
        #expect(r3 == .stopJob(generation: old))
        let new = table.arrive(Self.drive(serial: "NEW", diskseq: 2), status: Self.status(Self.drive(serial: "NEW", diskseq: 2)))
        #expect(new != old)
        // The old job ends (even "done"): nothing of it lands on the new medium's slot.
        table.finish(generation: old, state: .done, reason: nil, certificate: "/old.json")
        let slot = table["sdb"]
        #expect(slot?.generation == new)
        #expect(slot?.status.state == .waiting && slot?.status.certificate == nil && slot?.status.serial == "NEW")
        #expect(table.slot("sdb", generation: old) == nil)
        // And the new slot's job is its own.
        let r4 = table.accept("sdb", generation: new)
        #expect(r4)
        let r5 = table.accept("sdb", generation: old)
        #expect(!r5)
        let r6 = table.begin(generation: old)
        #expect(!r6)
        let r7 = table.begin(generation: new)
        #expect(r7)
    }

    /// The bug of the last session: a drive pulled after its job was started but before the
    /// job's session existed (health check, claim) ended `removed` instead of `interrupted`.
    @Test(arguments: [SlotState.interrupted, .failed])
    func aDrivePulledMidJobIsInterruptedAtOnceAndStaysSo(jobOutcome: SlotState) {
        var table = SlotTable(language: .french)
        let generation = Self.running(&table, Self.drive())
        #expect(table["sdb"]?.status.state == .erasing)
        let r8 = table.mediumLeft("sdb")
        #expect(r8 == .stopJob(generation: generation))
        #expect(table["sdb"]?.status.state == .interrupted)
        #expect(table["sdb"]?.status.reason == "disque retiré")
        // The kernel's further uevents for the same detach change nothing.
        let r9 = table.mediumLeft("sdb")
        #expect(r9 == .nothing)
        // The job then ends (claim failed: vanished; or any failure): still interrupted, never "removed".
        table.finish(generation: generation, state: jobOutcome, reason: "périphérique disparu", certificate: nil)
        #expect(table["sdb"]?.status.state == .interrupted)
        #expect(table["sdb"]?.status.reason == "disque retiré")
        #expect(table["sdb"]?.job == SlotTable.JobPhase.none)
    }

    @Test func aJobThatCompletedBeforeThePullWasSeenKeepsItsOutcomeInTheReason() {
        var table = SlotTable(language: .english)
        let generation = Self.running(&table, Self.drive())
        _ = table.mediumLeft("sdb")
        table.finish(generation: generation, state: .done, reason: nil, certificate: "/c.json")
        #expect(table["sdb"]?.status.state == .removed)
        #expect(table["sdb"]?.status.reason == "done ✓")
        #expect(table["sdb"]?.status.certificate == "/c.json")
    }

    @Test func aDrivePulledBeforeItsJobStartedIsRemovedAndNeverStarts() {
        var table = SlotTable(language: .english)
        let info = Self.drive()
        let generation = table.arrive(info, status: Self.status(info))
        let r10 = table.accept("sdb", generation: generation)
        #expect(r10)
        let r11 = table.mediumLeft("sdb")
        #expect(r11 == .removed(generation: generation))
        #expect(table["sdb"]?.status.state == .removed && table["sdb"]?.status.reason == nil)
        let r12 = table.begin(generation: generation)
        #expect(!r12)
        let r13 = table.accept("sdb", generation: generation)
        #expect(!r13)
    }

    @Test func aFinishedDrivePulledSaysItsOutcome() {
        var table = SlotTable(language: .english)
        let generation = Self.running(&table, Self.drive())
        table.finish(generation: generation, state: .failed, reason: "write error", certificate: nil)
        #expect(table["sdb"]?.status.state == .failed)
        let r14 = table.mediumLeft("sdb")
        #expect(r14 == .removed(generation: generation))
        #expect(table["sdb"]?.status.state == .removed)
        #expect(table["sdb"]?.status.reason == "failed ✗ — write error")
    }

    @Test func onlyAWaitingWipeableDriveWithAProfileIsAccepted() {
        var table = SlotTable(language: .english)
        let noProfile = Self.drive("sdc")
        let g1 = table.arrive(noProfile, status: Self.status(noProfile, profile: nil))
        let r15 = table.accept("sdc", generation: g1)
        #expect(!r15)
        var protected = Self.status(Self.drive("sdd"))
        protected.state = .protected
        let g2 = table.arrive(Self.drive("sdd"), status: protected)
        let r16 = table.accept("sdd", generation: g2)
        #expect(!r16)
        let g3 = Self.running(&table, Self.drive("sde"))
        let r17 = table.accept("sde", generation: g3)
        #expect(!r17, "a running job is not accepted twice")
        table.finish(generation: g3, state: .done, reason: nil, certificate: nil)
        let r18 = table.accept("sde", generation: g3)
        #expect(r18, "a finished drive may be erased again")
    }

    @Test func aWaitingDriveThatBecomesProtectedLeavesTheQueue() {
        var table = SlotTable(language: .english)
        let info = Self.drive()
        let generation = table.arrive(info, status: Self.status(info))
        let r19 = table.accept("sdb", generation: generation)
        #expect(r19)
        let r20 = table.becameProtected("sdb", info: info, reasons: [.mounted(mountPoints: ["/mnt"])])
        #expect(r20)
        #expect(table["sdb"]?.status.state == .protected && table["sdb"]?.status.reasonCodes == ["mounted"])
        let r21 = table.begin(generation: generation)
        #expect(!r21)
    }

    @Test func cancellingAQueuedJobPutsItBackToWaiting() {
        var table = SlotTable(language: .english)
        let info = Self.drive()
        let generation = table.arrive(info, status: Self.status(info))
        let r22 = table.accept("sdb", generation: generation)
        #expect(r22)
        table.unqueue("sdb", reason: "cancelled")
        #expect(table["sdb"]?.status.state == .waiting && table["sdb"]?.status.reason == "cancelled")
        let r23 = table.begin(generation: generation)
        #expect(!r23)
    }

    // MARK: Scheduler

    @Test func theConcurrencyLimitHoldsAndTheQueueKeepsItsOrder() {
        var scheduler = JobScheduler(limit: 2)
        for generation: UInt64 in [1, 2, 3, 4] { scheduler.enqueue(generation) }
        scheduler.enqueue(2)
        let r24 = scheduler.jobsToStart()
        #expect(r24 == [1, 2])
        let r25 = scheduler.jobsToStart()
        #expect(r25.isEmpty)
        scheduler.finished(2)
        let r26 = scheduler.jobsToStart()
        #expect(r26 == [3])
        scheduler.withdraw(4)
        scheduler.finished(1)
        let r27 = scheduler.jobsToStart()
        #expect(r27.isEmpty)
        #expect(scheduler.running == [3])
        scheduler.finished(3)
        #expect(scheduler.isIdle)
    }

    @Test func aLimitRaisedByAReloadStartsMoreJobs() {
        var scheduler = JobScheduler(limit: 1)
        for generation: UInt64 in [1, 2, 3] { scheduler.enqueue(generation) }
        let r28 = scheduler.jobsToStart()
        #expect(r28 == [1])
        scheduler.limit = 3
        let r29 = scheduler.jobsToStart()
        #expect(r29 == [2, 3])
    }

    @Test func gracePeriodsEndOnceUnlessWithdrawn() {
        var scheduler = JobScheduler(limit: 4)
        let now = Date(timeIntervalSince1970: 1_000_000)
        scheduler.startGrace(1, seconds: 30, now: now)
        scheduler.startGrace(2, seconds: 5, now: now)
        #expect(scheduler.graceLeft(1, now: now.addingTimeInterval(10)) == 20)
        #expect(scheduler.graceLeft(1, now: now.addingTimeInterval(40)) == 0)
        #expect(scheduler.graceLeft(3, now: now) == nil)
        #expect(scheduler.graceExpired(now: now.addingTimeInterval(6)) == [2])
        // Pulled during its grace period: its timer firing starts nothing.
        scheduler.withdraw(2)
        let r30 = scheduler.endGrace(2)
        #expect(!r30)
        let r31 = scheduler.endGrace(1)
        #expect(r31)
        let r32 = scheduler.endGrace(1)
        #expect(!r32)
        #expect(scheduler.graceLeft(1, now: now) == nil)
        // Started by hand during its grace period: the grace period is over.
        scheduler.startGrace(5, seconds: 30, now: now)
        scheduler.enqueue(5)
        let r33 = scheduler.endGrace(5)
        #expect(!r33)
        let r34 = scheduler.jobsToStart()
        #expect(r34 == [5])
    }

    @Test func afterStopNothingStarts() {
        var scheduler = JobScheduler(limit: 4)
        scheduler.enqueue(1)
        let r35 = scheduler.jobsToStart()
        #expect(r35 == [1])
        scheduler.enqueue(2)
        scheduler.startGrace(3, seconds: 1, now: Date())
        let r36 = scheduler.stop()
        #expect(r36 == [2, 3])
        let r37 = scheduler.jobsToStart()
        #expect(r37.isEmpty)
        let r38 = scheduler.endGrace(3)
        #expect(!r38)
        #expect(!scheduler.isIdle)
        scheduler.finished(1)
        #expect(scheduler.isIdle)
    }

    // MARK: Change feed and log lines

    @Test func aWatcherSeesTheStateNowThenCoalescedChangesAndTheEnd() async {
        let feed = ChangeFeed()
        let stream = feed.watch()
        feed.signal()
        feed.signal()
        feed.finish()
        var count = 0
        for await _ in stream { count += 1 }
        // The first yield (now) and at most one pending change.
        #expect(count >= 1 && count <= 2)
        var late = 0
        for await _ in feed.watch() { late += 1 }
        #expect(late == 0)
    }

    @Test func logLinesAreOneLineWithAJournaldPriority() {
        let line = JournaldLogHandler.line(label: "ardoise-daemon", level: .notice, message: "slot arrived",
                                           metadata: ["state": "waiting", "device": "/dev/sdb", "reason": "two words\nand a line"])
        #expect(line == "<5>ardoise-daemon: slot arrived device=/dev/sdb reason=\"two words\\nand a line\" state=waiting\n")
        #expect(JournaldLogHandler.priority(.error) == 3)
        #expect(JournaldLogHandler.priority(.info) == 6)
        #expect(JournaldLogHandler.priority(.debug) == 7)
        let lines = LogLines()
        var logger = Logger(label: "ardoise-daemon") { label in JournaldLogHandler(label: label) { lines.append($0) } }
        logger[metadataKey: "bench"] = "b1"
        logger.info("job ended", metadata: ["state": "done"])
        logger.debug("not shown at the default level")
        #expect(lines.all == ["<6>ardoise-daemon: job ended bench=b1 state=done\n"])
    }
}

final class LogLines: @unchecked Sendable {  // guarded by lock
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
