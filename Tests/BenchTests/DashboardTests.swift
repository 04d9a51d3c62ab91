import ArdoiseTestSupport
import Foundation
import Testing

/// `ardoise dashboard` in a real terminal: tmux runs it against a live daemon, the test reads
/// the screen with `capture-pane` and types with `send-keys`, as a technician would.
/// Root only (loop devices); CI runs as root and has tmux.
@Suite(.serialized, .enabled(if: LoopDevice.isAvailable && FileManager.default.isExecutableFile(atPath: TmuxScreen.tmux),
                             "needs root to attach loop devices, and tmux"))
struct DashboardTests {
    /// The disk holding `/`: the daemon must show it protected. Nil when `/` is not on a block
    /// device (a container's overlay).
    /// The disk holding / shows on `screen` as protected, with `label`. Recorded as an issue
    /// where no disk holds / (the daemon then has no system disk to show).
    static func expectSystemDiskRow(on screen: TmuxScreen, _ harness: DaemonHarness, label: String) throws {
        let slots = try harness.status()["slots"] as? [[String: Any]] ?? []
        let system = slots.first {
            ($0["state"] as? String) == "protected"
                && ((($0["reason"] as? String)?.contains("disque système") ?? false) || (($0["reason"] as? String)?.contains("system disk") ?? false))
        }?["device"] as? String
        guard let system else {
            Issue.record("no disk holds / here: the protected system disk cannot be shown")
            return
        }
        try screen.waitForRow((system as NSString).lastPathComponent, label, timeout: 5)
    }

    func jobs(_ harness: DaemonHarness) throws -> [[String: Any]] {
        let output = try Shell.run(ArdoiseExecutable.path, ["journal", "jobs", "--json", "--data-dir", harness.dataDirectory])
        return (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]) ?? []
    }

    @Test func frenchScreenWaitingProtectedStartedDoneAndRemoved() throws {
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, policy: "manual", profile: "zero")
        defer { harness.cleanUp() }
        try harness.start()
        let drive = try LoopDevice(sizeInBytes: 32 << 20, in: harness.drivesDirectory)
        defer { drive.detach() }
        try harness.waitForState(drive.path, ["waiting"], timeout: 30)

        let screen = try TmuxScreen(dashboard: harness.socketPath, language: "fr")
        defer { screen.kill() }
        try screen.waitForRow(drive.name, "en attente", timeout: 20)
        try Self.expectSystemDiskRow(on: screen, harness, label: "protégé — disque système")
        let header = try screen.waitFor("the header", timeout: 5) { $0.contains("DISQUE") && $0.contains("ÉTAT") }
        #expect(header.contains("D démarrer   A annuler   Q quitter"))

        // D on the selected drive: it is erased, verified and certified.
        try screen.select(drive.name)
        try screen.send("d")
        let done = try screen.waitForRow(drive.name, "terminé ✓", timeout: 120, harness: harness)
        #expect(done.contains("zero"), "the profile column: \(done)")
        let slot = try #require(try harness.slot(drive.path))
        #expect(slot["state"] as? String == "done")
        #expect(slot["certificate"] as? String != nil)

        // A second drive waits; pulled, it shows as removed.
        // A node of its own: once pulled, no other suite's device can take it and its row.
        let second = try LoopDevice(sizeInBytes: 16 << 20, in: harness.drivesDirectory, ownNode: true)
        defer { second.detach() }
        try screen.waitForRow(second.name, "en attente", timeout: 20)
        second.detach()
        try screen.waitForRow(second.name, "retiré", timeout: 20, harness: harness)
        // Pulling one drive changes nothing for the other.
        try screen.waitForRow(drive.name, "terminé ✓", timeout: 5)

        // Q leaves the dashboard (the terminal is given back).
        try screen.send("q")
        try screen.waitForExit(timeout: 5)
    }

    @Test func frenchScreenCancelWithAThenO() throws {
        // Three passes, each verified, over 512 MiB: long enough to cancel mid-pass.
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, policy: "manual", profile: "dod-5220-22m")
        defer { harness.cleanUp() }
        try harness.start()
        let drive = try LoopDevice(sizeInBytes: 512 << 20, in: harness.drivesDirectory)
        defer { drive.detach() }
        try harness.waitForState(drive.path, ["waiting"], timeout: 30)

        let screen = try TmuxScreen(dashboard: harness.socketPath, language: "fr")
        defer { screen.kill() }
        try screen.waitForRow(drive.name, "en attente", timeout: 20)
        try screen.select(drive.name)
        try screen.send("d")
        // The row fills in once the first progress report arrives.
        let erasingScreen = try screen.waitFor("\(drive.name) erasing with progress", timeout: 60, harness: harness) {
            TmuxScreen.row(drive.name, in: $0).map { $0.contains("effacement") && $0.contains("%") } == true
        }
        let erasing = TmuxScreen.row(drive.name, in: erasingScreen) ?? ""
        #expect(erasing.contains("dod-5220-22m") && erasing.contains("/3 ") && erasing.contains("%"), "\(erasing)")

        try screen.send("a")
        try screen.waitFor("the confirmation question", timeout: 5) { $0.contains("Annuler \(drive.path) ? O pour confirmer") }
        // The job is still running while the technician decides.
        #expect(harness.state(drive.path).map { ["erasing", "verifying"].contains($0) } == true)
        try screen.send("o")
        let row = try screen.waitForRow(drive.name, "interrompu ✗", timeout: 30, harness: harness)
        #expect(!row.contains("terminé"))
        let screenText = screen.capture()
        #expect(screenText.contains("Annulé : \(drive.path)"), "\(screenText)")

        let recorded = try jobs(harness)
        #expect(recorded.count == 1)
        #expect(recorded.first?["status"] as? String == "interrupted")
        #expect((recorded.first?["certificateStatus"] as? String) != "erased")
    }

    @Test func englishScreenWithLangEn() throws {
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, policy: "manual", profile: "zero", language: "en")
        defer { harness.cleanUp() }
        try harness.start()
        let drive = try LoopDevice(sizeInBytes: 32 << 20, in: harness.drivesDirectory)
        defer { drive.detach() }
        let other = try LoopDevice(sizeInBytes: 16 << 20, in: harness.drivesDirectory, ownNode: true)
        defer { other.detach() }
        try harness.waitForState(drive.path, ["waiting"], timeout: 30)
        try harness.waitForState(other.path, ["waiting"], timeout: 30)

        let screen = try TmuxScreen(dashboard: harness.socketPath, language: "en")
        defer { screen.kill() }
        try screen.waitForRow(drive.name, "waiting", timeout: 20)
        try Self.expectSystemDiskRow(on: screen, harness, label: "protected — system disk")
        let text = screen.capture()
        #expect(text.contains("DRIVE") && text.contains("SERIAL") && text.contains("STATE"))
        #expect(text.contains("S start   C cancel   Q quit"))

        try screen.select(drive.name)
        try screen.send("s")
        try screen.waitForRow(drive.name, "done ✓", timeout: 120, harness: harness)

        // C then any key but Y keeps the drive as it was.
        try screen.select(other.name)
        try screen.send("c")
        try screen.waitFor("the confirmation question", timeout: 5) { $0.contains("Cancel \(other.path)? Y to confirm") }
        try screen.send("n")
        try screen.waitFor("the abort message", timeout: 5) { $0.contains("Cancel aborted.") }
        try screen.waitForRow(other.name, "waiting", timeout: 5)
        #expect(harness.state(other.path) == "waiting")

        other.detach()
        try screen.waitForRow(other.name, "removed", timeout: 20, harness: harness)
        try screen.send("q")
        try screen.waitForExit(timeout: 5)
    }
}

/// The screen never showed what a test waited for: the last screen and the daemon's log say why.
struct ScreenTimeout: Error, CustomStringConvertible {
    let what: String
    let screen: String
    let daemonLog: String?
    var description: String {
        "dashboard: timed out waiting for \(what); last screen:\n\(screen)\n\(daemonLog.map { "--- daemon log ---\n\($0)" } ?? "")"
    }
}

/// A tmux server of its own (`-L`, so other tmux users are never touched) running one
/// dashboard in a 200×50 window.
///
/// Synchronised on the dashboard's own output, not on a clock: tmux copies everything the
/// dashboard writes to its terminal into a FIFO of the test (`pipe-pane`), and a wait reads
/// the screen again (`capture-pane`) each time bytes arrive — tmux has drawn them on its
/// screen before it forwards them. The dashboard's exit is its pane found dead, checked after
/// each of its writes. The shipped dashboard is not changed for the test.
final class TmuxScreen {
    static let tmux = "/usr/bin/tmux"
    let server = "ardoise-dashboard-test-\(UUID().uuidString.prefix(8))"
    let session = "bench"
    /// The FIFO tmux copies the pane's output into, and the test's end of it (read-write, so
    /// it never sees an end of file while tmux reopens its side).
    let outputPath: String
    private let output: Int32

    init(dashboard socket: String, language: String, columns: Int = 200, rows: Int = 50) throws {
        let fifo = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-dashboard-\(UUID().uuidString.prefix(8)).out").path
        unlink(fifo)
        guard mkfifo(fifo, 0o600) == 0 else { throw ScreenTimeout(what: "mkfifo \(fifo)", screen: "", daemonLog: nil) }
        let descriptor = open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            unlink(fifo)
            throw ScreenTimeout(what: "open \(fifo)", screen: "", daemonLog: nil)
        }
        outputPath = fifo
        output = descriptor
        let command = [ArdoiseExecutable.path, "dashboard", "--socket", socket, "--lang", language]
            .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        // -u: the client is UTF-8, so capture-pane gives back ✓ and é instead of "_".
        // remain-on-exit keeps a crashed dashboard's last screen and status for the report.
        // Not through Process: the tmux server forked by this client inherits the descriptor
        // Foundation watches to see the child end, so waitUntilExit would wait for the server.
        // posix_spawn gives the client only /dev/null, and waitpid reaps it.
        let arguments = [Self.tmux, "-u", "-L", server, "-f", "/dev/null", "new-session", "-d", "-s", session, "-x", String(columns),
                         "-y", String(rows), "exec " + command, ";", "set-option", "-g", "remain-on-exit", "on"]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = Self.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        // The test process blocks most signals on its threads; a tmux server inheriting that
        // mask would never see SIGCHLD or SIGTERM, and kill-server would leave it running.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        var pid: pid_t = 0
        guard posix_spawn(&pid, Self.tmux, &actions, &attributes, argv, envp) == 0 else {
            throw ScreenTimeout(what: "tmux to start", screen: "", daemonLog: nil)
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { throw ScreenTimeout(what: "tmux new-session (status \(status))", screen: "", daemonLog: nil) }
        // Every byte the dashboard writes from now on comes to the test's FIFO; what it drew
        // before is already on the screen, which each wait reads first.
        do {
            try tmux(["pipe-pane", "-O", "-t", session, "exec cat > '\(outputPath)'"])
        } catch {
            kill()  // nothing of this test's tmux is left behind
            throw error
        }
    }

    /// Waits until the dashboard writes something (or `deadline`), and drains what it wrote.
    /// False at the deadline.
    @discardableResult
    func waitForOutput(until deadline: Date) -> Bool {
        while true {
            var entry = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, Int32(max(0, deadline.timeIntervalSinceNow) * 1000))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return false }
            var buffer = [UInt8](repeating: 0, count: 64 << 10)
            while read(output, &buffer, buffer.count) > 0 {}
            return true
        }
    }

    static let environment = ["LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"]

    @discardableResult
    func tmux(_ arguments: [String]) throws -> String {
        try Shell.run(Self.tmux, ["-u", "-L", server] + arguments, environment: Self.environment)
    }

    func capture() -> String {
        (try? tmux(["capture-pane", "-p", "-t", session])) ?? ""
    }

    func send(_ key: String) throws {
        try tmux(["send-keys", "-t", session, key])
    }

    /// Reads the screen now and again each time the dashboard writes, until `predicate`
    /// holds; throws with the last screen after `timeout` seconds.
    @discardableResult
    func waitFor(_ what: String, timeout: Double, harness: DaemonHarness? = nil, _ predicate: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = capture()
        while !predicate(last) {
            guard waitForOutput(until: deadline) else {
                throw ScreenTimeout(what: what, screen: capture(), daemonLog: harness?.log())
            }
            last = capture()
        }
        return last
    }

    /// The screen row of a device (`loop3`), marker or not.
    static func row(_ name: String, in screen: String) -> String? {
        screen.components(separatedBy: "\n").first { $0.hasPrefix("▶\(name) ") || $0.hasPrefix(" \(name) ") }
    }

    /// Waits until the device's row shows `text` and returns that row.
    @discardableResult
    func waitForRow(_ name: String, _ text: String, timeout: Double, harness: DaemonHarness? = nil) throws -> String {
        let screen = try waitFor("\(name) showing “\(text)”", timeout: timeout, harness: harness) {
            Self.row(name, in: $0)?.contains(text) == true
        }
        return Self.row(name, in: screen) ?? ""
    }

    /// Moves the selection marker onto the device's row with the arrow keys, each key followed
    /// by a wait for the redraw it causes.
    func select(_ name: String, timeout: Double = 10) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let lines = capture().components(separatedBy: "\n")
            guard let target = lines.firstIndex(where: { $0.hasPrefix("▶\(name) ") || $0.hasPrefix(" \(name) ") }) else {
                try send("Down")  // scrolled off screen: more drives than rows
                waitForOutput(until: deadline)
                continue
            }
            if lines[target].hasPrefix("▶") { return }
            guard let current = lines.firstIndex(where: { $0.hasPrefix("▶") }) else {
                waitForOutput(until: deadline)  // no marker drawn yet
                continue
            }
            try send(current < target ? "Down" : "Up")
            // The dashboard redraws at once after a key: wait for the marker to move.
            _ = try? waitFor("the marker to move", timeout: min(2, max(0, deadline.timeIntervalSinceNow))) {
                $0.components(separatedBy: "\n").firstIndex(where: { $0.hasPrefix("▶") }) != current
            }
        }
        throw ScreenTimeout(what: "the marker on \(name)", screen: capture(), daemonLog: nil)
    }

    /// Waits for the dashboard's process to end: the pane is dead (`remain-on-exit` keeps it).
    /// Checked after each write of the dashboard and at least every 100 ms: a dashboard that
    /// quits writes its last screen reset, but tmux marks the pane dead a moment after. (A
    /// `wait-for` on a channel woken by the `pane-died` hook hung once in the full suite: the
    /// client inherits the test process's blocked signals, so `timeout` could not stop it.)
    func waitForExit(timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while (try? tmux(["display-message", "-p", "-t", session, "#{pane_dead}"]))?.hasPrefix("1") != true {
            guard Date() < deadline else {
                throw ScreenTimeout(what: "the dashboard to exit", screen: capture(), daemonLog: nil)
            }
            waitForOutput(until: min(deadline, Date().addingTimeInterval(0.1)))
        }
    }

    /// Ends this test's tmux server (and the dashboard in it) and removes the FIFO. Safe to
    /// call twice.
    func kill() {
        _ = try? tmux(["kill-server"])
        unlink(outputPath)
    }

    deinit {
        close(output)
        unlink(outputPath)
    }
}
