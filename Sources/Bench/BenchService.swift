import ArdoiseSupport
import DeviceKit
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

/// Runs a `BenchDaemon` under swift-service-lifecycle: control socket, hot-plug monitor,
/// initial scan, outbox sender; SIGHUP reloads the configuration; SIGTERM and SIGINT shut it
/// down gracefully (running jobs cancelled, recorded as interrupted and awaited, the socket
/// removed).
public enum BenchService {
    public static func run(daemon: BenchDaemon, socketPath: String, hotplugSource: HotplugMonitor.Source) async throws {
        // The dispositions stay "ignore" between the signal sources' set-up and their end: a
        // signal never kills the process with a job half-recorded.
        for number in [SIGHUP, SIGTERM, SIGINT] { signal(number, SIG_IGN) }
        let service = BenchRunner(daemon: daemon, socketPath: socketPath, hotplugSource: hotplugSource)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: service, serviceName: "bench")],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: daemon.logger))
        try await group.run()
    }
}

/// The bench as one service: it returns once a graceful shutdown has stopped every job.
struct BenchRunner: Service {
    let daemon: BenchDaemon
    let socketPath: String
    let hotplugSource: HotplugMonitor.Source

    func run() async throws {
        let logger = daemon.logger
        try FileManager.default.createDirectory(atPath: (socketPath as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let daemon = self.daemon
        let server = try ControlServer(path: socketPath, handler: { request in await daemon.handle(request) }, watcher: {
            let snapshots = daemon.snapshots()
            return AsyncStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
                let task = Task {
                    for await snapshot in snapshots { continuation.yield(ControlResponse(ok: true, snapshot: snapshot)) }
                    continuation.finish()
                }
                continuation.onTermination = { _ in task.cancel() }
            }
        })
        server.start()
        defer {
            server.stop()
            logger.info("control socket removed", metadata: ["socket": "\(socketPath)"])
        }
        let monitor = try HotplugMonitor(source: hotplugSource)
        monitor.start()
        defer { monitor.stop() }
        let reloads = await UnixSignalsSequence(trapping: .sighup)
        logger.info("listening", metadata: ["socket": "\(socketPath)", "hotplug-source": "\(hotplugSource.rawValue)"])

        await daemon.initialScan()
        await daemon.recordHostInventoryIfConfigured()
        SystemdNotifier.notify("READY=1")
        await withTaskGroup(of: Void.self) { group in
            if daemon.sendsOutbox {
                // Ends only when cancelled (at shutdown).
                group.addTask { await daemon.runOutboxSender() }
            }
            group.addTask {
                for await event in monitor.events {
                    await daemon.reconcile(event.name)
                }
            }
            group.addTask {
                for await _ in reloads {
                    await daemon.reload()
                }
            }
            // Until SIGTERM/SIGINT (the service group's graceful shutdown) or cancellation.
            try? await gracefulShutdown()
            SystemdNotifier.notify("STOPPING=1")
            logger.notice("stopping: cancelling running jobs (they are recorded as interrupted)")
            await daemon.shutdown()
            monitor.stop()
            group.cancelAll()
        }
        await daemon.stopOutboxSender()
        logger.notice("stopped")
    }
}

/// `sd_notify(3)` without libsystemd: one datagram to `$NOTIFY_SOCKET` (systemd with
/// `Type=notify`, or a test harness waiting for the daemon to be ready). Nothing without it.
enum SystemdNotifier {
    static func notify(_ state: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard var path = environment["NOTIFY_SOCKET"], !path.isEmpty else { return }
        // An abstract socket is named with a leading '@'.
        let abstract = path.hasPrefix("@")
        if abstract { path.removeFirst() }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let offset = abstract ? 1 : 0
        guard bytes.count + offset < MemoryLayout.size(ofValue: address.sun_path) else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            if abstract {
                for index in stride(from: bytes.count, to: 0, by: -1) { raw[index] = raw[index - 1] }
                raw[0] = 0
            } else {
                raw[bytes.count] = 0
            }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + offset + bytes.count + (abstract ? 0 : 1))
        let message = Array(state.utf8)
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { target in
                message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), target, length) }
            }
        }
    }
}
