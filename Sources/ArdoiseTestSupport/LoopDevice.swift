import Foundation

/// A loop device a test creates over its own sparse file, and always detaches (by exact
/// name) and deletes. Tests only ever write to these.
public final class LoopDevice: @unchecked Sendable {  // owned by one test
    public let path: String
    public let backingFile: URL
    private let directory: URL
    private var attached = true
    private var extraFiles: [URL] = []

    /// Whether this process may create loop devices (root, and `losetup` installed).
    public static var isAvailable: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/sbin/losetup")
    }

    /// Creates a sparse file of `sizeInBytes` and attaches it. `partitionScan` passes `-P`.
    /// `fill` writes that byte over the whole file first (a drive that holds "data").
    public init(sizeInBytes: UInt64, sectorSize: Int? = nil, partitionScan: Bool = false, directory parent: URL? = nil,
                fill: UInt8? = nil) throws {
        directory = (parent ?? FileManager.default.temporaryDirectory).appendingPathComponent("ardoise-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        backingFile = directory.appendingPathComponent("drive.img")
        FileManager.default.createFile(atPath: backingFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: backingFile)
        try handle.truncate(atOffset: sizeInBytes)
        if let fill {
            let chunk = Data(repeating: fill, count: 1 << 20)
            var written: UInt64 = 0
            try handle.seek(toOffset: 0)
            while written < sizeInBytes {
                let count = Int(min(UInt64(chunk.count), sizeInBytes - written))
                try handle.write(contentsOf: chunk.prefix(count))
                written += UInt64(count)
            }
        }
        try handle.close()
        var arguments = ["-f", "--show"]
        if partitionScan { arguments.append("-P") }
        if let sectorSize { arguments += ["--sector-size", String(sectorSize)] }
        arguments.append(backingFile.path)
        path = try Shell.run("/sbin/losetup", arguments).trimmingCharacters(in: .whitespacesAndNewlines)
        guard path.hasPrefix("/dev/loop") else { throw Shell.Failure(command: "losetup", status: -1, output: path) }
    }

    /// `loop3` for `/dev/loop3`.
    public var name: String { (path as NSString).lastPathComponent }

    /// Re-attaches the same node to a new file (a different medium on the same node).
    /// `otherDirectory` places the new file elsewhere (outside a bench's drives directory).
    public func swapMedium(sizeInBytes: UInt64, fill: UInt8 = 0xA5, otherDirectory: URL? = nil,
                           detach: Bool = true, timeout: Double = 10) throws -> URL {
        let folder = otherDirectory ?? directory
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let other = folder.appendingPathComponent("other-\(UUID().uuidString).img")
        FileManager.default.createFile(atPath: other.path, contents: Data(repeating: fill, count: Int(sizeInBytes)))
        extraFiles.append(other)
        if detach { try Shell.run("/sbin/losetup", ["-d", path]) }
        // A detach of a busy device is deferred until its last user closes it: retry.
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            do {
                try Shell.run("/sbin/losetup", [path, other.path])
                return other
            } catch {
                if Date() > deadline { throw error }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
    }

    /// Detaches the device and deletes the backing files. Safe to call twice.
    public func detach() {
        guard attached else { return }
        attached = false
        _ = try? Shell.run("/sbin/losetup", ["-d", path])
        try? FileManager.default.removeItem(at: directory)
        for file in extraFiles { try? FileManager.default.removeItem(at: file) }
    }

    deinit { detach() }
}

/// Runs a program and returns its standard output; throws on a non-zero status.
public enum Shell {
    public struct Failure: Error, CustomStringConvertible {
        public let command: String
        public let status: Int32
        public let output: String
        public var description: String { "\(command) exited \(status): \(output)" }
    }

    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           input: String? = nil) throws -> String {
        let result = try runCapturing(executable, arguments, environment: environment, input: input)
        guard result.status == 0 else {
            throw Failure(command: ([executable] + arguments).joined(separator: " "), status: result.status,
                          output: result.standardOutput + result.standardError)
        }
        return result.standardOutput
    }

    /// Runs and returns status, stdout and stderr, whatever the status.
    public static func runCapturing(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                                    input: String? = nil) throws -> (status: Int32, standardOutput: String, standardError: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe(), inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inPipe
        try process.run()
        if let input { inPipe.fileHandleForWriting.write(Data(input.utf8)) }
        try? inPipe.fileHandleForWriting.close()
        // Read both pipes before waiting so a chatty child never blocks on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var errorData = Data()
        group.enter()
        DispatchQueue.global().async {
            errorData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outputData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }
}
