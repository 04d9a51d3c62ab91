import ArdoiseSupport
import DeviceKit
import Foundation

/// Dry runs: the flow runs against a simulated drive built from an identify dump (or a
/// default drive of the device type), behind a `TracingTransport`, so every command the real
/// run would send is printed and nothing reaches a device.
public enum DryRun {
    /// A simulated device of `deviceType`, answering with `identifyDump` when given (512-byte
    /// IDENTIFY DEVICE for sat/sat12, 4096-byte Identify Controller for nvme). Sanitize
    /// progress completes at the first poll so traces stay short.
    public static func simulatedDevice(deviceType: PassthroughDeviceType, identifyDump: [UInt8]?) throws -> PassthroughTransport {
        switch deviceType {
        case .sat, .sat12, .auto:
            let drive = try identifyDump.map { try SimulatedAtaDrive(identifyDump: $0) } ?? SimulatedAtaDrive()
            drive.sanitizeProgressPerPoll = 65_536
            return drive
        case .nvme:
            let controller = try identifyDump.map { try SimulatedNvmeController(identifyControllerDump: $0) } ?? SimulatedNvmeController()
            controller.sanitizeProgressPerPoll = 65_536
            return controller
        case .scsi:
            guard identifyDump == nil else {
                throw SanitizeError(.invalidRequest, context: "--identify-from", message: .init(fr: "pas de dump d'identification pour le type scsi", en: "no identify dump for device type scsi"))
            }
            let disk = SimulatedScsiDisk()
            disk.progressPerPoll = 65_536
            return disk
        }
    }

    /// Reads an identify dump: raw binary of the expected size, or text hex (as `hdparm
    /// --Istdout` or `xxd -p` print) that decodes to it.
    public static func loadIdentifyDump(path: String, deviceType: PassthroughDeviceType) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SanitizeError(.invalidRequest, context: path, message: .init(fr: "fichier illisible : \(path)", en: "cannot read file: \(path)"))
        }
        let expected = deviceType == .nvme ? 4096 : 512
        let bytes = [UInt8](data)
        if bytes.count == expected { return bytes }
        if let text = String(data: data, encoding: .utf8), let decoded = Hex.parse(text), decoded.count == expected {
            return decoded
        }
        throw SanitizeError.malformed(deviceType == .nvme ? "Identify Controller dump" : "IDENTIFY DEVICE dump",
                                      "\(path): \(bytes.count) bytes, expected \(expected) binary bytes or their hex text")
    }
}

/// Suspend-to-RAM to lift a BIOS security freeze lock: on resume the drive is reset and,
/// unlike at boot, usually not frozen again.
public struct SuspendUnfreezer: Sendable {
    /// Root of /sys (tests pass a temporary directory).
    public var sysroot: String

    public init(sysroot: String = "/") { self.sysroot = sysroot }

    private var statePath: String { (sysroot as NSString).appendingPathComponent("sys/power/state") }

    /// True when the kernel offers "mem" in /sys/power/state.
    public var isAvailable: Bool {
        guard let text = try? String(contentsOfFile: statePath, encoding: .utf8) else { return false }
        return text.split(whereSeparator: { $0 == " " || $0 == "\n" }).contains("mem")
    }

    /// Writes "mem" to /sys/power/state: the machine sleeps, and this call returns after
    /// resume (wake it with the power button or a key). Blocks; only on explicit request.
    public func suspendAndResume() throws {
        guard isAvailable else {
            throw SanitizeError(.unsupported, context: statePath, message: .init(
                fr: "la mise en veille (suspend-to-RAM) n'est pas disponible sur ce banc ; débranchez/rebranchez le disque à chaud",
                en: "suspend-to-RAM is not available on this bench; unplug and re-plug the drive while running"))
        }
        do {
            try "mem".write(toFile: statePath, atomically: false, encoding: .utf8)
        } catch {
            throw SanitizeError(.transport, context: statePath, message: .init(fr: "échec de la mise en veille : \(error)", en: "suspend failed: \(error)"))
        }
    }
}
