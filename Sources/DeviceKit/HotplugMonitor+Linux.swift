import ArdoiseSupport
import CUdev
import Foundation

/// A block-device event, as the kernel or udevd announced it.
public struct HotplugEvent: Sendable, Hashable {
    public enum Action: String, Sendable {
        case add, remove, change, other
    }

    public var action: Action
    /// Kernel name (`sdb`, `loop3`).
    public var name: String
    public var deviceNumber: DeviceNumber?
    /// `DISKSEQ` from the uevent, when the kernel sends it (Linux ≥ 5.15).
    public var diskSequence: UInt64?
}

/// Watches whole-disk block devices come and go through a libudev monitor.
///
/// The source is `udev` when udevd runs (events after its rules ran, so the udev database
/// has the drive's properties), else the raw `kernel` uevents — which is what this bench
/// machine and CI have. Loop devices announce attach and detach as `change`; consumers
/// should treat every event as "look at this node again" rather than trust the action.
public final class HotplugMonitor: @unchecked Sendable {  // the monitor handle is used only on `thread`
    public enum Source: String, Sendable {
        case udev, kernel

        /// `udev` when udevd is running, else `kernel`.
        public static var automatic: Source {
            FileManager.default.fileExists(atPath: "/run/udev/control") ? .udev : .kernel
        }
    }

    public let source: Source
    public let events: AsyncStream<HotplugEvent>
    private let continuation: AsyncStream<HotplugEvent>.Continuation
    private let udev: OpaquePointer
    private let monitor: OpaquePointer
    private let stopPipe: (read: Int32, write: Int32)
    private var thread: Thread?

    /// Opens the netlink monitor; events start flowing after `start()`.
    public init(source: Source = .automatic) throws(DeviceError) {
        self.source = source
        guard let udev = udev_new() else { throw DeviceError(.ioFailed(operation: "udev_new"), path: "netlink") }
        guard let monitor = udev_monitor_new_from_netlink(udev, source.rawValue) else {
            udev_unref(udev)
            throw DeviceError(.ioFailed(operation: "udev_monitor_new_from_netlink(\(source.rawValue))"), path: "netlink")
        }
        udev_monitor_filter_add_match_subsystem_devtype(monitor, "block", "disk")
        // Bursts of events (a flaky USB cable) must not overflow the socket.
        udev_monitor_set_receive_buffer_size(monitor, 8 << 20)
        guard udev_monitor_enable_receiving(monitor) == 0 else {
            udev_monitor_unref(monitor)
            udev_unref(udev)
            throw DeviceError(.ioFailed(operation: "udev_monitor_enable_receiving"), path: "netlink")
        }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            udev_monitor_unref(monitor)
            udev_unref(udev)
            throw DeviceError(.ioFailed(operation: "pipe"), path: "netlink")
        }
        self.udev = udev
        self.monitor = monitor
        stopPipe = (fds[0], fds[1])
        (events, continuation) = AsyncStream<HotplugEvent>.makeStream(bufferingPolicy: .unbounded)
    }

    deinit {
        stop()
        udev_monitor_unref(monitor)
        udev_unref(udev)
        close(stopPipe.read)
        close(stopPipe.write)
    }

    /// Starts the reading thread (blocking `poll`, never on the concurrency pool).
    public func start() {
        guard thread == nil else { return }
        let thread = Thread { [self] in
            NamedThread.nameCurrent("ardoise-hotplug")
            run()
        }
        thread.name = "ardoise-hotplug"
        self.thread = thread
        thread.start()
    }

    /// Stops the thread and finishes `events`.
    public func stop() {
        var byte: UInt8 = 1
        _ = write(stopPipe.write, &byte, 1)
    }

    private func run() {
        let monitorFD = udev_monitor_get_fd(monitor)
        var descriptors = [pollfd(fd: monitorFD, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: stopPipe.read, events: Int16(POLLIN), revents: 0)]
        while true {
            let ready = poll(&descriptors, 2, -1)
            if ready < 0, errno == EINTR { continue }
            if ready < 0 || descriptors[1].revents != 0 { break }
            while let device = udev_monitor_receive_device(monitor) {
                defer { udev_device_unref(device) }
                if let event = Self.event(from: device) { continuation.yield(event) }
            }
        }
        continuation.finish()
    }

    private static func event(from device: OpaquePointer) -> HotplugEvent? {
        guard let sysname = udev_device_get_sysname(device) else { return nil }
        let action = udev_device_get_action(device).map { HotplugEvent.Action(rawValue: String(cString: $0)) ?? .other } ?? .other
        let number = udev_device_get_devnum(device)
        let diskseq = udev_device_get_property_value(device, "DISKSEQ").flatMap { UInt64(String(cString: $0)) }
        return HotplugEvent(action: action, name: String(cString: sysname),
                            deviceNumber: number == 0 ? nil : DeviceNumber(rawDevice: UInt64(number)),
                            diskSequence: diskseq)
    }
}
