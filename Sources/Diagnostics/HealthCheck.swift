import ArdoiseSupport
import DeviceKit
import Foundation
import WipeEngine

#if canImport(Glibc)
import Glibc
#endif

/// A drive opened read-only, seen as an engine target so the surface scan reads it through
/// the same positioned, direct reads the engine's verification uses. Writing is refused.
public final class ReadOnlyDriveTarget: WipeTarget, @unchecked Sendable {
    // The handle is owned by this target; reads come from the one scanning thread.
    public let handle: BlockDeviceHandle

    public init(handle: BlockDeviceHandle) { self.handle = handle }

    public var name: String { handle.path }
    public var sizeInBytes: UInt64 { handle.sizeInBytes }
    public var logicalSectorSize: Int { handle.logicalSectorSize }
    public var bufferAlignment: Int { max(4096, handle.logicalSectorSize) }

    public func write(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws(WipeTargetError) {
        throw .io(errno: EROFS, offset: offset)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(WipeTargetError) {
        do {
            try handle.readFully(into: buffer, at: offset)
        } catch {
            switch error.code {
            case .vanished: throw .vanished(errno: error.underlying?.rawValue ?? ENODEV)
            case .identityChanged(let detail): throw .identityChanged(reason: detail)
            default: throw .io(errno: error.underlying?.rawValue ?? EIO, offset: offset)
            }
        }
    }

    public func flush() throws(WipeTargetError) {}

    public func checkIdentity() throws(WipeTargetError) {
        do { try handle.checkStillSameDrive() } catch { throw .identityChanged(reason: error.message.text(in: .english)) }
    }
}

/// `ardoise health DEV`: reads SMART through smartctl (with the `-d` type the drive's
/// transport calls for), optionally scans the surface, and judges under a policy.
public struct HealthCheck: Sendable {
    public var policy: HealthPolicy
    public var runner: SmartctlRunner
    /// Forced smartctl `-d` type; nil chooses from DeviceKit's transport detection.
    public var deviceType: String?
    public var surface: SurfaceScanner?
    /// Wraps the opened drive before the surface scan (tests inject faults here).
    public var targetWrapper: (@Sendable (any WipeTarget) -> any WipeTarget)?

    public init(policy: HealthPolicy, runner: SmartctlRunner = SmartctlRunner(), deviceType: String? = nil,
                surface: SurfaceScanner? = nil, targetWrapper: (@Sendable (any WipeTarget) -> any WipeTarget)? = nil) {
        self.policy = policy
        self.runner = runner
        self.deviceType = deviceType
        self.surface = surface
        self.targetWrapper = targetWrapper
    }

    /// The `-d` type for `path`: the forced one, else from the transport sysfs shows.
    public func chosenDeviceType(for path: String, scanner: DeviceScanner = DeviceScanner(probesSignatures: false)) -> String? {
        if let deviceType, deviceType != "auto" { return deviceType }
        guard case .wholeDisk(let name, _)? = try? DriveAccess.resolveWholeDisk(path, reader: scanner.reader),
              let info = scanner.reader.readDevice(named: name) else { return nil }
        return SmartctlRunner.deviceType(for: info.transport)
    }

    /// Judges one drive. Blocks (smartctl, then the scan): call from a dedicated thread.
    /// Throws (a `DeviceError`) only when the surface scan was asked for and the drive cannot
    /// be opened.
    public func run(device path: String, selfTest: SelfTestOutcome? = nil) throws(DeviceError) -> HealthReport {
        let type = chosenDeviceType(for: path)
        let reading = runner.read(device: path, deviceType: type)
        var scan: SurfaceScanReport?
        if let surface {
            let handle = try DriveAccess.openForReading(path)
            defer { handle.close() }
            let base: any WipeTarget = ReadOnlyDriveTarget(handle: handle)
            scan = surface.scan(targetWrapper?(base) ?? base)
        }
        return HealthEvaluator(policy: policy).evaluate(
            reading, source: HealthSource(kind: "device", path: path, deviceType: type), surface: scan, selfTest: selfTest)
    }

    /// Judges a saved `smartctl --json -x` output.
    public func run(smartFrom path: String) -> HealthReport {
        HealthEvaluator(policy: policy).evaluate(SmartctlRunner.reading(fromFile: path), source: HealthSource(kind: "file", path: path))
    }
}
