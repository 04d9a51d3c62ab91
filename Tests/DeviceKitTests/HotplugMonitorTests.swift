import ArdoiseTestSupport
import Foundation
import Testing
@testable import DeviceKit

@Suite(.serialized, .enabled(if: LoopDevice.isAvailable, "needs root to attach loop devices"))
struct HotplugMonitorTests {
    /// Collects events for `name` until `predicate` holds or the timeout passes.
    func waitForEvents(_ monitor: HotplugMonitor, name: String, timeout: Duration = .seconds(10),
                       until predicate: @escaping @Sendable ([HotplugEvent]) -> Bool) async -> [HotplugEvent] {
        await withTaskGroup(of: [HotplugEvent]?.self) { group in
            group.addTask {
                var seen: [HotplugEvent] = []
                for await event in monitor.events where event.name == name {
                    seen.append(event)
                    if predicate(seen) { return seen }
                }
                return seen
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            monitor.stop()
            return first ?? []
        }
    }

    @Test func attachAndDetachOfALoopDeviceAreSeenOnTheKernelSource() async throws {
        let monitor = try HotplugMonitor(source: .kernel)
        monitor.start()
        let loop = try LoopDevice(sizeInBytes: 8 << 20)
        let name = loop.name
        let diskseq = try String(contentsOfFile: "/sys/block/\(name)/diskseq", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        loop.detach()
        let events = await waitForEvents(monitor, name: name) { events in events.count >= 2 }
        #expect(events.count >= 2, "events seen: \(events)")
        #expect(events.contains { $0.diskSequence == UInt64(diskseq) })
        #expect(events.allSatisfy { $0.deviceNumber?.major == 7 })
    }
}
