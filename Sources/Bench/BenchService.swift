import ArdoiseSupport
import DeviceKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a `BenchDaemon`: control socket, hot-plug monitor, initial scan, signals
/// (SIGHUP reloads the configuration, SIGTERM/SIGINT stop cleanly).
public enum BenchService {
    public static func run(daemon: BenchDaemon, socketPath: String, hotplugSource: HotplugMonitor.Source) async throws {
        try FileManager.default.createDirectory(atPath: (socketPath as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let server = try ControlServer(path: socketPath) { request in await daemon.handle(request) }
        server.start()
        defer { server.stop() }
        let monitor = try HotplugMonitor(source: hotplugSource)
        monitor.start()
        defer { monitor.stop() }
        daemon.log("listening on \(socketPath), hot-plug source \(hotplugSource.rawValue)")

        let (signals, continuation) = AsyncStream<Int32>.makeStream()
        let queue = DispatchQueue(label: "ardoise-daemon-signals")
        let sources = [SIGHUP, SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
        defer { for source in sources { source.cancel() } }

        await daemon.initialScan()
        await daemon.recordHostInventoryIfConfigured()
        await withTaskGroup(of: Void.self) { group in
            if daemon.sendsOutbox {
                // Ends only when cancelled (at shutdown), so it never ends the group by itself.
                group.addTask { await daemon.runOutboxSender() }
            }
            group.addTask {
                for await event in monitor.events {
                    await daemon.reconcile(event.name)
                }
            }
            group.addTask {
                for await number in signals {
                    if number == SIGHUP {
                        await daemon.reload()
                    } else {
                        daemon.log("stopping: cancelling running jobs (they are recorded as interrupted)")
                        await daemon.shutdown()
                        monitor.stop()
                        continuation.finish()
                    }
                }
            }
            await group.next()
            group.cancelAll()
        }
        await daemon.stopOutboxSender()
    }
}
