import DeviceKit
import Testing
@testable import Sanitize

private func expectCode(_ code: SanitizeError.Code, _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        try body()
        Issue.record("expected \(code.rawValue)", sourceLocation: sourceLocation)
    } catch let error as SanitizeError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
    }
}

@Suite struct NvmeFlowTests {
    @Test(arguments: [FirmwareEraseMethod.nvmeSanitizeCrypto, .nvmeSanitizeBlock])
    func sanitizeWithProgress(method: FirmwareEraseMethod) throws {
        let controller = SimulatedNvmeController()
        let before = controller.data
        var fractions: [Double] = []
        let result = try makeEraser(controller, .nvme, progress: { if let f = $0.fraction { fractions.append(f) } }).erase(method)
        #expect(result.appliesToAllNamespaces == true)
        #expect(fractions.count == 3 && fractions.last == 1)
        #expect(controller.data.differsEverywhere(from: before))
        // The Sanitize command's ioctl image: opcode 84h, CDW10 = SANACT.
        let sanitize = try #require(controller.receivedCommands.first { $0[0] == 0x84 })
        #expect(sanitize.le32(40) == (method == .nvmeSanitizeCrypto ? 4 : 2))
    }

    @Test func sanitizeOverwrite() throws {
        var config = SimulatedNvmeController.Configuration()
        config.sanicap = 0x4
        let controller = SimulatedNvmeController(configuration: config)
        var options = FirmwareEraseOptions()
        options.overwritePattern = 0x5A5A_5A5A
        _ = try makeEraser(controller, .nvme).erase(.nvmeSanitizeOverwrite, options: options)
        #expect(controller.data.allEqual(0x5A))
        expectCode(.unsupported) { _ = try makeEraser(controller, .nvme).erase(.nvmeSanitizeCrypto) }
    }

    @Test func sanitizeFailsMidway() {
        let controller = SimulatedNvmeController()
        controller.faults = [.sanitizeFailsAtPoll(2)]
        expectCode(.commandFailed) { _ = try makeEraser(controller, .nvme).erase(.nvmeSanitizeCrypto) }
    }

    @Test func sanitizeTimeout() {
        let controller = SimulatedNvmeController()
        controller.faults = [.timeout(opcode: 0x84)]
        expectCode(.timedOut) { _ = try makeEraser(controller, .nvme).erase(.nvmeSanitizeBlock) }
    }

    @Test func formatUserDataAndCrypto() throws {
        let controller = SimulatedNvmeController()
        let r1 = try makeEraser(controller, .nvme).erase(.nvmeFormatUserData)
        #expect(controller.data.allEqual(0))
        #expect(r1.appliesToAllNamespaces == true && r1.notes.count == 1)
        let before = controller.data
        _ = try makeEraser(controller, .nvme).erase(.nvmeFormatCrypto)
        #expect(controller.data.differsEverywhere(from: before))
        #expect(controller.formats.map { $0.ses } == [1, 2])
        let format = try #require(controller.receivedCommands.last { $0[0] == 0x80 })
        #expect(format.le32(4) == 1 && format.le32(40) == 0x400)
    }

    @Test func formatRefusals() {
        var config = SimulatedNvmeController.Configuration()
        config.fna = 0
        let noCrypto = SimulatedNvmeController(configuration: config)
        expectCode(.unsupported) { _ = try makeEraser(noCrypto, .nvme).erase(.nvmeFormatCrypto) }
        config.oacs = 0
        expectCode(.unsupported) { _ = try makeEraser(SimulatedNvmeController(configuration: config), .nvme).erase(.nvmeFormatUserData) }
        let failing = SimulatedNvmeController()
        failing.faults = [.formatFails]
        expectCode(.commandFailed) { _ = try makeEraser(failing, .nvme).erase(.nvmeFormatUserData) }
        config = SimulatedNvmeController.Configuration()
        config.fna = 0x08
        var all = FirmwareEraseOptions()
        all.namespaceID = 0xFFFF_FFFF
        expectCode(.unsupported) { _ = try makeEraser(SimulatedNvmeController(configuration: config), .nvme).erase(.nvmeFormatUserData, options: all) }
    }

    @Test func singleNamespaceFormatDoesNotClaimAll() throws {
        var config = SimulatedNvmeController.Configuration()
        config.fna = 0x04
        let result = try makeEraser(SimulatedNvmeController(configuration: config), .nvme).erase(.nvmeFormatCrypto)
        #expect(result.appliesToAllNamespaces == false && result.notes.isEmpty)
    }

    @Test func wrongFamilyIsRefused() {
        expectCode(.invalidRequest) { _ = try makeEraser(SimulatedNvmeController(), .nvme).erase(.ataSecurityErase) }
        expectCode(.invalidRequest) { _ = try makeEraser(SimulatedAtaDrive(), .sat).erase(.nvmeSanitizeCrypto) }
    }
}

@Suite struct ScsiFlowTests {
    @Test(arguments: [FirmwareEraseMethod.scsiSanitizeOverwrite, .scsiSanitizeBlock, .scsiSanitizeCrypto, .scsiFormatSecure])
    func erasesWithProgress(method: FirmwareEraseMethod) throws {
        let disk = SimulatedScsiDisk()
        let before = disk.data
        var fractions: [Double] = []
        let result = try makeEraser(disk, .scsi, progress: { if let f = $0.fraction { fractions.append(f) } }).erase(method)
        #expect(result.model == "SEAGATE ST300MM0048" && result.serialNumber == "Z1Z0ABCD0000")
        #expect(fractions == [0.5, 1])
        #expect(disk.data.differsEverywhere(from: before))
    }

    @Test func overwriteParameterListOnTheWire() throws {
        let disk = SimulatedScsiDisk()
        _ = try makeEraser(disk, .scsi).erase(.scsiSanitizeOverwrite)
        #expect(disk.receivedCDBs.contains(hex("48 81 00 00 00 00 00 00 08 00")))
        #expect(disk.receivedParameterLists == [hex("01 00 00 04 00 00 00 00")])
        #expect(disk.data.allEqual(0))
    }

    @Test func unsupportedAndFailures() {
        let disk = SimulatedScsiDisk()
        disk.supportedSanitizeActions = [0x01]
        expectCode(.unsupported) { _ = try makeEraser(disk, .scsi).erase(.scsiSanitizeCrypto) }
        let failing = SimulatedScsiDisk()
        failing.failsAtPoll = 2
        expectCode(.commandFailed) { _ = try makeEraser(failing, .scsi).erase(.scsiSanitizeBlock) }
        // A drive that cannot list its commands: the SANITIZE is tried and its ILLEGAL REQUEST read.
        let old = SimulatedScsiDisk()
        old.reportsSupportedOperationCodes = false
        old.supportedSanitizeActions = [0x02]
        expectCode(.unsupported) { _ = try makeEraser(old, .scsi).erase(.scsiSanitizeCrypto) }
        #expect(old.receivedCDBs.contains { $0[0] == 0x48 })
        #expect(throws: Never.self) { _ = try makeEraser(old, .scsi).erase(.scsiSanitizeBlock) }
        let slow = SimulatedScsiDisk()
        slow.timeoutOpcode = 0x04
        expectCode(.timedOut) { _ = try makeEraser(slow, .scsi).erase(.scsiFormatSecure) }
    }
}

@Suite struct PurgePlannerTests {
    @Test func nvmeOrder() {
        var c = PurgeCapabilities(kind: .nvme)
        c.sanitizeCrypto = true; c.sanitizeBlock = true; c.formatCrypto = true; c.formatUserData = true
        #expect(PurgePlanner.plan(c).method == .nvmeSanitizeCrypto)
        c.sanitizeCrypto = false
        #expect(PurgePlanner.plan(c).method == .nvmeSanitizeBlock)
        c.sanitizeBlock = false
        #expect(PurgePlanner.plan(c).method == .nvmeFormatCrypto)
        c.formatCrypto = false
        #expect(PurgePlanner.plan(c).method == .nvmeFormatUserData)
        c.formatUserData = false
        if case .cannotPurge = PurgePlanner.plan(c) {} else { Issue.record("expected cannotPurge") }
    }

    @Test func sataSsdOrder() throws {
        #expect(PurgePlanner.plan(.ata(try AtaIdentify.parse(SimulatedAtaDrive().currentIdentify()))).method == .ataSanitizeCrypto)
        var config = SimulatedAtaDrive.Configuration()
        config.sanitizeCrypto = false
        #expect(PurgePlanner.plan(PurgeCapabilities(ata: try AtaIdentify.parse(SimulatedAtaDrive.makeIdentify(config)))).method == .ataSanitizeBlock)
        config.sanitizeBlock = false
        #expect(PurgePlanner.plan(PurgeCapabilities(ata: try AtaIdentify.parse(SimulatedAtaDrive.makeIdentify(config)))).method == .ataSecurityEraseEnhanced)
        config.enhancedEraseSupported = false
        if case .cannotPurge = PurgePlanner.plan(PurgeCapabilities(ata: try AtaIdentify.parse(SimulatedAtaDrive.makeIdentify(config)))) {} else { Issue.record("expected cannotPurge") }
    }

    @Test func hardDiskOrder() throws {
        let hdd = try AtaIdentify.parse(SimulatedAtaDrive.makeIdentify(.hardDisk()))
        #expect(PurgePlanner.plan(.ata(hdd)).method == .ataSanitizeOverwrite)
        var config = SimulatedAtaDrive.Configuration.hardDisk()
        config.sanitizeOverwrite = false
        if case .overwritePasses = PurgePlanner.plan(.ata(try AtaIdentify.parse(SimulatedAtaDrive.makeIdentify(config)))) {} else { Issue.record("expected overwrite passes") }
    }

    @Test func scsiFromIdentify() throws {
        let disk = SimulatedScsiDisk()
        disk.supportedSanitizeActions = [0x01, 0x02]
        let identity = try makeEraser(disk, .scsi).identify()
        #expect(PurgePlanner.plan(identity).method == .scsiSanitizeBlock)
        guard case .scsi(let s) = identity else { Issue.record("not scsi"); return }
        #expect(s.logicalBlocks == 585_937_500 && s.logicalBlockSize == 512 && s.capacityInBytes == 300_000_000_000)
        #expect(s.sanitizeOverwrite == true && s.sanitizeCryptographicErase == false)
        disk.supportedSanitizeActions = []
        #expect(PurgePlanner.plan(try makeEraser(disk, .scsi).identify()) == .overwritePasses(reason: .init(fr: "SCSI sans SANITIZE connu : passes de réécriture par le moteur", en: "SCSI without known SANITIZE: overwrite passes by the engine")))
        disk.reportsSupportedOperationCodes = false
        guard case .scsi(let unknown) = try makeEraser(disk, .scsi).identify() else { return }
        #expect(unknown.sanitizeOverwrite == nil && unknown.sanitizeBlockErase == nil)
    }

    @Test func nvmeFromIdentify() throws {
        let id = try NvmeControllerIdentity.parse(SimulatedNvmeController.makeIdentifyController(.init()))
        #expect(PurgePlanner.plan(.nvme(controller: id, namespace: nil)).method == .nvmeSanitizeCrypto)
    }
}
