import CLinuxShims
import Foundation

/// A loop device a test creates over its own sparse file, and always detaches (by exact
/// name) and deletes. Tests only ever write to these.
public final class LoopDevice: @unchecked Sendable {  // owned by one test
    public let path: String
    public let backingFile: URL
    private let directory: URL
    private var attached = true
    /// Whether `path` is a node this device took from a range (removed again on detach).
    private let ownNode: Bool
    private var extraFiles: [URL] = []

    /// Whether this process may create loop devices (root, and `losetup` installed).
    public static var isAvailable: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/sbin/losetup")
    }

    /// Creates a sparse file of `sizeInBytes` and attaches it. `partitionScan` passes `-P`.
    /// `fill` writes that byte over the whole file first (a drive that holds "data").
    /// `nodes` attaches it to a free node of that range instead of the one `losetup -f`
    /// hands out (see `attach(_:toFreeNodeIn:)`).
    public init(sizeInBytes: UInt64, sectorSize: Int? = nil, partitionScan: Bool = false, directory parent: URL? = nil,
                fill: UInt8? = nil, nodes: Range<Int>? = nil) throws {
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
        var options: [String] = []
        if partitionScan { options.append("-P") }
        if let sectorSize { options += ["--sector-size", String(sectorSize)] }
        ownNode = nodes != nil
        do {
            if let nodes {
                path = try Self.attach(backingFile, toFreeNodeIn: nodes, options: options)
            } else {
                path = try Shell.run("/sbin/losetup", ["-f", "--show"] + options + [backingFile.path])
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                guard path.hasPrefix("/dev/loop") else { throw Shell.Failure(command: "losetup", status: -1, output: path) }
            }
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    /// Attaches `file` to the first free loop node numbered in `nodes` (losetup creates a
    /// missing node) and returns its path.
    ///
    /// A test that detaches a node and attaches it again (a pull and re-plug, a swapped
    /// medium) leaves the node free in between, and the kernel hands out the lowest free node
    /// to the next `losetup -f`: a suite running in parallel would take a low node at once and
    /// replace the drive in the daemon's view. A node far above the ones `losetup -f` hands
    /// out stays the test's own. Give each kind of test its own range.
    public static func attach(_ file: URL, toFreeNodeIn nodes: Range<Int>, options: [String] = []) throws -> String {
        var lastError: Error?
        for node in nodes where !FileManager.default.fileExists(atPath: "/sys/block/loop\(node)/loop/backing_file") {
            do {
                try Shell.run("/sbin/losetup", options + ["/dev/loop\(node)", file.path])
                return "/dev/loop\(node)"
            } catch {
                lastError = error  // taken meanwhile: try the next node
            }
        }
        throw lastError ?? Shell.Failure(command: "losetup", status: -1, output: "no free loop node in \(nodes)")
    }

    /// The node ranges of the tests that free a node and need it back (or need its slot to
    /// stay theirs): one range per suite, so that they never take each other's nodes either.
    public enum OwnNodes {
        /// `ReplugDrive` (ResumeTests).
        public static let replug = 200..<216
        /// DaemonTests' long job, whose node is swapped to another medium.
        public static let daemonSwap = 216..<232
        /// DashboardTests' drives that are pulled while the screen watches their row.
        public static let dashboard = 232..<248
    }

    /// Removes the node `path` (one `attach(_:toFreeNodeIn:)` created) once it is free, so
    /// the machine is left with the nodes it had. Best effort: the kernel refuses a node
    /// still attached or open, so this retries for up to `timeout` seconds (a deferred detach
    /// completes when its last user closes it).
    public static func removeNode(_ path: String, timeout: Double = 3) {
        guard path.hasPrefix("/dev/loop"), let index = Int32(path.dropFirst("/dev/loop".count)) else { return }
        let deadline = Date().addingTimeInterval(timeout)
        while FileManager.default.fileExists(atPath: "/sys/block/loop\(index)") {
            if !FileManager.default.fileExists(atPath: "/sys/block/loop\(index)/loop/backing_file") {
                let control = open("/dev/loop-control", O_RDWR | O_CLOEXEC)
                guard control >= 0 else { return }
                let removed = clinux_loop_ctl_remove(control, index) == 0
                close(control)
                if removed { return }
            }
            if Date() > deadline { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
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
        try Self.attach(other, toNode: path, timeout: timeout)
        return other
    }

    /// Attaches `file` to the node `path` once the node is free: the detach of a busy device
    /// is deferred until its last user closes it, so this retries for up to `timeout` seconds.
    public static func attach(_ file: URL, toNode path: String, timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            do {
                try Shell.run("/sbin/losetup", [path, file.path])
                return
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
        if ownNode { Self.removeNode(path) }
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
