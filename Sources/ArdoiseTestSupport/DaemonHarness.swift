import Foundation

/// Runs `ardoise daemon` as a child process with a configuration of its own (data in a
/// temporary directory, loop devices only from that directory), and talks to it through
/// `ardoise status --json`.
public final class DaemonHarness: @unchecked Sendable {  // owned by one test
    public let directory: URL
    public let executable: String
    public var configPath: String { directory.appendingPathComponent("ardoise.toml").path }
    public var socketPath: String { directory.appendingPathComponent("control.sock").path }
    public var dataDirectory: String { directory.appendingPathComponent("data").path }
    public var certificateDirectory: String { directory.appendingPathComponent("data/certificates").path }
    /// Loop "drives" must be backed here for the daemon to take them.
    public var drivesDirectory: URL { directory.appendingPathComponent("drives") }
    public var logPath: String { directory.appendingPathComponent("daemon.log").path }
    /// Where the daemon's test pause points are armed and released (`ARDOISE_TEST_PAUSE_DIR`).
    public var pauseDirectory: URL { directory.appendingPathComponent("pauses") }
    private var process: Process?

    public init(executable: String, policy: String = "auto", graceSeconds: Int = 1, profile: String = "zero",
                maxConcurrentJobs: Int = 4, language: String = "fr", onReplug: String = "restart") throws {
        self.executable = executable
        directory = URL(fileURLWithPath: "/tmp").appendingPathComponent("ardoise-daemon-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("drives"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("pauses"), withIntermediateDirectories: true)
        try writeConfig(policy: policy, graceSeconds: graceSeconds, profile: profile, maxConcurrentJobs: maxConcurrentJobs,
                        language: language, onReplug: onReplug)
    }

    public func writeConfig(policy: String, graceSeconds: Int = 1, profile: String = "zero", maxConcurrentJobs: Int = 4,
                            language: String = "fr", onReplug: String = "restart") throws {
        let text = """
        [bench]
        id = "test-bench"
        name = "Banc de test"
        language = "\(language)"

        [organisation]
        name = "Atelier de test"
        address = "1 rue du Test, Rennes"

        [session]
        technician = "Testeur"
        donor = "Donateur de test"
        lot = "LOT-TEST"

        [policy]
        mode = "\(policy)"
        grace-seconds = \(graceSeconds)
        on-replug = "\(onReplug)"
        allow-virtual = true
        loop-backing-directory = "\(drivesDirectory.path)"
        max-concurrent-jobs = \(maxConcurrentJobs)

        [profiles]
        default = "\(profile)"

        [paths]
        data-directory = "\(dataDirectory)"
        control-socket = "\(socketPath)"
        """
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// Adds sections to the configuration file (e.g. `[store]`), before `start()`.
    public func appendToConfig(_ text: String) throws {
        let current = try String(contentsOfFile: configPath, encoding: .utf8)
        try (current + "\n\n" + text + "\n").write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// Starts the daemon (kernel uevent source unless told otherwise) and waits for its socket.
    public func start(hotplugSource: String = "kernel") throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["daemon", "--config", configPath, "--hotplug-source", hotplugSource]
        var environment = ProcessInfo.processInfo.environment
        environment["ARDOISE_TEST_PAUSE_DIR"] = pauseDirectory.path
        process.environment = environment
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let logHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        logHandle.seekToEndOfFile()
        process.standardOutput = logHandle
        process.standardError = logHandle
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if (try? status()) != nil { return }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw Shell.Failure(command: "ardoise daemon", status: process.isRunning ? -1 : process.terminationStatus, output: log())
    }

    public func log() -> String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// SIGTERM, then waits for the process to end.
    public func stop() {
        guard let process, process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// Sends a signal (SIGHUP to reload the configuration).
    public func send(_ signal: Int32) {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, signal)
    }

    public var isRunning: Bool { process?.isRunning ?? false }

    /// The PID of the daemon started last (running or not), nil before `start`.
    public var processIdentifier: Int32? { process?.processIdentifier }

    // MARK: Pause points (see Sources/Bench/TestPause.swift)

    /// Arms a pause point: the daemon stops there once, until `release`. `content` refines
    /// the point (`verify`: the pass number).
    public func arm(_ point: String, _ content: String = "") throws {
        try? FileManager.default.removeItem(at: pauseDirectory.appendingPathComponent("\(point).release"))
        try? FileManager.default.removeItem(at: pauseDirectory.appendingPathComponent("\(point).reached"))
        try content.write(to: pauseDirectory.appendingPathComponent("\(point).arm"), atomically: true, encoding: .utf8)
    }

    /// Waits until the daemon is paused at `point`.
    public func waitForPause(_ point: String, timeout: Double = 120) throws {
        let reached = pauseDirectory.appendingPathComponent("\(point).reached").path
        let deadline = Date().addingTimeInterval(timeout)
        while !FileManager.default.fileExists(atPath: reached) {
            guard Date() < deadline, isRunning else {
                throw Shell.Failure(command: "wait for pause \(point)", status: -1, output: log())
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// Lets the daemon go on from `point`.
    public func release(_ point: String) {
        FileManager.default.createFile(atPath: pauseDirectory.appendingPathComponent("\(point).release").path, contents: nil)
    }

    /// SIGKILL: the crash case.
    public func kill9() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// The bench as `ardoise status --json` prints it.
    public func status() throws -> [String: Any] {
        // Bounded: a daemon that stops answering fails the test instead of hanging it.
        let output = try Shell.run("/usr/bin/timeout", ["10", executable, "status", "--json", "--socket", socketPath])
        return (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]) ?? [:]
    }

    public func slot(_ device: String) throws -> [String: Any]? {
        (try status()["slots"] as? [[String: Any]])?.first { $0["device"] as? String == device }
    }

    public func state(_ device: String) -> String? {
        (try? slot(device))?.flatMap { $0["state"] as? String }
    }

    /// Polls until `predicate` holds for the device's slot, or throws after `timeout` seconds.
    @discardableResult
    public func waitFor(_ device: String, timeout: Double = 60, _ what: String,
                        _ predicate: ([String: Any]) -> Bool) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        var last: [String: Any]?
        while Date() < deadline {
            if let slot = try? slot(device) {
                last = slot
                if predicate(slot) { return slot }
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw Shell.Failure(command: "wait for \(device) \(what)", status: -1,
                            output: "last slot: \(String(describing: last))\n--- daemon log ---\n\(log())")
    }

    @discardableResult
    public func waitForState(_ device: String, _ states: Set<String>, timeout: Double = 60) throws -> [String: Any] {
        try waitFor(device, timeout: timeout, "state in \(states)") { states.contains($0["state"] as? String ?? "") }
    }

    public func cleanUp() {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { cleanUp() }
}

/// A drive a test can pull and plug in again: a backing file of its own, attached to a loop
/// node, detached, and attached again to the same node (a re-plug: new diskseq, same file).
public final class ReplugDrive: @unchecked Sendable {  // owned by one test
    public let file: URL
    /// The node the file is attached to (kept after a detach, to re-plug on the same node).
    public private(set) var path: String
    /// The file attached now by this drive, nil when pulled.
    private var attachedFile: URL?

    /// Creates `name` in `directory` filled with `fill` and attaches it to a free node of
    /// `nodes`, which stays this drive's while it is pulled (`LoopDevice.attach(_:toFreeNodeIn:)`).
    public init(sizeInBytes: Int, in directory: URL, name: String = "replug-\(UUID().uuidString.prefix(8)).img",
                fill: UInt8 = 0x5A, nodes: Range<Int> = LoopDevice.OwnNodes.replug) throws {
        file = directory.appendingPathComponent(name)
        FileManager.default.createFile(atPath: file.path, contents: Data(repeating: fill, count: sizeInBytes))
        do {
            path = try LoopDevice.attach(file, toFreeNodeIn: nodes)
        } catch {
            try? FileManager.default.removeItem(at: file)
            throw error
        }
        attachedFile = file
    }

    /// Pulls the drive. The kernel defers the detach of a busy node until its last user
    /// closes it (the daemon notices the pull through `loop/autoclear`).
    public func pull() throws {
        try Shell.run("/sbin/losetup", ["-d", path])
        attachedFile = nil
    }

    /// Plugs `file` (this drive's, or another one) into the same node once the node is free.
    public func plug(_ other: URL? = nil, timeout: Double = 60) throws {
        try LoopDevice.attach(other ?? file, toNode: path, timeout: timeout)
        attachedFile = other ?? file
    }

    /// Detaches the node (by exact name, and only while it still holds a file this drive
    /// attached) and deletes the file. Safe to call twice.
    public func cleanUp() {
        let name = (path as NSString).lastPathComponent
        let backing = (try? String(contentsOfFile: "/sys/block/\(name)/loop/backing_file", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: " (deleted)", with: "")
        if let attachedFile, backing == attachedFile.path { _ = try? Shell.run("/sbin/losetup", ["-d", path]) }
        if attachedFile != nil || backing == nil { LoopDevice.removeNode(path) }
        attachedFile = nil
        try? FileManager.default.removeItem(at: file)
    }

    deinit { cleanUp() }
}

/// Creates loop devices backed in a given directory (a harness's drives directory).
extension LoopDevice {
    public convenience init(sizeInBytes: UInt64, in directory: URL, fill: UInt8? = 0x5A, nodes: Range<Int>? = nil) throws {
        try self.init(sizeInBytes: sizeInBytes, sectorSize: nil, partitionScan: false, directory: directory, fill: fill, nodes: nodes)
    }
}

/// The `ardoise` executable built next to the test bundle (`.build/<triple>/<configuration>/`).
public enum ArdoiseExecutable {
    /// Found from the test binary's own path (`/proc/self/exe`), walking up a few levels
    /// since the xctest bundle may be a directory on some toolchains; nil when not built.
    public static var located: String? {
        let start = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: start).deletingLastPathComponent()
        for _ in 0..<3 {
            let candidate = directory.appendingPathComponent("ardoise").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }

    /// `located`, or the expected place (so a missing build fails with a clear path).
    public static var path: String {
        located ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("ardoise").path
    }
}

/// Deterministic pseudo-random numbers for tests (SplitMix64, Steele et al. 2014).
public struct SplitMix64 {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Reads the payload of a signed certificate (JWS JSON serialization) without verifying it:
/// tests check the status a certificate claims; `ardoise cert verify` checks the signature.
public enum CertificateFile {
    public static func payload(atPath path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let jws = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        var encoded = (jws?["payload"] as? String ?? "").replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while encoded.count % 4 != 0 { encoded += "=" }
        guard let decoded = Data(base64Encoded: encoded) else { return [:] }
        return (try JSONSerialization.jsonObject(with: decoded) as? [String: Any]) ?? [:]
    }

    /// `erased`, `erased_with_exceptions` or `not_erased`.
    public static func status(atPath path: String) throws -> String? {
        (try payload(atPath: path)["result"] as? [String: Any])?["status"] as? String
    }
}
