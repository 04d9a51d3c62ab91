import ArdoiseCLI
import Bench
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `ardoise` as the daemon tests run it: every command as in the shipped program, and, when
/// `ARDOISE_TEST_PAUSE_DIR` names a directory, `ardoise daemon` is given the job pause points
/// of `FIFOPauseHooks` (the shipped `ardoise` gives the daemon none).
@main
struct TestbedMain {
    static func main() async {
        let directory = ProcessInfo.processInfo.environment["ARDOISE_TEST_PAUSE_DIR"] ?? ""
        await ArdoiseCommand.main(daemonPauseHooks: directory.isEmpty ? nil : FIFOPauseHooks(directory: directory))
    }
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
