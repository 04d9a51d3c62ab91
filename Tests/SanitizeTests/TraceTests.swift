import ArdoiseSupport
import DeviceKit
import Foundation
import Testing
@testable import Sanitize

/// Runs `method` in dry-run form (simulated device behind a tracing transport) and returns the command lines.
private func dryRun(_ method: FirmwareEraseMethod, _ type: PassthroughDeviceType, dump: [UInt8]? = nil,
                    options: FirmwareEraseOptions = FirmwareEraseOptions()) throws -> (lines: [String], error: SanitizeError?) {
    let device = try DryRun.simulatedDevice(deviceType: type, identifyDump: dump)
    var records: [TraceRecord] = []
    let tracing = TracingTransport(wrapping: device, recordOutcomes: false) { records.append($0) }
    do {
        _ = try makeEraser(tracing, type).erase(method, options: options)
        return (records.map(\.text), nil)
    } catch let error as SanitizeError {
        return (records.map(\.text), error)
    }
}

@Suite struct TraceTests {
    let grammar = try! Regex(PassthroughTrace.grammar)

    static let concrete: [(FirmwareEraseMethod, PassthroughDeviceType)] = [
        (.ataSecurityErase, .sat), (.ataSecurityEraseEnhanced, .sat), (.ataSecurityErase, .sat12),
        (.ataSanitizeCrypto, .sat), (.ataSanitizeBlock, .sat),
        (.nvmeFormatUserData, .nvme), (.nvmeFormatCrypto, .nvme), (.nvmeSanitizeBlock, .nvme), (.nvmeSanitizeCrypto, .nvme),
        (.scsiSanitizeOverwrite, .scsi), (.scsiSanitizeBlock, .scsi), (.scsiSanitizeCrypto, .scsi), (.scsiFormatSecure, .scsi),
    ]

    @Test func everyLineMatchesTheGrammar() throws {
        var total = 0
        for (method, type) in Self.concrete {
            let run = try dryRun(method, type)
            #expect(run.error == nil, "\(method.rawValue): \(String(describing: run.error))")
            for line in run.lines {
                #expect(line.wholeMatch(of: grammar) != nil, "\(method.rawValue): \(line)")
                total += 1
            }
        }
        // The overwrite methods of drives that lack them by default.
        let hdd = SimulatedAtaDrive.makeIdentify(.hardDisk())
        let ow = try dryRun(.ataSanitizeOverwrite, .sat, dump: hdd)
        #expect(ow.error == nil && ow.lines.allSatisfy { $0.wholeMatch(of: grammar) != nil })
        var c = SimulatedNvmeController.Configuration()
        c.sanicap = 0x4
        let nvmeOw = try dryRun(.nvmeSanitizeOverwrite, .nvme, dump: SimulatedNvmeController.makeIdentifyController(c))
        #expect(nvmeOw.error == nil && nvmeOw.lines.allSatisfy { $0.wholeMatch(of: grammar) != nil })
        #expect(total > 40)
        // A log prefix before the first word is allowed by the grammar.
        #expect("2026-11-27T09:00:00Z sdb: scsi 03 00 00 00 fc 00 dir=in len=252 timeout_ms=15000".wholeMatch(of: grammar) != nil)
        #expect("sat16 85 08 0e dir=in len=512 timeout_ms=1".wholeMatch(of: grammar) == nil)
    }

    @Test func exactNvmeSanitizeCryptoTrace() throws {
        let run = try dryRun(.nvmeSanitizeCrypto, .nvme)
        #expect(run.lines == [
            "nvme-admin opc=0x06 nsid=0x00000000 cdw10=0x00000001 cdw11=0x00000000 cdw12=0x00000000 cdw13=0x00000000 cdw14=0x00000000 cdw15=0x00000000 data_len=4096 timeout_ms=15000",
            "nvme-admin opc=0x02 nsid=0xffffffff cdw10=0x007f0081 cdw11=0x00000000 cdw12=0x00000000 cdw13=0x00000000 cdw14=0x00000000 cdw15=0x00000000 data_len=512 timeout_ms=15000",
            "nvme-admin opc=0x84 nsid=0x00000000 cdw10=0x00000004 cdw11=0x00000000 cdw12=0x00000000 cdw13=0x00000000 cdw14=0x00000000 cdw15=0x00000000 data_len=0 timeout_ms=60000",
            "nvme-admin opc=0x02 nsid=0xffffffff cdw10=0x007f0081 cdw11=0x00000000 cdw12=0x00000000 cdw13=0x00000000 cdw14=0x00000000 cdw15=0x00000000 data_len=512 timeout_ms=15000",
        ])
    }

    @Test func exactNvmeFormatTrace() throws {
        let run = try dryRun(.nvmeFormatUserData, .nvme)
        #expect(run.lines.last == "nvme-admin opc=0x80 nsid=0x00000001 cdw10=0x00000200 cdw11=0x00000000 cdw12=0x00000000 cdw13=0x00000000 cdw14=0x00000000 cdw15=0x00000000 data_len=0 timeout_ms=3600000")
    }

    @Test func exactAtaSanitizeCryptoTrace() throws {
        let run = try dryRun(.ataSanitizeCrypto, .sat)
        #expect(run.lines == [
            "sat16 85 08 0e 00 00 00 01 00 00 00 00 00 00 40 ec 00 dir=in len=512 timeout_ms=15000",
            "sat16 85 07 20 00 00 00 00 00 00 00 00 00 00 40 b4 00 dir=none len=0 timeout_ms=15000",
            "sat16 85 07 20 00 00 00 00 00 00 00 00 00 00 40 27 00 dir=none len=0 timeout_ms=15000",
            "sat16 85 07 20 00 11 00 00 43 70 00 79 00 72 40 b4 00 dir=none len=0 timeout_ms=60000",
            "sat16 85 07 20 00 00 00 00 00 00 00 00 00 00 40 b4 00 dir=none len=0 timeout_ms=15000",
        ])
    }

    @Test func exactScsiBlockEraseTrace() throws {
        let run = try dryRun(.scsiSanitizeBlock, .scsi)
        #expect(run.lines == [
            "scsi 12 00 00 00 24 00 dir=in len=36 timeout_ms=15000",
            "scsi 12 01 80 00 fc 00 dir=in len=252 timeout_ms=15000",
            "scsi 9e 10 00 00 00 00 00 00 00 00 00 00 00 20 00 00 dir=in len=32 timeout_ms=15000",
            "scsi a3 0c 02 48 00 01 00 00 00 20 00 00 dir=in len=32 timeout_ms=15000",
            "scsi a3 0c 02 48 00 02 00 00 00 20 00 00 dir=in len=32 timeout_ms=15000",
            "scsi a3 0c 02 48 00 03 00 00 00 20 00 00 dir=in len=32 timeout_ms=15000",
            "scsi 48 82 00 00 00 00 00 00 00 00 dir=none len=0 timeout_ms=60000",
            "scsi 03 00 00 00 fc 00 dir=in len=252 timeout_ms=15000",
        ])
        let ow = try dryRun(.scsiSanitizeOverwrite, .scsi)
        #expect(ow.lines[6] == "scsi 48 81 00 00 00 00 00 00 08 00 dir=out len=8 timeout_ms=60000 data=01 00 00 04 00 00 00 00")
        let format = try dryRun(.scsiFormatSecure, .scsi)
        #expect(format.lines[6] == "scsi 04 18 00 00 00 00 dir=out len=8 timeout_ms=60000 data=00 8a 00 00 20 00 00 00")
    }

    @Test func securityEraseTraceCarriesFullPayload() throws {
        let run = try dryRun(.ataSecurityErase, .sat)
        let setPassword = try #require(run.lines.first { $0.hasPrefix("sat16 85 0a 06 00 00 00 01 00 00 00 00 00 00 40 f1 00") })
        // "ardoise-0011223344556677" in plain byte order after the two control bytes.
        #expect(setPassword.hasPrefix("sat16 85 0a 06 00 00 00 01 00 00 00 00 00 00 40 f1 00 dir=out len=512 timeout_ms=15000 data=00 00 61 72 64 6f 69 73 65 2d 30 30"))
        let payload = try #require(setPassword.split(separator: "data=").last)
        #expect(payload.split(separator: " ").count == 512)
        let kinds = run.lines.map { String($0.split(separator: " ")[15]) }   // ATA command byte
        #expect(kinds == ["ec", "27", "f1", "ec", "f3", "f4", "ec"])
        let eraseUnit = run.lines[5]
        #expect(eraseUnit.contains("dir=out len=512 timeout_ms=\((2 * 4 + 30) * 60_000) data=00 00 61 72"))
    }

    @Test func identifyFromDumpExercisesFrozenAndLocked() throws {
        var id = SimulatedAtaDrive.makeIdentify(.init())
        id[256] |= 0x08                    // word 128 bit 3: frozen
        AtaIdentify.seal(&id)
        let frozen = try dryRun(.ataSecurityErase, .sat, dump: id)
        #expect(frozen.error?.code == .frozen)
        #expect(frozen.lines.count == 1)   // IDENTIFY only: nothing that writes
        id[256] = (id[256] & ~0x08) | 0x06 // enabled + locked
        AtaIdentify.seal(&id)
        #expect(try dryRun(.ataSanitizeBlock, .sat, dump: id).error?.code == .locked)
        var bad = id
        bad[20] ^= 0xFF
        #expect(throws: SanitizeError.self) { _ = try DryRun.simulatedDevice(deviceType: .sat, identifyDump: bad) }
    }

    @Test func realRunsRecordOutcomes() throws {
        var records: [TraceRecord] = []
        let drive = SimulatedAtaDrive()
        drive.faults = [.timeout(command: 0xF4)]
        let tracing = TracingTransport(wrapping: drive) { records.append($0) }
        _ = try? makeEraser(tracing, .sat).erase(.ataSecurityErase)
        #expect(records.filter { $0.kind == .command }.count == records.filter { $0.kind == .outcome }.count)
        #expect(records.first { $0.kind == .outcome }?.text.hasPrefix("-> status=0x00") == true)
        #expect(records.last?.text.contains("timedOut") == true)
    }

    @Test func loadsBinaryAndHexDumps() throws {
        let dump = SimulatedAtaDrive.makeIdentify(.init())
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("ardoise-dumps-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let binary = dir.appendingPathComponent("id.bin")
        try Data(dump).write(to: binary)
        #expect(try DryRun.loadIdentifyDump(path: binary.path, deviceType: .sat) == dump)
        let text = dir.appendingPathComponent("id.txt")
        try Hex.bytes(dump).write(to: text, atomically: true, encoding: .utf8)
        #expect(try DryRun.loadIdentifyDump(path: text.path, deviceType: .sat) == dump)
        #expect(throws: SanitizeError.self) { try DryRun.loadIdentifyDump(path: binary.path, deviceType: .nvme) }
    }

    @Test func unfreezerHonoursPlatform() throws {
        let root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("ardoise-sys-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("sys/power"), withIntermediateDirectories: true)
        let state = root.appendingPathComponent("sys/power/state")
        try "freeze disk\n".write(to: state, atomically: true, encoding: .utf8)
        #expect(!SuspendUnfreezer(sysroot: root.path).isAvailable)
        #expect(throws: SanitizeError.self) { try SuspendUnfreezer(sysroot: root.path).suspendAndResume() }
        try "freeze mem disk\n".write(to: state, atomically: true, encoding: .utf8)
        #expect(SuspendUnfreezer(sysroot: root.path).isAvailable)
        try SuspendUnfreezer(sysroot: root.path).suspendAndResume()
        #expect(try String(contentsOf: state, encoding: .utf8) == "mem")
    }
}
