import Foundation
import Synchronization

/// Vendor and model names for a modalias (`pci:v00008086d00005917`), from the udev hardware
/// database (systemd's `hwdb.bin`, built from `20-pci-vendor-model.hwdb`, `20-usb-…`,
/// `20-acpi-vendor.hwdb`). Without it the inventory keeps the numeric ids.
public protocol HardwareDatabase: Sendable {
    /// The `KEY=value` properties the database gives for `modalias` (empty when none).
    func properties(modalias: String) -> [String: String]
}

/// No database: ids only.
public struct NoHardwareDatabase: HardwareDatabase {
    public init() {}
    public func properties(modalias: String) -> [String: String] { [:] }
}

/// The udev hwdb under `root`, queried with `systemd-hwdb --root=ROOT query MODALIAS`, or
/// `udevadm hwdb --test=MODALIAS` for `/` when systemd-hwdb is missing (one short process per
/// lookup; answers are cached). Blocking.
public final class SystemHardwareDatabase: HardwareDatabase {
    public let root: String
    private let executable: String
    private let arguments: @Sendable (String) -> [String]
    private let cache = Mutex<[String: [String: String]]>([:])

    /// The database of `root` (`/` in production), when `hwdb.bin` and `systemd-hwdb` exist.
    public static func available(root: String = "/") -> SystemHardwareDatabase? {
        let base = root == "/" ? "" : root
        let hasDatabase = ["/etc/udev/hwdb.bin", "/usr/lib/udev/hwdb.bin"].contains {
            FileManager.default.fileExists(atPath: base + $0)
        }
        guard hasDatabase else { return nil }
        if let tool = ["/usr/bin/systemd-hwdb", "/bin/systemd-hwdb"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            return SystemHardwareDatabase(root: root, executable: tool) { ["--root=\(root)", "query", $0] }
        }
        // udevadm reads only the running system's database.
        if root == "/", let tool = ["/usr/bin/udevadm", "/bin/udevadm", "/sbin/udevadm"]
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            return SystemHardwareDatabase(root: root, executable: tool) { ["hwdb", "--test=\($0)"] }
        }
        return nil
    }

    init(root: String, executable: String, arguments: @escaping @Sendable (String) -> [String]) {
        self.root = root
        self.executable = executable
        self.arguments = arguments
    }

    public func properties(modalias: String) -> [String: String] {
        if let cached = cache.withLock({ $0[modalias] }) { return cached }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments(modalias)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        var result: [String: String] = [:]
        if (try? process.run()) != nil {
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            if process.terminationStatus == 0 {
                for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
                    guard let equals = line.firstIndex(of: "=") else { continue }
                    result[String(line[..<equals])] = String(line[line.index(after: equals)...])
                }
            }
        }
        cache.withLock { $0[modalias] = result }
        return result
    }
}

extension HardwareDatabase {
    /// Vendor and model of a PCI or USB device by ids (4 hex digits each).
    func names(bus: String, vendorID: String, deviceID: String) -> (vendor: String?, model: String?) {
        let vendor = vendorID.uppercased(), device = deviceID.uppercased()
        let modalias = bus == "usb" ? "usb:v\(vendor)p\(device)" : "pci:v0000\(vendor)d0000\(device)"
        let values = properties(modalias: modalias)
        return (values["ID_VENDOR_FROM_DATABASE"], values["ID_MODEL_FROM_DATABASE"])
    }

    /// The company behind a 3-letter PNP id (EDID manufacturer), from `20-acpi-vendor.hwdb`.
    func pnpVendor(_ id: String) -> String? {
        properties(modalias: "acpi:\(id):")["ID_VENDOR_FROM_DATABASE"]
    }
}
