import Foundation
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
    var pid: Int32 { process.processIdentifier }
    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// `listen`: a fixed port to come back on after a stop (default: any free port).
    static func start(database: String, listen: String = "127.0.0.1:0", extra: [String] = []) async throws -> ServerProcess {
        let executable = try #require(StoreExecutable.path, "ardoise-store is not built")
        let directory = try StoreFixture.temporaryDirectory()
        let log = directory + "/serve.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["serve", "--listen", listen, "--db", database] + extra
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let text = String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self)
            if let range = text.range(of: "listening on http://127.0.0.1:") {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits) { return ServerProcess(process: process, port: port, logPath: log) }
            }
            if !process.isRunning {
                throw ServerFailure(message: "ardoise-store serve exited (\(process.terminationStatus)): \(text)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        throw ServerFailure(message: "ardoise-store serve did not start within 120 s")
    }

    private init(process: Process, port: Int, logPath: String) {
        self.process = process
        self.port = port
        self.logPath = logPath
    }

    /// SIGKILL: the store dies mid-request, as in a power cut of its process.
    func kill9() {
        guard process.isRunning else { return }
        kill(pid, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM (graceful), then SIGKILL after 20 s.
    func stop() {
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        kill9()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: (logPath as NSString).deletingLastPathComponent)
    }
}

struct ServerFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
