import Foundation
import Testing
@testable import Diagnostics

/// `--self-test`: start, follow, judge, against a stand-in smartctl that answers like a drive
/// running its test (in progress twice, then the log's new entry).
@Suite struct SelfTestTests {
    /// A smartctl stand-in: `-t` starts, each poll counts down, then the result appears.
    static func fakeSmartctl(result: String, directory: String) throws -> String {
        let running = #"{"smartctl":{"exit_status":0},"device":{"type":"sat","protocol":"ATA"},"ata_smart_data":{"self_test":{"status":{"value":249,"string":"in progress, 90% remaining","remaining_percent":90}}}}"#
        let done = #"{"smartctl":{"exit_status":0},"device":{"type":"sat","protocol":"ATA"},"ata_smart_data":{"self_test":{"status":{"value":0,"passed":true}}},"ata_smart_self_test_log":{"standard":{"table":[\#(result)]}}}"#
        let script = """
        #!/bin/sh
        state='\(directory)/polls'
        case "$*" in
          *" -t "*) echo 0 > "$state"; echo '{"smartctl":{"exit_status":0}}'; exit 0 ;;
          *" -X "*) echo '{"smartctl":{"exit_status":0}}'; exit 0 ;;
        esac
        n=$(cat "$state" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$state"
        if [ $n -le 2 ]; then echo '\(running)'; else echo '\(done)'; fi
        """
        let path = directory + "/smartctl"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    static func directory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-selftest-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test(arguments: [
        (#"{"type":{"value":1},"status":{"value":0,"string":"Completed without error","passed":true},"lifetime_hours":10}"#, "passed"),
        (#"{"type":{"value":1},"status":{"value":121,"string":"Completed: read failure","passed":false},"lifetime_hours":10}"#, "failed"),
        (#"{"type":{"value":1},"status":{"value":16,"string":"Aborted by host"},"lifetime_hours":10}"#, "aborted"),
    ])
    func followsTheTestToItsResult(entry: String, expected: String) throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let runner = SelfTestRunner(runner: SmartctlRunner(executable: try Self.fakeSmartctl(result: entry, directory: directory)),
                                    deviceType: "sat", pollSeconds: 0.05)
        let seen = Progress()
        let outcome = try runner.run(device: "/dev/sdz", kind: "short") { seen.add($0) }
        #expect(outcome.kind == "short")
        #expect(outcome.result == expected)
        #expect(seen.values == [10, 10])
        if expected == "failed" {
            let report = HealthEvaluator(policy: try defaultPolicy()).evaluate(
                .output(try Fixture.output("ata-hdd-healthy.json"), exitStatus: 0), source: HealthSource(kind: "device", path: "/dev/sdz"),
                selfTest: outcome)
            #expect(report.verdict == .discard)
            #expect(report.reason("self_test_failed")?.field == "self_test.short")
        }
    }

    @Test func aDriveThatCannotTestIsNotSupported() throws {
        let runner = SelfTestRunner(runner: SmartctlRunner(executable: "/nonexistent/smartctl"), deviceType: nil, pollSeconds: 0.01)
        #expect(try runner.run(device: "/dev/sdz", kind: "long").result == "not_supported")
    }

    @Test func aTestThatNeverEndsIsAbortedAtTheDeadline() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/smartctl"
        try "#!/bin/sh\necho '{\"smartctl\":{\"exit_status\":0},\"ata_smart_data\":{\"self_test\":{\"status\":{\"value\":249,\"remaining_percent\":90}}}}'\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        let runner = SelfTestRunner(runner: SmartctlRunner(executable: path), deviceType: "sat", pollSeconds: 0.05, timeoutSeconds: 0.3)
        #expect(try runner.run(device: "/dev/sdz", kind: "short").result == "timed_out")
    }
}

/// Collects progress callbacks from the runner's thread.
final class Progress: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var storage: [Int] = []
    func add(_ value: Int) { lock.withLock { storage.append(value) } }
    var values: [Int] { lock.withLock { storage } }
}
