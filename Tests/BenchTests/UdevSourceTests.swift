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

    /// Starts udevd unless one runs, and waits until it says it is ready (`READY=1` through
    /// `sd_notify`, which udevd sends once its control socket and netlink monitor are set up,
    /// as it does for systemd's `Type=notify` unit).
    init() throws {
        guard !Self.isRunning else { return }
        createdRunDirectory = !FileManager.default.fileExists(atPath: "/run/udev")
        let notifyPath = FileManager.default.temporaryDirectory.appendingPathComponent("udevd-notify-\(UUID().uuidString.prefix(8)).sock").path
        let notify = try NotifySocket(path: notifyPath)
        defer { notify.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = notifyPath
        process.environment = environment
        try process.run()
        self.process = process
        guard notify.waitForReady(timeout: 20, stillRunning: { process.isRunning }),
              FileManager.default.fileExists(atPath: "/run/udev/control") else {
            stop()
            throw StartFailure(description: "\(Self.executable) did not say READY=1 with /run/udev/control made")
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
    @Test func attachAndDetachOfALoopDeviceComeThroughTheUdevSource() async throws {
        let udevd = try UdevDaemonForTest()
        defer { udevd.stop() }
        #expect(HotplugMonitor.Source.automatic == .udev)
        let monitor = try HotplugMonitor(source: .udev)
        #expect(monitor.source == .udev)
        monitor.start()
        // Every event for the loop's node, in order, as the monitor delivers them; the test
        // waits on them as they come.
        let recorder = EventLog<HotplugEvent>()
        let loop = try LoopDevice(sizeInBytes: 8 << 20)
        defer { loop.detach() }
        let name = loop.name
        let reader = Task {
            for await event in monitor.events where event.name == name {
                recorder.append(event)
            }
        }
        let diskseq = try String(contentsOfFile: "/sys/block/\(name)/diskseq", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // Loop nodes announce a new medium as `add` (a new node) or `change` (an existing one),
        // with the medium's diskseq.
        try await recorder.wait(for: "the attach through udevd", timeout: .seconds(15)) { events in
            events.contains { $0.diskSequence == UInt64(diskseq) && ($0.action == .add || $0.action == .change) }
        }
        let before = recorder.elements.count
        loop.detach()
        // The detach: a `remove`, or a `change` (the kernel keeps the node and its diskseq).
        try await recorder.wait(for: "the detach through udevd", timeout: .seconds(15)) { events in
            events.dropFirst(before).contains { $0.action == .remove || $0.action == .change }
        }
        #expect(recorder.elements.allSatisfy { $0.deviceNumber?.major == 7 })
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
