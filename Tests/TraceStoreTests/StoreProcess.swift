import Foundation
import Synchronization
import Testing

/// The built `ardoise-store` executable, run as a separate process (CLI tests, the kill -9 test).
enum StoreExecutable {
    /// Next to the test bundle (.build/<triple>/debug/ardoise-store).
    static var path: String? {
        let start = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: start).deletingLastPathComponent()
        for _ in 0..<3 {
            let candidate = directory.appendingPathComponent("ardoise-store").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }

    struct Result {
        var status: Int32
        var output: String
        var error: String
    }

    /// Runs `ardoise-store arguments…` to completion (output through files, so no pipe fills up).
    static func run(_ arguments: [String], environment: [String: String] = ["LANG": "fr_FR.UTF-8"]) throws -> Result {
        let executable = try #require(path, "ardoise-store is not built (swift build --build-tests)")
        return try run(executable: executable, arguments, environment: environment)
    }

    /// Runs any program (the bench's `ardoise`, too) to completion the same way.
    static func run(executable: String, _ arguments: [String], environment: [String: String] = ["LANG": "fr_FR.UTF-8"]) throws -> Result {
        let directory = try StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let out = directory + "/out", err = directory + "/err"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        merged["LC_ALL"] = nil
        process.environment = merged
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        try process.run()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      output: String(decoding: FileManager.default.contents(atPath: out) ?? Data(), as: UTF8.self),
                      error: String(decoding: FileManager.default.contents(atPath: err) ?? Data(), as: UTF8.self))
    }
}

/// `ardoise-store serve` in its own process on 127.0.0.1 and a free port. Stopped by its exact
/// PID (`kill9()` for the fault test, `stop()` otherwise); `deinit` never leaves it running.
final class ServerProcess: @unchecked Sendable {
    // Owned by the test that started it; only that test calls its methods.
    let process: Process
    let port: Int
    let logPath: String
    /// Signalled once by the process's termination handler.
    private let exited: DispatchSemaphore
    var pid: Int32 { process.processIdentifier }
    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// `listen`: a fixed port to come back on after a stop (default: any free port). Returns
    /// once the store says on its output that it listens (its "listening on" line, read as it
    /// comes through a pipe; the port is taken from it), or throws when it exits first.
    static func start(database: String, listen: String = "127.0.0.1:0", extra: [String] = []) async throws -> ServerProcess {
        let executable = try #require(StoreExecutable.path, "ardoise-store is not built")
        let directory = try StoreFixture.temporaryDirectory()
        let log = directory + "/serve.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["serve", "--listen", listen, "--db", database] + extra
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        let line = ListeningLine(pipe: pipe.fileHandleForReading, logPath: log)
        do {
            let port = try await line.port(timeout: .seconds(120))
            return ServerProcess(process: process, port: port, logPath: log, exited: exited)
        } catch {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw error
        }
    }

    private init(process: Process, port: Int, logPath: String, exited: DispatchSemaphore) {
        self.process = process
        self.port = port
        self.logPath = logPath
        self.exited = exited
    }

    /// SIGKILL: the store dies mid-request, as in a power cut of its process.
    func kill9() {
        guard process.isRunning else { return }
        kill(pid, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM (graceful), then SIGKILL if it has not exited 20 s later (woken by its exit).
    func stop() {
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        if exited.wait(timeout: .now() + 20) == .timedOut { kill9() }
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: (logPath as NSString).deletingLastPathComponent)
    }
}

/// Reads a store's output as it comes (on a thread of its own, for the process's whole life,
/// so the pipe never fills up), copies it to `logPath`, and hands over the port of its first
/// "listening on http://127.0.0.1:PORT" line, or the output when the store exits before.
final class ListeningLine: Sendable {
    private let result = Mutex<(continuation: CheckedContinuation<Int, any Error>?, outcome: Result<Int, ServerFailure>?)>((nil, nil))

    init(pipe: FileHandle, logPath: String) {
        let thread = Thread { [self] in
            let log = FileHandle(forWritingAtPath: logPath)
            var text = ""
            while true {
                let chunk = pipe.availableData
                if chunk.isEmpty { break }
                log?.write(chunk)
                guard !self.isSettled else { continue }
                text += String(decoding: chunk, as: UTF8.self)
                if let range = text.range(of: "listening on http://127.0.0.1:") {
                    let digits = text[range.upperBound...].prefix { $0.isNumber }
                    // The whole number is there once something follows it.
                    if digits.endIndex < text.endIndex, let port = Int(digits) { self.settle(.success(port)) }
                }
            }
            self.settle(.failure(ServerFailure(message: "ardoise-store serve exited before listening: \(text)")))
            try? log?.close()
            try? pipe.close()
        }
        thread.name = "store-output"
        thread.start()
    }

    private var isSettled: Bool { result.withLock { $0.outcome != nil } }

    private func settle(_ outcome: Result<Int, ServerFailure>) {
        let waiting = result.withLock { state -> CheckedContinuation<Int, any Error>? in
            guard state.outcome == nil else { return nil }
            state.outcome = outcome
            defer { state.continuation = nil }
            return state.continuation
        }
        waiting?.resume(with: outcome.mapError { $0 as any Error })
    }

    /// The port, once the line came. The deadline only fails a store that hangs at start.
    func port(timeout: Duration) async throws -> Int {
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            self?.settle(.failure(ServerFailure(message: "ardoise-store serve did not say it listens within \(timeout)")))
        }
        defer { timer.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            let outcome = result.withLock { state -> Result<Int, ServerFailure>? in
                if state.outcome == nil { state.continuation = continuation }
                return state.outcome
            }
            if let outcome { continuation.resume(with: outcome.mapError { $0 as any Error }) }
        }
    }
}

struct ServerFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
