import ArdoiseCLI
import Bench
import DeviceKit
import Foundation
import Sanitize
import WipeEngine
#if canImport(Glibc)
import Glibc
#endif

/// `ardoise` as the daemon tests run it: every command as in the shipped program, and, when
/// `ARDOISE_TEST_PAUSE_DIR` names a directory, `ardoise daemon` is given the job pause points
/// of `FIFOPauseHooks` (the shipped `ardoise` gives the daemon none).
@main
struct TestbedMain {
    static func main() async {
        let environment = ProcessInfo.processInfo.environment
        var hooks: (any JobPauseHooks)?
        if let directory = environment["ARDOISE_TEST_PAUSE_DIR"], !directory.isEmpty {
            hooks = FIFOPauseHooks(directory: directory)
        }
        var sanitizeDrive: (@Sendable (String) throws -> SanitizeTestDrive)?
        if let media = environment["ARDOISE_TEST_SIMULATED_DRIVE"], !media.isEmpty {
            sanitizeDrive = { _ in try SimulatedSanitizeDrive.make(mediaPath: media) }
        }
        await ArdoiseCommand.main(daemonPauseHooks: hooks, sanitizeTestDrive: sanitizeDrive)
    }
}

/// With `ARDOISE_TEST_SIMULATED_DRIVE=FILE`, `ardoise sanitize … --yes` erases a simulated ATA
/// SSD (Sanitize's `SimulatedAtaDrive`, answering the same command bytes a real drive would)
/// whose media is FILE, read back through the same `WipeTarget` path: a real run of the
/// command (journal, owner lock, certificate, `--json`) without a pass-through device.
enum SimulatedSanitizeDrive {
    static func make(mediaPath: String) throws -> SanitizeTestDrive {
        let target = try FileWipeTarget(path: mediaPath)
        var configuration = SimulatedAtaDrive.Configuration()
        configuration.sectors = target.sizeInBytes / 512
        let drive = SimulatedAtaDrive(configuration: configuration)
        let media = SimulatedMediaFile(path: mediaPath)
        drive.onMediaChange = { media.apply($0) }
        let box = TransportBox(drive)
        let firmware: FirmwarePurgerFactory = { @Sendable jobID, journal in
            DriveFirmwarePurger(makeTransport: { (box.transport, .sat) },
                                secretStore: JournalSecretStore(journal: journal, jobID: jobID),
                                sleep: { _ in }, trace: DriveFirmwarePurger.journalTrace(journal, jobID: jobID))
        }
        var medium = MediumDescription(imagePath: mediaPath, sizeInBytes: target.sizeInBytes, logicalSectorSize: 512)
        medium.model = configuration.model
        medium.serial = configuration.serialNumber
        medium.firmware = configuration.firmwareRevision
        medium.transport = "sata"
        return SanitizeTestDrive(medium: medium, target: target, firmware: firmware)
    }
}

/// The simulated drive, handed to the one job that runs (a test program runs one sanitize).
final class TransportBox: @unchecked Sendable {  // used by that job's firmware step only
    let transport: PassthroughTransport
    init(_ transport: PassthroughTransport) { self.transport = transport }
}

/// Pause points driven by files the harness makes in `directory` (DaemonHarness.arm): a
/// point `N` is armed while `N.arm` exists (its content refines it). When a job reaches it,
/// the job removes `N.arm`, writes one byte into the FIFO `N.reached` (the harness waits on
/// it) and waits for a byte on the FIFO `N.release` (at most two minutes). No polling on
/// either side: both wait in poll(2).
struct FIFOPauseHooks: JobPauseHooks {
    let directory: String

    func path(_ point: String, _ suffix: String) -> String {
        (directory as NSString).appendingPathComponent("\(point).\(suffix)")
    }

    func armed(_ point: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path(point, "arm")) else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func reached(_ point: String) {
        try? FileManager.default.removeItem(atPath: path(point, "arm"))
        // The release end is opened first, so the harness can write to it as soon as it knows.
        let release = open(path(point, "release"), O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        // Read-write: never blocks, and keeps the byte in the FIFO until the harness reads it.
        let reached = open(path(point, "reached"), O_RDWR | O_CLOEXEC)
        FileHandle.standardError.write(Data("<6>ardoise-testbed: test pause reached point=\(point)\n".utf8))
        if reached >= 0 {
            var byte: UInt8 = 1
            _ = write(reached, &byte, 1)
        }
        if release >= 0 {
            var entry = pollfd(fd: release, events: Int16(POLLIN), revents: 0)
            while poll(&entry, 1, 120_000) < 0 && errno == EINTR {}
            close(release)
        }
        if reached >= 0 { close(reached) }
        FileHandle.standardError.write(Data("<6>ardoise-testbed: test pause released point=\(point)\n".utf8))
    }
}
