import DeviceKit
import Foundation
import Testing
@testable import Sanitize

@Suite struct TransportAndReportTests {
    @Test func linuxTransportOnARegularFileFailsCleanly() throws {
        // SG_IO and NVME_IOCTL_ADMIN_CMD through the C shim, on a file we create: the kernel
        // answers ENOTTY, which must surface as a PassthroughError, not a crash.
        let path = NSTemporaryDirectory() + "ardoise-passthrough-\(UUID().uuidString)"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(count: 4096)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let device = try DriveAccess.openForIdentification(path)
        #expect(performing: { _ = try device.scsi(ScsiCommands.inquiry()) }, throws: { error in
            (error as? PassthroughError)?.code == .ioctlFailed && (error as? PassthroughError)?.errno == 25
        })
        #expect(performing: { _ = try device.nvmeAdmin(NvmeCommands.identifyController(), dataOut: []) }, throws: { error in
            (error as? PassthroughError)?.code == .ioctlFailed
        })
        #expect(performing: { _ = try device.scsi(ScsiCommand(cdb: [0x00], direction: .none, timeoutMs: 1)) }, throws: { error in
            (error as? PassthroughError)?.code == .invalidRequest
        })
        #expect(performing: { _ = try DriveAccess.openForIdentification(path + "-missing") }, throws: { error in
            (error as? PassthroughError)?.code == .openFailed && (error as? PassthroughError)?.errno == 2
        })
    }

    /// An identification transport sends identification commands only: anything that would
    /// change a drive is refused before the ioctl (issue 11, item 3).
    @Test func anIdentificationTransportRefusesEveryCommandThatChangesADrive() throws {
        let path = NSTemporaryDirectory() + "ardoise-identify-only-\(UUID().uuidString)"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(count: 4096)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let device = try DriveAccess.openForIdentification(path)
        func refused(_ body: () throws -> Void) -> Bool {
            do { try body(); return false } catch { return (error as? PassthroughError)?.code == .invalidRequest }
        }
        func sent(_ body: () throws -> Void) -> Bool {
            do { try body(); return true } catch { return (error as? PassthroughError)?.code == .ioctlFailed }
        }
        // Reaches the kernel (a regular file answers ENOTTY): identification.
        #expect(sent { _ = try device.scsi(ScsiCommands.inquiry()) })
        #expect(sent { _ = try device.scsi(AtaCommands.identifyDevice().scsiCommand(twelveByte: false)) })
        #expect(sent { _ = try device.scsi(AtaCommands.identifyDevice().scsiCommand(twelveByte: true)) })
        #expect(sent { _ = try device.nvmeAdmin(NvmeCommands.identifyController(), dataOut: []) })
        // Refused: erase, security, sanitize, format, and any other command.
        #expect(refused { _ = try device.scsi(ScsiCommands.sanitize(.cryptographicErase)) })
        #expect(refused { _ = try device.scsi(AtaCommands.securityErasePrepare().scsiCommand(twelveByte: false)) })
        #expect(refused { _ = try device.scsi(ScsiCommand(cdb: [0x2A, 0, 0, 0, 0, 0, 0, 0, 1, 0], direction: .toDevice, dataOut: [UInt8](repeating: 0, count: 512), timeoutMs: 1)) })
        #expect(refused { _ = try device.nvmeAdmin(NvmeAdminCommand(opcode: 0x84, cdw10: 4, timeoutMs: 1), dataOut: []) })
        #expect(refused { _ = try device.nvmeAdmin(NvmeAdminCommand(opcode: 0x80, timeoutMs: 1), dataOut: []) })
    }

    @Test func twelveByteCdbCarriesLba27To24InDevice() {
        let c = AtaCommand(command: 0xC8, count: 8, lba: 0x0ABC_DEF1, protocol: .nonData)
        #expect(c.cdb12 == hex("a1 06 00 00 08 f1 de bc 4a c8 00 00"))
        #expect(c.cdb16 == hex("85 06 00 00 00 00 08 0a f1 00 de 00 bc 40 c8 00"))
    }

    @Test func fixedFormatSatl() throws {
        // Security erase needs no result registers: it works.
        let drive = SimulatedAtaDrive(hiddenSectors: 1 << 30)
        drive.faults = [.fixedFormatSense]
        let result = try makeEraser(drive, .sat).erase(.ataSecurityErase)
        // The native max (> 2^24) has LBA 47:24 ≠ 0: not knowable from fixed sense → not checked.
        #expect(result.hiddenArea?.method == "none" && result.hiddenArea?.nativeSectors == nil)
        // Sanitize status needs COUNT 15:8: refused with an explanation.
        let other = SimulatedAtaDrive()
        other.faults = [.fixedFormatSense]
        #expect(performing: { _ = try makeEraser(other, .sat).erase(.ataSanitizeCrypto) }, throws: { error in
            (error as? SanitizeError)?.code == .transport
        })
    }

    @Test func identifyReportFromDumps() throws {
        let ata = try IdentifyReport.fromDump(SimulatedAtaDrive.makeIdentify(.hardDisk()), deviceType: .sat, path: "hdd.bin")
        #expect(ata.ata?.model == "ARDOISE SIM HDD 500GB" && ata.purgePlan.method == "ata-sanitize-overwrite")
        let nvme = try IdentifyReport.fromDump(SimulatedNvmeController.makeIdentifyController(.init()), deviceType: .nvme, path: "n.bin")
        #expect(nvme.nvmeController?.serialNumber == "SIMNVME00003" && nvme.purgePlan.method == "nvme-sanitize-crypto")
        let json = try JSONEncoder().encode(ata)
        let back = try JSONDecoder().decode(IdentifyReport.self, from: json)
        #expect(back.ata == ata.ata)
        #expect(ata.text(in: .english).contains("NIST purge: ata-sanitize-overwrite"))
        #expect(throws: SanitizeError.self) { try IdentifyReport.fromDump([UInt8](repeating: 1, count: 512), deviceType: .nvme, path: "x") }
    }

    @Test func deviceTypeDetection() {
        #expect(FirmwareEraser.detectDeviceType(path: "/dev/nvme0n1", transport: SimulatedNvmeController()) == .nvme)
        #expect(FirmwareEraser.detectDeviceType(path: "/dev/sdb", transport: SimulatedAtaDrive()) == .sat)
        #expect(FirmwareEraser.detectDeviceType(path: "/dev/sdc", transport: SimulatedScsiDisk()) == .scsi)
    }

    @Test func fileSecretStoreRoundTrip() throws {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("ardoise-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try FileSecretStore(directory: dir)
        let binary = AtaPassword(bytes: [0x00, 0xFF, 0x20, 0x7F] + [UInt8](repeating: 0xA5, count: 28))!
        try store.saveTemporaryPassword(binary, forDevice: "ata:Model / X:SER 1")
        #expect(try store.temporaryPassword(forDevice: "ata:Model / X:SER 1") == binary)
        #expect(try store.temporaryPassword(forDevice: "other") == nil)
        let mode = try FileManager.default.attributesOfItem(atPath: dir.path)[.posixPermissions] as? Int
        #expect(mode == 0o700)
        try store.removeTemporaryPassword(forDevice: "ata:Model / X:SER 1")
        #expect(try store.temporaryPassword(forDevice: "ata:Model / X:SER 1") == nil)
        #expect(AtaPassword(bytes: [UInt8](repeating: 1, count: 33)) == nil)
        var generator = SystemRandomNumberGenerator()
        #expect(AtaPassword.random(using: &generator).text.count == 24)
    }

    @Test func methodNamesAreExactlyTheIssueList() {
        #expect(FirmwareEraseMethod.allCases.map(\.rawValue) == [
            "ata-security-erase", "ata-security-erase-enhanced", "ata-sanitize-crypto", "ata-sanitize-block", "ata-sanitize-overwrite",
            "nvme-format-user-data", "nvme-format-crypto", "nvme-sanitize-block", "nvme-sanitize-crypto", "nvme-sanitize-overwrite",
            "scsi-sanitize-overwrite", "scsi-sanitize-block", "scsi-sanitize-crypto", "scsi-format-secure", "auto",
        ])
    }
}

@Suite struct SimulatorDecodesBytesTests {
    @Test func satlRejectsInconsistentTransferFields() throws {
        let drive = SimulatedAtaDrive()
        // IDENTIFY with T_DIR=0 (to device) but a data-in transfer: SAT-4 says INVALID FIELD IN CDB.
        var cdb = AtaCommands.identifyDevice().cdb16
        cdb[2] = 0x06
        let bad = try drive.scsi(ScsiCommand(cdb: cdb, direction: .fromDevice, transferLength: 512, timeoutMs: 1000))
        #expect(bad.status == 0x02 && SenseData.decode(bad.sense)?.senseKey == 0x5 && SenseData.decode(bad.sense)?.additionalSenseCode == 0x24)
        // BYTE_BLOCK=0 (length in bytes) with COUNT=1 does not describe 512 bytes either.
        cdb[2] = 0x0A
        #expect(try drive.scsi(ScsiCommand(cdb: cdb, direction: .fromDevice, transferLength: 512, timeoutMs: 1000)).status == 0x02)
        // The right bytes work.
        let good = try drive.scsi(try AtaCommands.identifyDevice().scsiCommand(twelveByte: false))
        #expect(good.status == 0 && good.dataIn.count == 512)
    }

    @Test func erasePrepareMustImmediatelyPrecedeEraseUnit() throws {
        let drive = SimulatedAtaDrive()
        let pw = AtaPassword(text: "p")!
        func send(_ c: AtaCommand) throws -> ScsiResult { try drive.scsi(try c.scsiCommand(twelveByte: false)) }
        _ = try send(AtaCommands.securitySetPassword(pw))
        _ = try send(AtaCommands.securityErasePrepare())
        _ = try send(AtaCommands.identifyDevice())          // anything in between cancels the prepare
        let erase = try send(AtaCommands.securityEraseUnit(pw, enhanced: false, timeoutMs: 1000))
        #expect(SenseData.decode(erase.sense)?.ataStatus?.isAborted == true)
        _ = try send(AtaCommands.securityErasePrepare())
        let ok = try send(AtaCommands.securityEraseUnit(pw, enhanced: false, timeoutMs: 1000))
        #expect(ok.status == 0 && drive.securityErasesDone == 1)
    }

    @Test func exactSat12SecurityEraseOpcodes() throws {
        let device = try DryRun.simulatedDevice(deviceType: .sat12, identifyDump: nil)
        var lines: [String] = []
        let tracing = TracingTransport(wrapping: device, recordOutcomes: false) { lines.append($0.text) }
        _ = try makeEraser(tracing, .sat12).erase(.ataSecurityErase)
        #expect(lines[0] == "sat12 a1 08 0e 00 01 00 00 00 40 ec 00 00 dir=in len=512 timeout_ms=15000")
        #expect(lines.contains("sat12 a1 06 20 00 00 00 00 00 40 f3 00 00 dir=none len=0 timeout_ms=15000"))
        #expect(lines.allSatisfy { $0.hasPrefix("sat12 a1 ") })
    }

    @Test func nvmeControllerRejectsWrongLogLength() throws {
        let controller = SimulatedNvmeController()
        var log = NvmeCommands.sanitizeStatusLog()
        log.dataLength = 256   // NUMDL says 512
        #expect(try controller.nvmeAdmin(log, dataOut: []).statusCode == 0x02)
        var format = NvmeCommands.formatNVM(nsid: 7, secureErase: .userData)
        #expect(try controller.nvmeAdmin(format, dataOut: []).statusCode == 0x0B)   // Invalid Namespace
        format.nsid = 1
        #expect(try controller.nvmeAdmin(format, dataOut: []).isSuccess)
    }
}

@Suite struct PurgeVerificationTests {
    let before: [[UInt8]] = [[1, 2, 3, 4], [9, 9, 9, 9], [0, 0, 0, 0]]

    @Test func cryptoEraseMustChangeEveryBlock() {
        let rule = PurgeVerificationRule.rule(for: .nvmeSanitizeCrypto)
        #expect(rule == .noBlockEqualsBefore)
        #expect(rule.check(before: before, after: [[7, 7, 1, 2], [1, 9, 9, 9], [3, 3, 3, 3]]).passed)
        let verdict = rule.check(before: before, after: [[7, 7, 1, 2], [9, 9, 9, 9], [3, 3, 3, 3]])
        #expect(!verdict.passed && verdict.failedSamples == [1])
        #expect(!rule.check(before: [], after: [[1]]).passed)
    }

    @Test func normalSecurityEraseReadsZeroes() {
        let rule = PurgeVerificationRule.rule(for: .ataSecurityErase)
        #expect(rule.check(before: before, after: [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]).passed)
        #expect(!rule.check(before: before, after: [[0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]]).passed)
    }

    @Test func blockEraseIsUniform() {
        let rule = PurgeVerificationRule.rule(for: .ataSanitizeBlock)
        #expect(rule.check(before: before, after: [[0xFF, 0xFF, 0xFF, 0xFF], [0, 0, 0, 0], [0xFF, 0xFF, 0xFF, 0xFF]]).passed)
        // Not uniform after the erase → fails; a block that was already uniform may stay so.
        #expect(rule.check(before: before, after: [[0, 0, 1, 0], [9, 9, 9, 9], [0, 0, 0, 0]]).failedSamples == [0])
        #expect(!rule.check(before: [[1, 1, 2, 2]], after: [[1, 1, 2, 2]]).passed)
    }

    @Test func overwritePatternByteOrder() {
        var options = FirmwareEraseOptions()
        options.overwritePattern = 0x1122_3344
        #expect(PurgeVerificationRule.rule(for: .ataSanitizeOverwrite, options: options) == .pattern([0x44, 0x33, 0x22, 0x11]))
        #expect(PurgeVerificationRule.rule(for: .scsiSanitizeOverwrite, options: options) == .pattern([0x11, 0x22, 0x33, 0x44]))
        #expect(PurgeVerificationRule.pattern([0x44, 0x33, 0x22, 0x11]).check(before: [], after: [[0x44, 0x33, 0x22, 0x11, 0x44, 0x33, 0x22, 0x11]]).passed)
        options.invertBetweenPasses = true
        #expect(PurgeVerificationRule.rule(for: .nvmeSanitizeOverwrite, options: options) == .noBlockEqualsBefore)
    }
}
