import DeviceKit
import Testing
@testable import Sanitize

@Suite struct AtaIdentifyParsingTests {
    /// A hand-built dump: every field at its ACS-3 word, strings byte-swapped.
    func constructedDump() -> [UInt8] {
        var id = [UInt8](repeating: 0, count: 512)
        func w(_ n: Int, _ v: UInt16) { id[2 * n] = UInt8(v & 0xFF); id[2 * n + 1] = UInt8(v >> 8) }
        // Serial "  WD-WX11A1234567" right-justified, stored swapped: "  " "WD" → 20 20 44 57 …
        let serial = Array("    WD-WX11A1234567".utf8) + [0x20]
        for i in 0..<10 { id[20 + 2 * i] = serial[2 * i + 1]; id[21 + 2 * i] = serial[2 * i] }
        // Model "ORACLE" → raw "RO CA EL" then spaces.
        let model = Array("ORACLE".utf8) + [UInt8](repeating: 0x20, count: 34)
        for i in 0..<20 { id[54 + 2 * i] = model[2 * i + 1]; id[55 + 2 * i] = model[2 * i] }
        let fw = Array("01.01A01".utf8)
        for i in 0..<4 { id[46 + 2 * i] = fw[2 * i + 1]; id[47 + 2 * i] = fw[2 * i] }
        w(59, 0xF100)                         // block, overwrite, crypto, sanitize
        w(60, 0xFFFF); w(61, 0x0FFF)          // 28-bit capacity capped
        w(69, 0x4020)
        w(80, 0x0400)                         // ACS-3
        w(82, 0x4403)                         // HPA, security, SMART
        w(83, 0x4C00)                         // DCO, 48-bit
        w(85, 0x4403)                         // security enabled, HPA enabled
        w(86, 0x8C00)
        w(89, 0x8000 | 300)                   // extended: 600 min
        w(90, 0x001E)                         // 60 min
        w(92, 0xFFFE)
        w(100, 0x5970); w(101, 0x1D1C)        // 0x1D1C5970 = 488 397 168 sectors
        w(106, 0x7003)                        // 8 logical per physical, > 256 words
        w(117, 0x0800); w(118, 0)             // 2048 words = 4096-byte logical sectors
        w(119, 0x4100)                        // AMAC
        w(128, 0x013F)                        // supported, enabled, locked, frozen, expired, enhanced, master max
        w(169, 1)
        w(217, 7200)
        AtaIdentify.seal(&id)
        return id
    }

    @Test func parsesEveryField() throws {
        let id = try AtaIdentify.parse(constructedDump())
        #expect(id.model == "ORACLE")
        #expect(id.serialNumber == "WD-WX11A1234567")
        #expect(id.firmwareRevision == "01.01A01")
        #expect(id.supports48Bit)
        #expect(id.sectors28 == 0x0FFF_FFFF)
        #expect(id.sectors48 == 0x1D1C_5970)
        #expect(id.userAddressableSectors == 488_397_168)
        #expect(id.logicalSectorSize == 4096)
        #expect(id.physicalSectorSize == 32768)
        #expect(id.security == .init(supported: true, enabled: true, locked: true, frozen: true, countExpired: true,
                                     enhancedEraseSupported: true, masterPasswordMaximum: true,
                                     eraseTimeMinutes: 600, enhancedEraseTimeMinutes: 60, masterPasswordIdentifier: nil))
        #expect(id.sanitize.supported && id.sanitize.blockErase && id.sanitize.overwrite && id.sanitize.cryptoScramble)
        #expect(id.supportsHPA && id.hpaEnabled && id.supportsDCO && id.supportsAccessibleMaxAddress)
        #expect(id.supportsTrim && id.deterministicReadAfterTrim && id.zeroesAfterTrim)
        #expect(id.rotationRate == 7200 && !id.isSolidState)
        #expect(id.checksumValid)
    }

    @Test func rawStringBytesAreSwappedPairs() {
        let dump = constructedDump()
        #expect(Array(dump[54..<60]) == Array("ROCAEL".utf8))
    }

    @Test func rejectsBadChecksum() {
        var dump = constructedDump()
        dump[100] ^= 0x01
        #expect(throws: SanitizeError.self) { try AtaIdentify.parse(dump) }
        do { _ = try AtaIdentify.parse(dump) } catch let e as SanitizeError { #expect(e.code == .malformedData && e.message.english.contains("checksum")) } catch {}
    }

    @Test(arguments: [0, 256, 511, 513, 4096])
    func rejectsWrongSize(size: Int) {
        #expect(throws: SanitizeError.self) { try AtaIdentify.parse([UInt8](repeating: 0x11, count: size)) }
    }

    @Test func rejectsEmptyDump() {
        #expect(throws: SanitizeError.self) { try AtaIdentify.parse([UInt8](repeating: 0, count: 512)) }
        #expect(throws: SanitizeError.self) { try AtaIdentify.parse([UInt8](repeating: 0xFF, count: 512)) }
    }

    @Test func noSignatureMeansNoChecksum() throws {
        var dump = constructedDump()
        dump[510] = 0; dump[511] = 0
        let id = try AtaIdentify.parse(dump)
        #expect(!id.checksumValid)
    }

    @Test func shortEraseTimeFormAndTwentyEightBitDrive() throws {
        var c = SimulatedAtaDrive.Configuration()
        c.eraseTimeWord89 = 0x00FF
        c.eraseTimeWord90 = 0
        let id = try AtaIdentify.parse(SimulatedAtaDrive.makeIdentify(c))
        #expect(id.security.eraseTimeMinutes == 510)
        #expect(id.security.enhancedEraseTimeMinutes == nil)
        #expect(id.isSolidState)
    }
}

@Suite struct NvmeParsingTests {
    @Test func identifyControllerFields() throws {
        var c = SimulatedNvmeController.Configuration()
        c.sanicap = 0x2000_0007
        c.fna = 0x0F
        c.namespaceCount = 4
        let dump = SimulatedNvmeController.makeIdentifyController(c)
        #expect(Array(dump[24..<30]) == Array("ARDOIS".utf8))   // not swapped
        let id = try NvmeControllerIdentity.parse(dump)
        #expect(id.vendorID == 0x1B36 && id.model == "ARDOISE SIM NVME 512GB" && id.serialNumber == "SIMNVME00003" && id.firmwareRevision == "2.1")
        #expect(id.supportsFormat && !id.supportsSecuritySendReceive)
        #expect(id.sanitizeCryptoErase && id.sanitizeBlockErase && id.sanitizeOverwrite && id.noDeallocateInhibited)
        #expect(id.formatAppliesToAllNamespaces && id.secureEraseAppliesToAllNamespaces && id.formatCryptoEraseSupported && id.formatBroadcastUnsupported)
        #expect(id.namespaceCount == 4 && id.version == 0x0002_0000)
    }

    @Test func identifyControllerMalformed() {
        #expect(throws: SanitizeError.self) { try NvmeControllerIdentity.parse([UInt8](repeating: 1, count: 512)) }
        #expect(throws: SanitizeError.self) { try NvmeControllerIdentity.parse([UInt8](repeating: 0, count: 4096)) }
    }

    @Test func sanitizeStatusLog() throws {
        var log = [UInt8](repeating: 0, count: 512)
        log[0] = 0x00; log[1] = 0x80                     // SPROG 8000h = 50 %
        log[2] = 0x12; log[3] = 0x01                     // SSTAT: in progress, 2 passes, GDE
        log[4] = 0x04                                     // SCDW10 = 4
        for i in 8..<32 { log[i] = 0xFF }
        log[16] = 0x2C; log[17] = 0x01; log[18] = 0; log[19] = 0   // crypto 300 s
        let parsed = try NvmeSanitizeStatusLog.parse(log)
        #expect(parsed.status == .inProgress && parsed.progressFraction == 0.5)
        #expect(parsed.overwritePassesCompleted == 2 && parsed.globalDataErased && parsed.sanitizeCDW10 == 4)
        #expect(parsed.estimatedCryptoEraseSeconds == 300 && parsed.estimatedBlockEraseSeconds == nil)
        log[2] = 0x07
        #expect(throws: SanitizeError.self) { try NvmeSanitizeStatusLog.parse(log) }
    }
}

@Suite struct SenseDecodingTests {
    @Test func descriptorSenseWithAtaStatusReturn() throws {
        // READ NATIVE MAX answer: 72h, NO SENSE, 00h/1Dh, descriptor 09h/0Ch, LBA 1D1C596Fh.
        let sense = hex("72 00 00 1d 00 00 00 0e 09 0c 01 00 00 00 1d 6f 00 59 00 1c 40 50")
        let decoded = try #require(SenseData.decode(sense))
        #expect(decoded.format == .descriptor && decoded.senseKey == 0 && decoded.additionalSenseCodeQualifier == 0x1D)
        let ata = try #require(decoded.ataStatus)
        #expect(ata.extend && ata.status == 0x50 && ata.device == 0x40 && !ata.isError)
        #expect(ata.lba == 0x1D1C_596F)
        #expect(ata.descriptorBytes == Array(sense[8...]))
    }

    @Test func descriptorSenseAbort() throws {
        let sense = hex("72 0b 00 00 00 00 00 0e 09 0c 00 04 00 00 00 00 00 00 00 00 40 51")
        let ata = try #require(SenseData.decode(sense)?.ataStatus)
        #expect(ata.isError && ata.isAborted)
    }

    @Test func fixedSenseProgress() throws {
        // NOT READY, 04h/1Bh sanitize in progress, SKSV + progress 4000h (25 %).
        let sense = hex("70 00 02 00 00 00 00 0a 00 00 00 00 04 1b 00 80 40 00")
        let d = try #require(SenseData.decode(sense))
        #expect(d.format == .fixed && d.senseKey == 2 && d.additionalSenseCode == 4 && d.additionalSenseCodeQualifier == 0x1B)
        #expect(d.progress == 0x4000 && d.progressFraction == 0.25)
    }

    @Test func descriptorSenseProgress() throws {
        // NOT READY 04h/04h format in progress, sense-key specific descriptor 02h, progress 8000h.
        let sense = hex("72 02 04 04 00 00 00 08 02 06 00 00 80 80 00 00")
        let d = try #require(SenseData.decode(sense))
        #expect(d.progress == 0x8000)
    }

    @Test func fixedSenseAtaRegisters() throws {
        // SAT-4 fixed form: INFORMATION = error 00, status 50, device 40, count 01; CSI = 80 (EXTEND) LBA 70 59 1c.
        let sense = hex("70 00 00 00 50 40 01 0a 80 70 59 1c 00 1d 00 00 00 00")
        let ata = try #require(SenseData.decode(sense)?.ataStatus)
        #expect(ata.status == 0x50 && ata.count == 1 && ata.lba == 0x1C_5970 && ata.extend)
    }

    @Test func rejectsGarbage() {
        #expect(SenseData.decode([]) == nil)
        #expect(SenseData.decode(hex("7f 00 00 00 00 00 00 00")) == nil)
        // Truncated descriptor list: no crash, no ATA status.
        #expect(SenseData.decode(hex("72 00 00 1d 00 00 00 0e 09 0c 01"))?.ataStatus == nil)
    }

    @Test func ataSanitizeStatusDecoding() {
        let running = AtaSanitizeStatus.decode(AtaStatusReturn(extend: true, error: 0, count: 0x4000, lba: 0x8000, device: 0x40, status: 0x50))
        #expect(running.inProgress && running.progressFraction == 0.5)
        let done = AtaSanitizeStatus.decode(AtaStatusReturn(extend: true, error: 0, count: 0x8000, lba: 0xFFFF, device: 0x40, status: 0x50))
        #expect(done.completedWithoutError && !done.inProgress)
        let frozen = AtaSanitizeStatus.decode(AtaStatusReturn(extend: true, error: 0, count: 0x2000, lba: 0xFFFF, device: 0x40, status: 0x50))
        #expect(frozen.frozen)
        let failed = AtaSanitizeStatus.decode(AtaStatusReturn(extend: true, error: 0x04, count: 0, lba: 1, device: 0x40, status: 0x51))
        #expect(failed.errorReason == 1)
    }
}
