import DeviceKit
import Testing
@testable import Sanitize

// Expected bytes are written from the specifications and from what the reference tools put
// on the wire (reference/sanitize-commands.md §2.2-2.6):
// - hdparm 9.65 sgio.c: ATA PASS-THROUGH(16), DEVICE 40h (tf_init's ATA_USING_LBA), CK_COND on
//   non-data commands (byte 2 = 20h), PIO-in byte 1/2 = 08/0e, PIO-out 0a/06, EXTEND for 48-bit.
// - hdparm --security-set-pass / --security-erase / --security-erase-enhanced: payload word 0
//   = 0000h / 0000h / 0002h, password in plain byte order from byte 2.
// - hdparm --sanitize-crypto-scramble / --sanitize-block-erase / --sanitize-overwrite PAT:
//   feature 0011h/0012h/0014h with the "Cryp"/"BkEr"/"OW" LBA signatures (ACS-3 §7.36).
// - sg_sanitize 1.46 (IMMED set unless --wait): 48 81/82/83 and the 4+n overwrite list.
// - sg_format --format --security: 04 18 00 00 00 00 + 00 8a 00 00 20 00 00 00.
// - nvme-cli 2.x: id-ctrl (opc 06, cns 1), sanitize-log (opc 02, nsid ffffffff, cdw10
//   007f0081), format --ses=1/2 (opc 80, cdw10 bits 11:9), sanitize --sanact (opc 84, nsid 0).
@Suite struct AtaEncodingTests {
    let password = AtaPassword(text: "PWD")!

    @Test func identifyDevice16And12() throws {
        let c = AtaCommands.identifyDevice()
        #expect(c.cdb16 == hex("85 08 0e 00 00 00 01 00 00 00 00 00 00 40 ec 00"))
        #expect(c.cdb12 == hex("a1 08 0e 00 01 00 00 00 40 ec 00 00"))
        let sg = try c.scsiCommand(twelveByte: false)
        #expect(sg.direction == .fromDevice && sg.transferLength == 512)
    }

    @Test func securitySetPasswordAsHdparm() throws {
        let c = AtaCommands.securitySetPassword(password)
        #expect(c.cdb16 == hex("85 0a 06 00 00 00 01 00 00 00 00 00 00 40 f1 00"))
        #expect(c.cdb12 == hex("a1 0a 06 00 01 00 00 00 40 f1 00 00"))
        #expect(c.dataOut.count == 512)
        #expect(Array(c.dataOut.prefix(8)) == hex("00 00 50 57 44 00 00 00"))   // "PWD" in plain byte order
        #expect(c.dataOut[34...].allSatisfy { $0 == 0 })
        let max = AtaCommands.securitySetPassword(password, maximum: true)
        #expect(Array(max.dataOut.prefix(2)) == hex("00 01"))
        let sg = try c.scsiCommand(twelveByte: false)
        #expect(sg.direction == .toDevice && sg.transferLength == 512 && sg.dataOut == c.dataOut)
    }

    @Test func securityErasePrepareAndUnit() {
        #expect(AtaCommands.securityErasePrepare().cdb16 == hex("85 06 20 00 00 00 00 00 00 00 00 00 00 40 f3 00"))
        #expect(AtaCommands.securityErasePrepare().cdb12 == hex("a1 06 20 00 00 00 00 00 40 f3 00 00"))
        let normal = AtaCommands.securityEraseUnit(password, enhanced: false, timeoutMs: 1000)
        #expect(normal.cdb16 == hex("85 0a 06 00 00 00 01 00 00 00 00 00 00 40 f4 00"))
        #expect(Array(normal.dataOut.prefix(5)) == hex("00 00 50 57 44"))
        let enhanced = AtaCommands.securityEraseUnit(password, enhanced: true, timeoutMs: 1000)
        #expect(Array(enhanced.dataOut.prefix(2)) == hex("02 00"))
        let master = AtaCommands.securityEraseUnit(password, enhanced: true, master: true, timeoutMs: 1000)
        #expect(Array(master.dataOut.prefix(2)) == hex("03 00"))
        #expect(normal.timeoutMs == 1000)
    }

    @Test func securityUnlockDisableFreeze() {
        #expect(AtaCommands.securityUnlock(password).cdb16 == hex("85 0a 06 00 00 00 01 00 00 00 00 00 00 40 f2 00"))
        #expect(AtaCommands.securityDisablePassword(password).cdb16 == hex("85 0a 06 00 00 00 01 00 00 00 00 00 00 40 f6 00"))
        #expect(AtaCommands.securityFreezeLock().cdb16 == hex("85 06 20 00 00 00 00 00 00 00 00 00 00 40 f5 00"))
        #expect(Array(AtaCommands.securityUnlock(password, master: true).dataOut.prefix(2)) == hex("01 00"))
    }

    @Test func sanitizeCommands() {
        #expect(AtaCommands.sanitizeCryptoScrambleExt().cdb16 == hex("85 07 20 00 11 00 00 43 70 00 79 00 72 40 b4 00"))
        #expect(AtaCommands.sanitizeBlockEraseExt().cdb16 == hex("85 07 20 00 12 00 00 42 72 00 45 00 6b 40 b4 00"))
        #expect(AtaCommands.sanitizeOverwriteExt(pattern: 0, passes: 1, invert: false).cdb16 == hex("85 07 20 00 14 00 01 00 00 57 00 4f 00 40 b4 00"))
        // Pattern DEADBEEFh, 3 passes, invert, failure mode: COUNT 0093h, LBA 4F57_DEAD_BEEFh.
        #expect(AtaCommands.sanitizeOverwriteExt(pattern: 0xDEAD_BEEF, passes: 3, invert: true, failureMode: true).cdb16
                == hex("85 07 20 00 14 00 93 de ef 57 be 4f ad 40 b4 00"))
        #expect(AtaCommands.sanitizeStatusExt().cdb16 == hex("85 07 20 00 00 00 00 00 00 00 00 00 00 40 b4 00"))
        #expect(AtaCommands.sanitizeStatusExt(clearFailure: true).cdb16 == hex("85 07 20 00 00 00 01 00 00 00 00 00 00 40 b4 00"))
        #expect(AtaCommands.sanitizeFreezeLockExt().cdb16 == hex("85 07 20 00 20 00 00 46 6b 00 4c 00 72 40 b4 00"))
        #expect(AtaCommands.sanitizeAntifreezeLockExt().cdb16 == hex("85 07 20 00 40 00 00 41 69 00 74 00 6e 40 b4 00"))
        #expect(AtaCommands.sanitizeCryptoScrambleExt(failureMode: true).cdb16[6] == 0x10)
    }

    @Test func fortyEightBitCommandsRefuseTwelveByteCdb() {
        #expect(AtaCommands.sanitizeCryptoScrambleExt().cdb12 == nil)
        #expect(AtaCommands.readNativeMaxAddressExt().cdb12 == nil)
        #expect(throws: SanitizeError.self) { try AtaCommands.sanitizeBlockEraseExt().scsiCommand(twelveByte: true) }
    }

    @Test func hiddenAreaCommands() {
        #expect(AtaCommands.readNativeMaxAddressExt().cdb16 == hex("85 07 20 00 00 00 00 00 00 00 00 00 00 40 27 00"))
        #expect(AtaCommands.setMaxAddressExt(maxLBA: 0x1D1C_5970, nonVolatile: true).cdb16 == hex("85 07 20 00 00 00 01 1d 70 00 59 00 1c 40 37 00"))
        #expect(AtaCommands.getNativeMaxAddressExt().cdb16 == hex("85 07 20 00 00 00 00 00 00 00 00 00 00 40 78 00"))
        #expect(AtaCommands.setAccessibleMaxAddressExt(maxLBA: 0x1D1C_5970).cdb16 == hex("85 07 20 00 01 00 01 1d 70 00 59 00 1c e0 78 00"))
        #expect(AtaCommands.dcoIdentify().cdb16 == hex("85 08 0e 00 c2 00 01 00 00 00 00 00 00 40 b1 00"))
        #expect(AtaCommands.dcoRestore().cdb16 == hex("85 06 20 00 c0 00 00 00 00 00 00 00 00 40 b1 00"))
        // 48-bit LBA 0000_0001_0203_0405h spreads over bytes 7-12 as 31:24,7:0,39:32,15:8,47:40,23:16.
        #expect(Array(AtaCommands.setMaxAddressExt(maxLBA: 0x0001_0203_0405, nonVolatile: false).cdb16[7...12]) == hex("02 05 01 04 00 03"))
    }
}

@Suite struct ScsiAndNvmeEncodingTests {
    @Test func scsiSanitizeAsSgSanitize() {
        let ow = ScsiCommands.sanitize(.overwrite, parameterList: ScsiCommands.overwriteParameterList(passes: 1, pattern: [0, 0, 0, 0], invert: false))
        #expect(ow.cdb == hex("48 81 00 00 00 00 00 00 08 00"))
        #expect(ow.dataOut == hex("01 00 00 04 00 00 00 00"))
        #expect(ow.direction == .toDevice && ow.transferLength == 8)
        #expect(ScsiCommands.sanitize(.blockErase).cdb == hex("48 82 00 00 00 00 00 00 00 00"))
        #expect(ScsiCommands.sanitize(.cryptographicErase).cdb == hex("48 83 00 00 00 00 00 00 00 00"))
        #expect(ScsiCommands.sanitize(.cryptographicErase, ause: true).cdb == hex("48 a3 00 00 00 00 00 00 00 00"))
        #expect(ScsiCommands.sanitize(.exitFailureMode, immediate: false).cdb == hex("48 1f 00 00 00 00 00 00 00 00"))
        #expect(ScsiCommands.overwriteParameterList(passes: 3, pattern: [0xaa, 0x55], invert: true) == hex("83 00 00 02 aa 55"))
    }

    @Test func formatUnitSecurityInitializeAsSgFormat() {
        let f = ScsiCommands.formatUnitSecurityInitialize()
        #expect(f.cdb == hex("04 18 00 00 00 00"))
        #expect(f.dataOut == hex("00 8a 00 00 20 00 00 00"))
    }

    @Test func requestSenseAndInquiry() {
        #expect(ScsiCommands.requestSense().cdb == hex("03 00 00 00 fc 00"))
        #expect(ScsiCommands.requestSense(descriptorFormat: true).cdb == hex("03 01 00 00 fc 00"))
        #expect(ScsiCommands.inquiry().cdb == hex("12 00 00 00 24 00"))
        #expect(ScsiCommands.inquiry(vpdPage: 0x80, allocationLength: 252).cdb == hex("12 01 80 00 fc 00"))
        // sg_opcodes --opcode=48,3: REPORTING OPTIONS 010b, requested opcode and service action.
        #expect(ScsiCommands.reportSupportedOperationCode(0x48, serviceAction: 3).cdb == hex("a3 0c 02 48 00 03 00 00 00 20 00 00"))
        #expect(ScsiCommands.readCapacity16().cdb == hex("9e 10 00 00 00 00 00 00 00 00 00 00 00 20 00 00"))
        #expect(ScsiIdentity.decodeSupport(hex("00 03 00 0a")) == true)
        #expect(ScsiIdentity.decodeSupport(hex("00 01 00 00")) == false)
        #expect(ScsiIdentity.decodeSupport(hex("00 00 00 00")) == nil)
        #expect(ScsiIdentity.decodeSerial(hex("00 80 00 06 20 41 42 43 20 20")) == "ABC")
        #expect(ScsiIdentity.decodeCapacity(hex("00 00 00 00 22 ec b2 5b 00 00 02 00"))! == (585_937_500, 512))
    }

    @Test func nvmeIdentifyAndLog() {
        let id = NvmeCommands.identifyController()
        #expect(id.opcode == 0x06 && id.nsid == 0 && id.cdw10 == 0x0000_0001 && id.dataLength == 4096)
        #expect(id.direction == .fromDevice)
        let log = NvmeCommands.sanitizeStatusLog()
        #expect(log.opcode == 0x02 && log.nsid == 0xFFFF_FFFF && log.cdw10 == 0x007F_0081 && log.cdw11 == 0 && log.dataLength == 512)
        #expect(NvmeCommands.identifyNamespace(nsid: 1).nsid == 1)
    }

    @Test func nvmeFormatSes() {
        let user = NvmeCommands.formatNVM(nsid: 1, secureErase: .userData)
        #expect(user.opcode == 0x80 && user.nsid == 1 && user.cdw10 == 0x0000_0200 && user.dataLength == 0)
        #expect(NvmeCommands.formatNVM(nsid: 0xFFFF_FFFF, secureErase: .cryptographic).cdw10 == 0x0000_0400)
        // LBAF 0x12 (upper bits 13:12 = 1, lower 3:0 = 2), MSET, PI 1, PIL: 0x1000|0x2|0x10|0x20|0x100|0x200.
        #expect(NvmeCommands.formatNVM(nsid: 1, secureErase: .userData, lbaFormat: 0x12, metadataSettings: true, protectionInformation: 1, protectionLocation: true).cdw10 == 0x0000_1332)
        // The 72-byte ioctl image: opcode@0, nsid@4, cdw10@40, timeout_ms@64.
        let bytes = user.ioctlBytes
        #expect(bytes.count == 72)
        #expect(Array(bytes[0..<8]) == hex("80 00 00 00 01 00 00 00"))
        #expect(Array(bytes[40..<44]) == hex("00 02 00 00"))
        #expect(Array(bytes[64..<68]) == hex("80 ee 36 00"))   // 3 600 000 ms
    }

    @Test func nvmeSanitizeSanact() {
        #expect(NvmeCommands.sanitize(.cryptoErase).cdw10 == 0x4)
        #expect(NvmeCommands.sanitize(.blockErase).cdw10 == 0x2)
        #expect(NvmeCommands.sanitize(.exitFailureMode).cdw10 == 0x1)
        #expect(NvmeCommands.sanitize(.cryptoErase, ause: true).cdw10 == 0xC)
        let ow = NvmeCommands.sanitize(.overwrite, overwritePasses: 1, overwritePattern: 0xDEAD_BEEF)
        #expect(ow.opcode == 0x84 && ow.nsid == 0 && ow.cdw10 == 0x13 && ow.cdw11 == 0xDEAD_BEEF)
        #expect(NvmeCommands.sanitize(.overwrite, overwritePasses: 0, invertBetweenPasses: true).cdw10 == 0x103)
        #expect(NvmeCommands.sanitize(.blockErase, noDeallocate: true).cdw10 == 0x202)
    }
}
