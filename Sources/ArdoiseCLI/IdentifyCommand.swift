import ArdoiseSupport
import ArgumentParser
import DeviceKit
import Foundation
import Sanitize

extension PassthroughDeviceType: ExpressibleByArgument {}

/// `ardoise identify DEV` / `ardoise identify --from-file FILE --device-type sat|nvme`.
struct IdentifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identify",
        abstract: "Identifie un disque (IDENTIFY DEVICE / Identify Controller) / Identify a drive.",
        discussion: "Read-only: sends IDENTIFY DEVICE, Identify Controller/Namespace or INQUIRY. With --from-file, parses a saved 512-byte IDENTIFY or 4096-byte Identify Controller dump (binary or hex text).")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Device node, e.g. /dev/sdb or /dev/nvme0n1.")
    var device: String?

    @Option(name: .customLong("from-file"), help: "Parse a saved identify dump instead of asking a device.")
    var fromFile: String?

    @Option(name: .customLong("device-type"), help: "auto, sat, sat12, scsi or nvme (as smartctl -d).")
    var deviceType: PassthroughDeviceType = .auto

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if (device == nil) == (fromFile == nil) {
            throw ValidationError("give either DEV or --from-file FILE")
        }
        if fromFile != nil && ![.sat, .sat12, .nvme].contains(deviceType) {
            throw ValidationError("--from-file needs --device-type sat, sat12 or nvme")
        }
    }

    func run() throws {
        try global.applyLanguage()
        let language = CurrentLanguage.value
        do {
            let report: IdentifyReport
            if let fromFile {
                let bytes = try DryRun.loadIdentifyDump(path: fromFile, deviceType: deviceType)
                report = try IdentifyReport.fromDump(bytes, deviceType: deviceType, path: fromFile)
            } else {
                let path = device!
                report = try runOnDedicatedThread {
                    // Identification is read-only: no safety classification is needed here.
                    let transport = try openForIdentification(path: path)
                    let type = deviceType == .auto ? FirmwareEraser.detectDeviceType(path: path, transport: transport) : deviceType
                    let eraser = FirmwareEraser(transport: transport, deviceType: type, secretStore: InMemorySecretStore())
                    return IdentifyReport(identification: try eraser.identify(), deviceType: type, source: "device", path: path)
                }
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print(report.text(in: language))
            }
        } catch let error as SanitizeError {
            FileHandle.standardError.write(Data("ardoise identify: \(error.message.text(in: language))\n".utf8))
            throw ExitCode(error.exitCode)
        }
    }
}

/// Runs blocking device I/O on a dedicated thread (never on the Swift concurrency pool) and
/// waits for its result.
func runOnDedicatedThread<T>(_ body: @escaping () throws -> T) throws -> T {
    let box = ResultBox<T>(body)
    let done = DispatchSemaphore(value: 0)
    NamedThread.start("ardoise-passthrough") {
        box.result = Result { try box.body() }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

/// Hands a result from the worker thread to the waiting caller.
private final class ResultBox<T>: @unchecked Sendable {
    // Owned by the worker thread between `start()` and `done.signal()`; the caller touches
    // `result` only after `wait()`, so there is never concurrent access.
    let body: () throws -> T
    var result: Result<T, Error>?
    init(_ body: @escaping () throws -> T) { self.body = body }
}
