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
        let device = try LinuxPassthroughDevice(path: path)
        #expect(performing: { _ = try device.scsi(ScsiCommands.inquiry()) }, throws: { error in
            (error as? PassthroughError)?.code == .ioctlFailed && (error as? PassthroughError)?.errno == 25
        })
        #expect(performing: { _ = try device.nvmeAdmin(NvmeCommands.identifyController(), dataOut: []) }, throws: { error in
            (error as? PassthroughError)?.code == .ioctlFailed
        })
        #expect(device.nvmeNamespaceID() == nil)
        #expect(performing: { _ = try device.scsi(ScsiCommand(cdb: [0x00], direction: .none, timeoutMs: 1)) }, throws: { error in
            (error as? PassthroughError)?.code == .invalidRequest
        })
        #expect(performing: { _ = try LinuxPassthroughDevice(path: path + "-missing") }, throws: { error in
            (error as? PassthroughError)?.code == .openFailed && (error as? PassthroughError)?.errno == 2
        })
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
