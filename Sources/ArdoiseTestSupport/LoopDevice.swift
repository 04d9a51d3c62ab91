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
    /// `ownNode` attaches it to a node made for it (`attachToNewNode`) instead of the one
    /// `losetup -f` hands out, and removes that node on detach.
    public init(sizeInBytes: UInt64, sectorSize: Int? = nil, partitionScan: Bool = false, directory parent: URL? = nil,
                fill: UInt8? = nil, ownNode: Bool = false) throws {
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
        self.ownNode = ownNode
        do {
            if ownNode {
                path = try Self.attachToNewNode(backingFile, options: options)
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

    /// Attaches `file` to a loop node made for it and returns its path.
    ///
    /// A test that detaches a node and attaches it again (a pull and re-plug, a swapped
    /// medium) leaves the node free in between, and the kernel hands out the lowest free node
    /// to the next `losetup -f`: a suite running in parallel would take a low node at once and
    /// replace the drive in the daemon's view. So the node is made here, above every loop node
    /// the machine has now (LOOP_CTL_ADD, which the kernel refuses for an index in use: two
    /// suites never get the same one), whatever numbers the host uses or leaves free.
    public static func attachToNewNode(_ file: URL, options: [String] = []) throws -> String {
        let control = open("/dev/loop-control", O_RDWR | O_CLOEXEC)
        guard control >= 0 else { throw Shell.Failure(command: "open /dev/loop-control", status: errno, output: String(cString: strerror(errno))) }
        defer { close(control) }
        // Above the highest node now, with some spread so that parallel suites rarely collide.
        var index = highestLoopIndex() + 1 + Int.random(in: 0..<64)
        var lastError: Error?
        for _ in 0..<256 {
            defer { index += 1 }
            guard index < (1 << 20) else { break }
            let added = clinux_loop_ctl_add(control, Int32(index))
            if added < 0 {
                if errno == EEXIST { continue }
                throw Shell.Failure(command: "LOOP_CTL_ADD \(index)", status: errno, output: String(cString: strerror(errno)))
            }
            let path = "/dev/loop\(index)"
            do {
                try attach(file, toNode: path, timeout: 2)
                return path
            } catch {
                // Taken by someone's `losetup -f` between the add and the attach: leave it to them.
                lastError = error
            }
        }
        throw lastError ?? Shell.Failure(command: "losetup", status: -1, output: "no loop node could be made")
    }

    /// The highest loop index the machine has (sysfs or /dev), -1 when none.
    static func highestLoopIndex() -> Int {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/block")) ?? [])
            + ((try? FileManager.default.contentsOfDirectory(atPath: "/dev")) ?? [])
        return names.compactMap { $0.hasPrefix("loop") ? Int($0.dropFirst(4)) : nil }.max() ?? -1
    }

    /// Removes the node `path` (one `attachToNewNode` created) once it is free, so
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
