import ArdoiseTestSupport
import DeviceKit
import Foundation
import Synchronization
import Testing

/// systemd-udevd for the length of a test: started in the foreground as a child (so its exact
/// pid is known) only when no udevd runs, and stopped only if this test started it.
final class UdevDaemonForTest: @unchecked Sendable {  // owned by one test
    static let executable = "/lib/systemd/systemd-udevd"
    struct StartFailure: Error, CustomStringConvertible { let description: String }
    private var process: Process?
    /// True when /run/udev did not exist before: it is removed again afterwards, so later
    /// `auto` hot-plug sources do not take a leftover control socket for a running udevd.
    private var createdRunDirectory = false

    static var isRunning: Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.contains { name in
            guard Int32(name) != nil,
                  let comm = try? String(contentsOfFile: "/proc/\(name)/comm", encoding: .utf8) else { return false }
            return comm.trimmingCharacters(in: .whitespacesAndNewlines) == "systemd-udevd"
        }
    }

    /// Starts udevd unless one runs, and waits for its control socket.
    init() throws {
        guard !Self.isRunning else { return }
        createdRunDirectory = !FileManager.default.fileExists(atPath: "/run/udev")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: "/run/udev/control") {
            guard Date() < deadline, process.isRunning else {
                stop()
                throw StartFailure(description: "\(Self.executable) did not create /run/udev/control")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    var startedHere: Bool { process != nil }

    /// SIGTERM to the exact pid this test started, then waits for it.
    func stop() {
        guard let process else { return }
        self.process = nil
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
        if createdRunDirectory { try? FileManager.default.removeItem(atPath: "/run/udev") }
    }

    deinit { stop() }
}

@Suite(.serialized, .enabled(if: LoopDevice.isAvailable && FileManager.default.isExecutableFile(atPath: UdevDaemonForTest.executable),
                             "needs root and systemd-udevd"))
struct UdevSourceTests {
    /// Every event for `name`, in order, as the monitor delivers them.
    final class Recorder: Sendable {
        let events = Mutex<[HotplugEvent]>([])
        func snapshot() -> [HotplugEvent] { events.withLock { $0 } }

        /// Polls until `predicate` holds on the events so far, or the timeout passes.
        func waitFor(timeout: Double = 15, _ predicate: ([HotplugEvent]) -> Bool) async -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if predicate(snapshot()) { return true }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return predicate(snapshot())
        }
    }

    @Test func attachAndDetachOfALoopDeviceComeThroughTheUdevSource() async throws {
        let udevd = try UdevDaemonForTest()
        defer { udevd.stop() }
        #expect(HotplugMonitor.Source.automatic == .udev)
        let monitor = try HotplugMonitor(source: .udev)
        #expect(monitor.source == .udev)
        monitor.start()
        let recorder = Recorder()
        let loop = try LoopDevice(sizeInBytes: 8 << 20)
        defer { loop.detach() }
        let name = loop.name
        let reader = Task {
            for await event in monitor.events where event.name == name {
                recorder.events.withLock { $0.append(event) }
            }
        }
        let diskseq = try String(contentsOfFile: "/sys/block/\(name)/diskseq", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // Loop nodes announce a new medium as `add` (a new node) or `change` (an existing one),
        // with the medium's diskseq.
        let attached = await recorder.waitFor { events in
            events.contains { $0.diskSequence == UInt64(diskseq) && ($0.action == .add || $0.action == .change) }
        }
        #expect(attached, "attach not seen through udevd: \(recorder.snapshot())")
        let before = recorder.snapshot().count
        loop.detach()
        // The detach: a `remove`, or a `change` (the kernel keeps the node and its diskseq).
        let detached = await recorder.waitFor { events in
            events.dropFirst(before).contains { $0.action == .remove || $0.action == .change }
        }
        #expect(detached, "detach not seen through udevd: \(recorder.snapshot())")
        #expect(recorder.snapshot().allSatisfy { $0.deviceNumber?.major == 7 })
        monitor.stop()
        reader.cancel()
        let startedHere = udevd.startedHere
        udevd.stop()
        if startedHere {
            // Back to the kernel source once udevd is gone (its control socket removed with it).
            #expect(!UdevDaemonForTest.isRunning)
            #expect(HotplugMonitor.Source.automatic == .kernel)
        }
    }

    @Test func theDaemonOnTheUdevSourceErasesAHotPluggedDrive() throws {
        let udevd = try UdevDaemonForTest()
        defer { udevd.stop() }
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, profile: "zero")
        defer { harness.cleanUp() }
        try harness.start(hotplugSource: "udev")
        #expect(harness.log().contains("hotplug-source=udev"))
        let loop = try LoopDevice(sizeInBytes: 8 << 20, in: harness.drivesDirectory)
        defer { loop.detach() }
        let slot = try harness.waitForState(loop.path, ["done", "failed", "interrupted"], timeout: 60)
        #expect(slot["state"] as? String == "done", "\(slot)\n\(harness.log())")
        harness.stop()
    }
}
