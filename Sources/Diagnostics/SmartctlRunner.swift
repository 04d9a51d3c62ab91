import DeviceKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs smartmontools' `smartctl` and hands back its JSON, or why there is none.
/// Never throws and never crashes on a missing tool, a refusing bridge or garbage output:
/// those become `SmartReading.unavailable` and the `unknown` verdict.
public struct SmartctlRunner: Sendable {
    /// The executable; by default the first `smartctl` found in `PATH`, `/usr/sbin`, `/sbin`.
    public var executable: String?
    /// Seconds before a hung smartctl is killed.
    public var timeoutSeconds: Double

    public init(executable: String? = nil, timeoutSeconds: Double = 120) {
        self.executable = executable ?? Self.locate()
        self.timeoutSeconds = timeoutSeconds
    }

    static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        let path = (environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/local/sbin"]
        for directory in path where !directory.isEmpty {
            let candidate = (directory as NSString).appendingPathComponent("smartctl")
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// smartctl's `-d` type for a drive on this transport (DeviceKit's detection, as lsblk's
    /// TRAN): USB bridges speak SAT, SATA behind libata too, SAS is SCSI, NVMe is NVMe.
    /// Nil leaves smartctl to probe (virtual and unknown transports).
    public static func deviceType(for transport: Transport) -> String? {
        switch transport {
        case .usb, .sata, .ata: "sat"
        case .nvme: "nvme"
        case .sas, .scsi: "scsi"
        default: nil
        }
    }

    /// A `-d` value smartctl could accept: letters, digits and `,+_-` (e.g. `sat,12`, `sat+megaraid,0`).
    public static func isValidDeviceType(_ value: String) -> Bool {
        !value.isEmpty && value.count <= 40 && value.allSatisfy { $0.isLetter || $0.isNumber || ",+_-".contains($0) }
    }

    /// `smartctl --json=c -x [-d TYPE] DEVICE`. Blocks for as long as smartctl runs.
    public func read(device: String, deviceType: String?) -> SmartReading {
        var arguments = ["--json=c", "-x"]
        if let deviceType { arguments += ["-d", deviceType] }
        arguments.append(device)
        return run(arguments)
    }

    /// Runs smartctl with `arguments` and parses its JSON output.
    public func run(_ arguments: [String]) -> SmartReading {
        guard let executable, FileManager.default.isExecutableFile(atPath: executable) else {
            return .unavailable(code: "smartctl_not_found", detail: "smartctl not found (install the Debian package smartmontools)")
        }
        let result: (status: Int32, output: Data)
        do {
            result = try Self.execute(executable, arguments, timeoutSeconds: timeoutSeconds)
        } catch {
            return .unavailable(code: "smartctl_failed", detail: "\(executable): \(error)")
        }
        return Self.reading(from: result.output, exitStatus: Int(result.status))
    }

    /// Parses a saved `smartctl --json -x` output (`--smart-from FILE`).
    public static func reading(fromFile path: String) -> SmartReading {
        guard let data = FileManager.default.contents(atPath: path) else {
            return .unavailable(code: "smart_file_unreadable", detail: "\(path): cannot be read")
        }
        return reading(from: data, exitStatus: nil)
    }

    /// Decodes smartctl's JSON; anything that is not a JSON object is `smart_output_invalid`.
    public static func reading(from data: Data, exitStatus: Int?) -> SmartReading {
        guard !data.isEmpty else {
            return .unavailable(code: "smart_output_invalid", detail: "empty smartctl output" + (exitStatus.map { " (exit status \($0))" } ?? ""))
        }
        do {
            let output = try SmartctlOutput.decode(data)
            return .output(output, exitStatus: exitStatus ?? output.smartctl?.exitStatus)
        } catch {
            return .unavailable(code: "smart_output_invalid", detail: "not smartctl JSON: \(String(describing: error).prefix(200))")
        }
    }

    static func execute(_ executable: String, _ arguments: [String], timeoutSeconds: Double) throws -> (Int32, Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["LC_ALL"] = "C"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let pid = process.processIdentifier
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + timeoutSeconds)
        // Only this smartctl, by its own PID, and only while it has not been reaped.
        timer.setEventHandler { if process.isRunning { kill(pid, SIGKILL) } }
        timer.resume()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        timer.cancel()
        return (process.terminationStatus, data)
    }
}
