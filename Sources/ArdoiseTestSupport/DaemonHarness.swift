import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs `ardoise daemon` as a child process with a configuration of its own (data in a
/// temporary directory, loop devices only from that directory), and follows it by events:
/// its readiness (`sd_notify` READY=1 on a socket of the harness), its log lines (read from
/// its standard error as they come), the bench's changes (the control socket's `watch`
/// stream) and its pause points (FIFOs). Nothing here polls on a timer; each wait has a
/// deadline only so that a broken daemon fails the test instead of hanging it.
public final class DaemonHarness: @unchecked Sendable {  // owned by one test
    public let directory: URL
    public let executable: String
    /// What runs the daemon: `ardoise-testbed` (the same commands plus the pause points)
    /// next to `executable` when built, else `executable` (no pause points).
    public let daemonExecutable: String
    public var configPath: String { directory.appendingPathComponent("ardoise.toml").path }
    public var socketPath: String { directory.appendingPathComponent("control.sock").path }
    public var dataDirectory: String { directory.appendingPathComponent("data").path }
    public var certificateDirectory: String { directory.appendingPathComponent("data/certificates").path }
    /// Loop "drives" must be backed here for the daemon to take them.
    public var drivesDirectory: URL { directory.appendingPathComponent("drives") }
    public var logPath: String { directory.appendingPathComponent("daemon.log").path }
    /// Where the daemon's test pause points are armed and released (`ARDOISE_TEST_PAUSE_DIR`).
    public var pauseDirectory: URL { directory.appendingPathComponent("pauses") }
    var notifyPath: String { directory.appendingPathComponent("notify.sock").path }
    private var process: Process?
    /// The daemon's standard error so far (all runs), and a condition signalled at each read.
    private let output = NSCondition()
    private var outputText = ""
    /// Daemon outputs still open (a killed daemon's may end after the next one started).
    private var openOutputs = 0
    private var outputOpen: Bool { openOutputs > 0 }

    public init(executable: String, policy: String = "auto", graceSeconds: Int = 1, profile: String = "zero",
                maxConcurrentJobs: Int = 4, language: String = "fr", onReplug: String = "restart") throws {
        self.executable = executable
        let testbed = URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("ardoise-testbed").path
        daemonExecutable = FileManager.default.isExecutableFile(atPath: testbed) ? testbed : executable
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

    /// Starts the daemon (kernel uevent source unless told otherwise) and waits until it says
    /// it is ready (`READY=1` on `NOTIFY_SOCKET`, sent once it serves its socket and has
    /// looked at the drives already there).
    public func start(hotplugSource: String = "kernel", timeout: Double = 60) throws {
        let notify = try NotifySocket(path: notifyPath)
        defer { notify.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: daemonExecutable)
        process.arguments = ["daemon", "--config", configPath, "--hotplug-source", hotplugSource]
        var environment = ProcessInfo.processInfo.environment
        environment["ARDOISE_TEST_PAUSE_DIR"] = pauseDirectory.path
        environment["NOTIFY_SOCKET"] = notifyPath
        process.environment = environment
        if !FileManager.default.fileExists(atPath: logPath) { FileManager.default.createFile(atPath: logPath, contents: nil) }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        self.process = process
        follow(pipe.fileHandleForReading)
        while true {
            let message = notify.receive(timeout: timeout)
            if message?.contains("READY=1") == true { return }
            if message == nil || !process.isRunning { break }
        }
        throw Shell.Failure(command: "ardoise daemon", status: process.isRunning ? -1 : process.terminationStatus, output: log())
    }

    /// Copies the daemon's output to `logPath` and to memory as it comes, and wakes waiters.
    private func follow(_ handle: FileHandle) {
        output.lock()
        openOutputs += 1
        output.unlock()
        let logPath = self.logPath
        let thread = Thread { [output] in
            let file = FileHandle(forWritingAtPath: logPath)
            file?.seekToEndOfFile()
            while true {
                let chunk = handle.availableData
                output.lock()
                if chunk.isEmpty {
                    self.openOutputs -= 1
                    output.broadcast()
                    output.unlock()
                    break
                }
                self.outputText += String(decoding: chunk, as: UTF8.self)
                output.broadcast()
                output.unlock()
                file?.write(chunk)
            }
            try? file?.close()
            try? handle.close()
        }
        thread.name = "daemon-harness-output"
        thread.start()
    }

    public func log() -> String {
        output.lock()
        defer { output.unlock() }
        return outputText.isEmpty ? ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "") : outputText
    }

    /// Waits until the daemon's output holds `text` (after `start`, the output's length
    /// before the awaited event) and returns the first line holding it; throws at the
    /// deadline or when the daemon's output ends without it.
    @discardableResult
    public func waitForLog(_ text: String, after start: Int = 0, timeout: Double = 60) throws -> String {
        try waitForLogLine(after: start, timeout: timeout, "a log line with '\(text)'") { $0.contains(text) }
    }

    /// Waits, woken by each read of the daemon's output, for a complete line after `start`
    /// that `matches`, and returns it.
    @discardableResult
    public func waitForLogLine(after start: Int = 0, timeout: Double = 60, _ what: String,
                               _ matches: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        output.lock()
        defer { output.unlock() }
        while true {
            let tail = String(decoding: outputText.utf8.dropFirst(start), as: UTF8.self)
            // Only complete lines: a line being written may not hold all its fields yet.
            let complete = tail.hasSuffix("\n") ? tail : String(tail[..<(tail.lastIndex(of: "\n") ?? tail.startIndex)])
            if let line = complete.split(separator: "\n").first(where: { matches(String($0)) }) { return String(line) }
            guard outputOpen, output.wait(until: deadline) else {
                throw Shell.Failure(command: "wait for \(what)", status: -1, output: outputText)
            }
        }
    }

    /// The value of `key` in a log line (`key=value` or `key="quoted value"`).
    public static func logField(_ key: String, in line: String) -> String? {
        guard let range = line.range(of: " \(key)=") else { return nil }
        let rest = line[range.upperBound...]
        if rest.hasPrefix("\"") {
            var value = ""
            var escaped = false
            for character in rest.dropFirst() {
                if escaped { value.append(character); escaped = false } else if character == "\\" { escaped = true }
                else if character == "\"" { break } else { value.append(character) }
            }
            return value
        }
        return String(rest.prefix { $0 != " " })
    }

    /// The length of the output so far (to wait for a line that comes after an action).
    public var logLength: Int {
        output.lock()
        defer { output.unlock() }
        return outputText.utf8.count
    }

    /// SIGTERM, then waits for the process to end.
    public func stop() {
        guard let process, process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// Waits for the daemon to end by itself (after a signal) and returns its exit status.
    @discardableResult
    public func waitUntilExit() -> Int32 {
        guard let process else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Sends a signal (SIGHUP to reload the configuration).
    public func send(_ signal: Int32) {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, signal)
    }

    public var isRunning: Bool { process?.isRunning ?? false }

    /// The PID of the daemon started last (running or not), nil before `start`.
    public var processIdentifier: Int32? { process?.processIdentifier }

    /// The daemon's exit status once it ended (nil while it runs).
    public var terminationStatus: Int32? {
        guard let process, !process.isRunning else { return nil }
        return process.terminationStatus
    }

    // MARK: Pause points (ardoise-testbed's FIFOPauseHooks)

    /// Arms a pause point: the daemon stops there once, until `release`. `content` refines
    /// the point (`verify`: the pass number).
    public func arm(_ point: String, _ content: String = "") throws {
        for suffix in ["release", "reached"] {
            let path = pauseDirectory.appendingPathComponent("\(point).\(suffix)").path
            unlink(path)
            guard mkfifo(path, 0o600) == 0 else {
                throw Shell.Failure(command: "mkfifo \(path)", status: errno, output: String(cString: strerror(errno)))
            }
        }
        try content.write(to: pauseDirectory.appendingPathComponent("\(point).arm"), atomically: true, encoding: .utf8)
    }

    /// Waits until the daemon is paused at `point` (a byte in the FIFO `point.reached`).
    public func waitForPause(_ point: String, timeout: Double = 120) throws {
        let path = pauseDirectory.appendingPathComponent("\(point).reached").path
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw Shell.Failure(command: "open \(path) (not armed?)", status: errno, output: log()) }
        defer { Glibc.close(fd) }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
            let ready = poll(&entry, 1, left)
            if ready < 0 && errno == EINTR { continue }
            if ready > 0 && entry.revents & Int16(POLLIN) != 0 {
                var byte: UInt8 = 0
                _ = read(fd, &byte, 1)
                return
            }
            // Timed out, or the daemon closed its end without writing (it died).
            throw Shell.Failure(command: "wait for pause \(point)", status: -1, output: log())
        }
    }

    /// Lets the daemon go on from `point`.
    public func release(_ point: String) {
        let fd = open(pauseDirectory.appendingPathComponent("\(point).release").path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return }  // nobody paused there (any more)
        var byte: UInt8 = 1
        _ = write(fd, &byte, 1)
        Glibc.close(fd)
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

    /// Follows the bench (control socket `watch`: a snapshot now and after every change) until
    /// `predicate` holds for the device's slot; throws after `timeout` seconds.
    @discardableResult
    public func waitFor(_ device: String, timeout: Double = 60, _ what: String,
                        _ predicate: ([String: Any]) -> Bool) throws -> [String: Any] {
        var last: [String: Any]?
        do {
            try watch(timeout: timeout) { snapshot in
                guard let slot = (snapshot["slots"] as? [[String: Any]])?.first(where: { $0["device"] as? String == device }) else {
                    return false
                }
                last = slot
                return predicate(slot)
            }
        } catch {
            throw Shell.Failure(command: "wait for \(device) \(what)", status: -1,
                                output: "\(error)\nlast slot: \(String(describing: last))\n--- daemon log ---\n\(log())")
        }
        return last ?? [:]
    }

    @discardableResult
    public func waitForState(_ device: String, _ states: Set<String>, timeout: Double = 60) throws -> [String: Any] {
        try waitFor(device, timeout: timeout, "state in \(states)") { states.contains($0["state"] as? String ?? "") }
    }

    /// Reads the control socket's `watch` stream until `done` is true for a snapshot (as
    /// `status --json` prints it). Throws at the deadline or when the stream ends.
    public func watch(timeout: Double = 60, until done: ([String: Any]) -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        let connection = try ControlWatch(path: socketPath)
        defer { connection.close() }
        while let line = try connection.nextLine(deadline: deadline) {
            guard let response = try? JSONSerialization.jsonObject(with: line) as? [String: Any],
                  let snapshot = response["snapshot"] as? [String: Any] else { continue }
            if done(snapshot) { return }
        }
        throw Shell.Failure(command: "watch \(socketPath)", status: -1, output: "the daemon closed its watch stream")
    }

    /// Follows the bench for `seconds` — a window in which something must not happen — and
    /// hands `body` every snapshot as it comes (a snapshot now, then one after each change);
    /// returns at the end of the window. Throws when the daemon closes the stream meanwhile.
    public func observe(for seconds: Double, _ body: ([String: Any]) -> Void) throws {
        let deadline = Date().addingTimeInterval(seconds)
        let connection = try ControlWatch(path: socketPath)
        defer { connection.close() }
        while true {
            let line: Data?
            do {
                line = try connection.nextLine(deadline: deadline)
            } catch {
                return  // the window ended
            }
            guard let line else {
                throw Shell.Failure(command: "observe \(socketPath)", status: -1, output: "the daemon closed its watch stream")
            }
            if let response = try? JSONSerialization.jsonObject(with: line) as? [String: Any],
               let snapshot = response["snapshot"] as? [String: Any] {
                body(snapshot)
            }
        }
    }

    public func cleanUp() {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { cleanUp() }
}

/// A datagram socket a daemon's `sd_notify` messages arrive on (`NOTIFY_SOCKET`).
public final class NotifySocket {
    private let fd: Int32
    private let path: String

    public init(path: String) throws {
        self.path = path
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Shell.Failure(command: "socket", status: errno, output: "") }
        var address = try unixAddress(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            Glibc.close(fd)
            throw Shell.Failure(command: "bind \(path)", status: errno, output: String(cString: strerror(errno)))
        }
    }

    /// The next message, nil at the deadline.
    public func receive(timeout: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, Int32(max(0, deadline.timeIntervalSinceNow) * 1000))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return nil }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count >= 0 else { return nil }
            return String(decoding: buffer[0..<count], as: UTF8.self)
        }
    }

    /// Waits for a message holding `READY=1` (other messages, e.g. `STATUS=`, are skipped);
    /// false at the deadline or when `stillRunning` says the sender is gone.
    public func waitForReady(timeout: Double, stillRunning: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while let message = receive(timeout: max(0, deadline.timeIntervalSinceNow)) {
            if message.contains("READY=1") { return true }
            if !stillRunning() { return false }
        }
        return false
    }

    public func close() {
        Glibc.close(fd)
        unlink(path)
    }
}

/// One `watch` connection to a daemon's control socket.
final class ControlWatch {
    private let fd: Int32
    private var buffer = Data()

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Shell.Failure(command: "socket", status: errno, output: "") }
        var address = try unixAddress(path)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            let code = errno
            Glibc.close(fd)
            throw Shell.Failure(command: "connect \(path)", status: code, output: String(cString: strerror(code)))
        }
        let request = Array("{\"command\":\"watch\"}\n".utf8)
        guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else {
            Glibc.close(fd)
            throw Shell.Failure(command: "send watch", status: errno, output: "")
        }
    }

    /// The next line, nil when the daemon closed the stream; throws at the deadline.
    func nextLine(deadline: Date) throws -> Data? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex..<newline]
                buffer = Data(buffer[buffer.index(after: newline)...])
                return Data(line)
            }
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, Int32(max(0, deadline.timeIntervalSinceNow) * 1000))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { throw Shell.Failure(command: "watch", status: -1, output: "timed out") }
            var chunk = [UInt8](repeating: 0, count: 64 << 10)
            let count = recv(fd, &chunk, chunk.count, 0)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return nil }
            buffer.append(contentsOf: chunk[0..<count])
        }
    }

    func close() { Glibc.close(fd) }
}

func unixAddress(_ path: String) throws -> sockaddr_un {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
        throw Shell.Failure(command: "socket path too long", status: -1, output: path)
    }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        raw.copyBytes(from: bytes)
        raw[bytes.count] = 0
    }
    return address
}

/// A drive a test can pull and plug in again: a backing file of its own, attached to a loop
/// node, detached, and attached again to the same node (a re-plug: new diskseq, same file).
public final class ReplugDrive: @unchecked Sendable {  // owned by one test
    public let file: URL
    /// The node the file is attached to (kept after a detach, to re-plug on the same node).
    public private(set) var path: String
    /// The file attached now by this drive, nil when pulled.
    private var attachedFile: URL?

    /// Creates `name` in `directory` filled with `fill` and attaches it to a node made for it
    /// (`LoopDevice.attachToNewNode`), which stays this drive's while it is pulled.
    public init(sizeInBytes: Int, in directory: URL, name: String = "replug-\(UUID().uuidString.prefix(8)).img",
                fill: UInt8 = 0x5A) throws {
        file = directory.appendingPathComponent(name)
        FileManager.default.createFile(atPath: file.path, contents: Data(repeating: fill, count: sizeInBytes))
        do {
            path = try LoopDevice.attachToNewNode(file)
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
    public convenience init(sizeInBytes: UInt64, in directory: URL, fill: UInt8? = 0x5A, ownNode: Bool = false) throws {
        try self.init(sizeInBytes: sizeInBytes, sectorSize: nil, partitionScan: false, directory: directory, fill: fill, ownNode: ownNode)
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
