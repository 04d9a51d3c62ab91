import ArdoiseTestSupport
import Foundation
import Journal
import Testing
@testable import Bench
@testable import DeviceKit

/// `[inventory] at-start`: the daemon inventories the PC it runs on once at start, signs it and
/// stores it in the journal.
@Suite struct InventoryAtStartTests {
    static func parse(_ text: String) throws(BenchConfigError) -> BenchConfig {
        try BenchConfig.parse(text: text, path: "/etc/ardoise/ardoise.toml", knownProfiles: nil)
    }

    @Test func theKeyIsReadAndChecked() throws {
        #expect(try Self.parse("").inventoryAtStart == false)
        #expect(try Self.parse("[inventory]\nat-start = true\n").inventoryAtStart == true)
        let error = #expect(throws: BenchConfigError.self) { try Self.parse("[inventory]\nat-start = \"yes\"\n") }
        #expect(error?.field == "inventory.at-start" && error?.line == 2)
        let unknown = #expect(throws: BenchConfigError.self) { try Self.parse("[inventory]\nat-stat = true\n") }
        #expect(unknown?.field == "inventory.at-stat")
    }

    @Test(.enabled(if: getuid() == 0, "the daemon's data directory checks need root"))
    func theDaemonRecordsTheHostOnceAtStart() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-inventory-daemon-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let sysroot = root.appendingPathComponent("host").path
        for (path, value) in [("sys/class/dmi/id/chassis_type", "10"), ("sys/class/dmi/id/sys_vendor", "LENOVO"),
                              ("sys/class/dmi/id/product_name", "20L5CTO1WW"), ("sys/class/dmi/id/product_version", "ThinkPad T480"),
                              ("sys/class/dmi/id/product_serial", "PF1ABCDE"), ("proc/meminfo", "MemTotal: 7987304 kB")] {
            let url = URL(fileURLWithPath: sysroot).appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data((value + "\n").utf8).write(to: url)
        }
        var config = BenchConfig()
        config.dataDirectory = root.appendingPathComponent("data").path
        config.benchID = "atelier-7"
        config.inventoryAtStart = true
        let daemon = try BenchDaemon(config: config, configPath: nil, scanner: DeviceScanner(sysroot: sysroot))
        await daemon.recordHostInventoryIfConfigured()

        let journal = try JournalDatabase(dataDirectory: config.dataDirectory, recoverInterruptedJobs: false)
        let records = try journal.inventories()
        #expect(records.count == 1)
        let record = try #require(records.first)
        #expect(record.benchID == "atelier-7" && record.chassisType == "laptop" && record.systemSerial == "PF1ABCDE")
        #expect(record.summary == "Portable Lenovo ThinkPad T480 · 8 Go")
        let file = try #require(record.jsonPath)
        #expect(FileManager.default.contents(atPath: file) == Data(record.signedJSON.utf8))
        #expect(try journal.verifyChain().isIntact)

        // Off: nothing recorded.
        config.inventoryAtStart = false
        config.dataDirectory = root.appendingPathComponent("data-off").path
        let quiet = try BenchDaemon(config: config, configPath: nil, scanner: DeviceScanner(sysroot: sysroot))
        await quiet.recordHostInventoryIfConfigured()
        #expect(try JournalDatabase(dataDirectory: config.dataDirectory, recoverInterruptedJobs: false).inventories().isEmpty)
    }

    /// The real daemon, started as systemd would: with `at-start = true` its log names the
    /// inventory and the journal holds it once the socket answers; SIGTERM stops it.
    @Test(.enabled(if: getuid() == 0 && ArdoiseExecutable.located != nil, "needs root and the built ardoise executable"))
    func theRunningDaemonInventoriesItsHost() throws {
        let harness = try DaemonHarness(executable: ArdoiseExecutable.path, policy: "manual")
        defer { harness.cleanUp() }
        let config = try String(contentsOfFile: harness.configPath, encoding: .utf8)
        try (config + "\n[inventory]\nat-start = true\n").write(toFile: harness.configPath, atomically: true, encoding: .utf8)
        try harness.start()
        // Ready is said after the inventory: its line is already there.
        let line = try harness.waitForLog("ardoise-daemon: inventory recorded", timeout: 60)
        harness.stop()
        #expect(line.hasPrefix("<6>") && line.contains(" id=") && line.contains(" summary="), "\(harness.log())")
        let journal = try JournalDatabase(dataDirectory: harness.dataDirectory, recoverInterruptedJobs: false)
        let records = try journal.inventories()
        #expect(records.count == 1)
        #expect(records.first?.benchID == "test-bench")
        #expect(records.first.map { $0.signedJSON.contains("\"payload\"") } == true)
        #expect(try journal.verifyChain().isIntact)
    }
}
