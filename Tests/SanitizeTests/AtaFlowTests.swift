import Foundation
import DeviceKit
import Testing
@testable import Sanitize

private func expectError(_ code: SanitizeError.Code, _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        try body()
        Issue.record("expected SanitizeError.\(code.rawValue), got success", sourceLocation: sourceLocation)
    } catch let error as SanitizeError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        #expect(!error.message.french.isEmpty && !error.message.english.isEmpty, sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}

@Suite struct AtaSecurityEraseFlowTests {
    @Test func normalEraseSucceedsAndClearsPassword() throws {
        let drive = SimulatedAtaDrive()
        let before = drive.data
        let store = InMemorySecretStore()
        let result = try makeEraser(drive, .sat, store: store).erase(.ataSecurityErase)
        #expect(result.method == .ataSecurityErase && result.serialNumber == "SIM0000000001")
        #expect(drive.securityErasesDone == 1 && !drive.securityEnabled && !drive.locked)
        #expect(drive.data.allEqual(0, below: drive.accessibleSectors))
        #expect(drive.data.differsEverywhere(from: before))
        #expect(store.passwords.isEmpty)
        // ERASE PREPARE immediately followed by ERASE UNIT.
        let opcodes = drive.receivedCDBs.map { $0[14] }
        let prepare = try #require(opcodes.firstIndex(of: 0xF3))
        #expect(opcodes[prepare + 1] == 0xF4)
        #expect(opcodes.firstIndex(of: 0xF1)! < prepare)
    }

    @Test func passwordIsRecordedBeforeSetPassword() throws {
        let drive = SimulatedAtaDrive()
        let store = RecordingStore(drive: drive)
        _ = try makeEraser(drive, .sat, store: store).erase(.ataSecurityEraseEnhanced)
        #expect(store.cdbCountAtSave == drive.receivedCDBs.firstIndex { $0[14] == 0xF1 })
    }

    @Test func storeFailureMeansNoPasswordSet() {
        let drive = SimulatedAtaDrive()
        let store = InMemorySecretStore()
        store.failSaves = true
        expectError(.secretStore) { _ = try makeEraser(drive, .sat, store: store).erase(.ataSecurityErase) }
        #expect(!drive.receivedCDBs.contains { $0[14] == 0xF1 })
        #expect(!drive.securityEnabled)
    }

    @Test func enhancedEraseScramblesHiddenToo() throws {
        let drive = SimulatedAtaDrive()
        let before = drive.data
        _ = try makeEraser(drive, .sat).erase(.ataSecurityEraseEnhanced)
        #expect(drive.data.differsEverywhere(from: before))
    }

    @Test func sat12CarriesSecurityErase() throws {
        let drive = SimulatedAtaDrive()
        _ = try makeEraser(drive, .sat12).erase(.ataSecurityErase)
        #expect(drive.receivedCDBs.allSatisfy { $0.count == 12 && $0[0] == 0xA1 })
        #expect(drive.securityErasesDone == 1)
    }

    @Test func unsupportedSecurity() {
        var config = SimulatedAtaDrive.Configuration()
        config.securitySupported = false
        expectError(.unsupported) { _ = try makeEraser(SimulatedAtaDrive(configuration: config), .sat).erase(.ataSecurityErase) }
        expectError(.unsupported) { _ = try makeEraser(SimulatedAtaDrive(configuration: .hardDisk()), .sat).erase(.ataSecurityEraseEnhanced) }
    }

    @Test func frozenDriveIsRefusedWithAdvice() {
        let drive = SimulatedAtaDrive()
        drive.frozen = true
        do {
            _ = try makeEraser(drive, .sat).erase(.ataSecurityErase)
            Issue.record("expected frozen")
        } catch let e as SanitizeError {
            #expect(e.code == .frozen && e.exitCode == 74)
            #expect(e.message.french.contains("veille") && e.message.english.contains("re-plug"))
        } catch { Issue.record("\(error)") }
        #expect(!drive.receivedCDBs.contains { $0[14] == 0xF1 })
    }

    @Test func lockedAndExpiredDrives() throws {
        // Lock the drive with someone else's password through the commands themselves.
        let drive = SimulatedAtaDrive()
        let owner = AtaPassword(text: "owner")!
        _ = try drive.scsi(try AtaCommands.securitySetPassword(owner).scsiCommand(twelveByte: false))
        expectError(.locked) { _ = try makeEraser(drive, .sat).erase(.ataSecurityErase) }   // enabled, unknown password
        // Five wrong unlocks expire the counter (ACS-3 §4.18.6).
        let wrong = AtaPassword(text: "guess")!
        for _ in 0..<5 { _ = try drive.scsi(try AtaCommands.securityDisablePassword(wrong).scsiCommand(twelveByte: false)) }
        #expect(drive.countExpired)
        expectError(.countExpired) { _ = try makeEraser(drive, .sat).erase(.ataSecurityErase) }
    }

    @Test func eraseTimeoutKeepsPasswordForRecovery() throws {
        let drive = SimulatedAtaDrive()
        drive.faults = [.timeout(command: 0xF4)]
        let store = InMemorySecretStore()
        expectError(.timedOut) { _ = try makeEraser(drive, .sat, store: store).erase(.ataSecurityErase) }
        #expect(store.passwords[ataKey] != nil)
        #expect(drive.securityEnabled)
        // Recover disables security with the recorded password.
        drive.faults = []
        let recovered = try makeEraser(drive, .sat, store: store).recover()
        #expect(recovered.securityDisabled && !drive.securityEnabled && store.passwords.isEmpty)
    }

    @Test func powerCutMidEraseThenRecover() throws {
        let drive = SimulatedAtaDrive()
        drive.faults = [.powerCutDuringSecurityErase]
        let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("ardoise-secrets-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try FileSecretStore(directory: directory)
        expectError(.transport) { _ = try makeEraser(drive, .sat, store: store).erase(.ataSecurityErase) }
        #expect(drive.locked && drive.securityEnabled)
        // The record survived, file mode 0600.
        let file = store.fileURL(forDevice: ataKey)
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // A new erase is refused (locked), recover unlocks + disables.
        expectError(.locked) { _ = try makeEraser(drive, .sat, store: store).erase(.ataSecurityErase) }
        let result = try makeEraser(drive, .sat, store: FileSecretStore(directory: directory)).recover()
        #expect(result.wasLocked && result.securityDisabled)
        #expect(!drive.locked && !drive.securityEnabled)
        #expect(!FileManager.default.fileExists(atPath: file.path))
        let opcodes = drive.receivedCDBs.suffix(4).map { $0[14] }
        #expect(opcodes == [0xEC, 0xF2, 0xF6, 0xEC])
        // And the erase can now run to completion.
        _ = try makeEraser(drive, .sat, store: store).erase(.ataSecurityErase)
        #expect(drive.data.allEqual(0, below: drive.accessibleSectors))
    }

    @Test func recoverWithoutRecordRefuses() throws {
        let drive = SimulatedAtaDrive()
        _ = try drive.scsi(try AtaCommands.securitySetPassword(AtaPassword(text: "x")!).scsiCommand(twelveByte: false))
        expectError(.noRecordedPassword) { _ = try makeEraser(drive, .sat).recover() }
    }

    @Test func bridgeWithoutPassThrough() {
        let drive = SimulatedAtaDrive()
        drive.faults = [.noPassThrough]
        expectError(.transport) { _ = try makeEraser(drive, .sat).erase(.ataSecurityErase) }
    }

    @Test func abortedEraseUnitIsReported() {
        let drive = SimulatedAtaDrive()
        drive.faults = [.abort(command: 0xF4)]
        let store = InMemorySecretStore()
        expectError(.commandFailed) { _ = try makeEraser(drive, .sat, store: store).erase(.ataSecurityErase) }
        #expect(store.passwords[ataKey] != nil)   // drive has our password: keep the way back
    }

    @Test func timeoutFromWords89And90() {
        #expect(FirmwareEraser.securityEraseTimeoutMs(estimateMinutes: nil) == 86_400_000)
        #expect(FirmwareEraser.securityEraseTimeoutMs(estimateMinutes: 100) == 230 * 60_000)
        #expect(FirmwareEraser.securityEraseTimeoutMs(estimateMinutes: 65_534) == UInt32.max)
    }
}

/// A store that notes how many CDBs the drive had received when the password was saved.
final class RecordingStore: SecretStore {
    let drive: SimulatedAtaDrive
    var cdbCountAtSave: Int?
    var passwords: [String: AtaPassword] = [:]
    init(drive: SimulatedAtaDrive) { self.drive = drive }
    func saveTemporaryPassword(_ password: AtaPassword, forDevice deviceKey: String) throws {
        cdbCountAtSave = drive.receivedCDBs.count
        passwords[deviceKey] = password
    }
    func temporaryPassword(forDevice deviceKey: String) throws -> AtaPassword? { passwords[deviceKey] }
    func removeTemporaryPassword(forDevice deviceKey: String) throws { passwords[deviceKey] = nil }
}

@Suite struct AtaSanitizeFlowTests {
    @Test(arguments: [FirmwareEraseMethod.ataSanitizeCrypto, .ataSanitizeBlock])
    func ssdSanitizeWithProgress(method: FirmwareEraseMethod) throws {
        let drive = SimulatedAtaDrive()
        let before = drive.data
        var fractions: [Double] = []
        let eraser = makeEraser(drive, .sat, progress: { if let f = $0.fraction { fractions.append(f) } })
        let result = try eraser.erase(method)
        #expect(result.method == method)
        #expect(fractions == [0.25, 0.5, 0.75, 1])
        #expect(drive.data.differsEverywhere(from: before))
        if method == .ataSanitizeBlock { #expect(drive.data.allEqual(0)) }
    }

    @Test func hddOverwriteWithPattern() throws {
        let drive = SimulatedAtaDrive(configuration: .hardDisk())
        var options = FirmwareEraseOptions()
        options.overwritePattern = 0x0000_00A5
        _ = try makeEraser(drive, .sat).erase(.ataSanitizeOverwrite, options: options)
        #expect(drive.data.allEqual(0xA5))
        #expect(drive.receivedCDBs.contains(hex("85 07 20 00 14 00 01 00 a5 57 00 4f 00 40 b4 00")))
    }

    @Test func unsupportedSanitize() {
        expectError(.unsupported) { _ = try makeEraser(SimulatedAtaDrive(), .sat).erase(.ataSanitizeOverwrite) }
        expectError(.unsupported) { _ = try makeEraser(SimulatedAtaDrive(), .sat12).erase(.ataSanitizeCrypto) }
    }

    @Test func sanitizeFrozen() throws {
        let drive = SimulatedAtaDrive()
        _ = try drive.scsi(try AtaCommands.sanitizeFreezeLockExt().scsiCommand(twelveByte: false))
        expectError(.frozen) { _ = try makeEraser(drive, .sat).erase(.ataSanitizeCrypto) }
    }

    @Test func errorMidSanitize() {
        let drive = SimulatedAtaDrive()
        drive.faults = [.sanitizeFailsAtPoll(3)]
        expectError(.commandFailed) { _ = try makeEraser(drive, .sat).erase(.ataSanitizeBlock) }
        // Failure mode persists until a sanitize succeeds; a new run succeeds and clears it.
        drive.faults = []
        #expect(throws: Never.self) { _ = try makeEraser(drive, .sat).erase(.ataSanitizeBlock) }
    }

    @Test func pollingGivesUp() {
        let drive = SimulatedAtaDrive()
        drive.sanitizeProgressPerPoll = 1
        var options = FirmwareEraseOptions()
        options.pollIntervalMs = 1000
        options.maxWaitMs = 10_000
        expectError(.timedOut) { _ = try makeEraser(drive, .sat).erase(.ataSanitizeCrypto, options: options) }
    }

    @Test func securityFreezeOrExpiryDoesNotBlockSanitize() throws {
        let drive = SimulatedAtaDrive()
        let owner = AtaPassword(text: "owner")!
        _ = try drive.scsi(try AtaCommands.securitySetPassword(owner).scsiCommand(twelveByte: false))
        let wrong = AtaPassword(text: "guess")!
        for _ in 0..<5 { _ = try drive.scsi(try AtaCommands.securityDisablePassword(wrong).scsiCommand(twelveByte: false)) }
        drive.frozen = true
        #expect(drive.countExpired && !drive.locked)
        #expect(throws: Never.self) { _ = try makeEraser(drive, .sat).erase(.ataSanitizeCrypto) }
    }

    @Test func lockedDriveRefusesSanitize() throws {
        let drive = SimulatedAtaDrive()
        drive.faults = [.powerCutDuringSecurityErase]
        _ = try? makeEraser(drive, .sat).erase(.ataSecurityErase)
        expectError(.locked) { _ = try makeEraser(drive, .sat).erase(.ataSanitizeCrypto) }
    }
}

@Suite struct HiddenAreaFlowTests {
    @Test func detectsHpaWithoutRestoring() throws {
        let drive = SimulatedAtaDrive(hiddenSectors: 1_000_000)
        let report = try makeEraser(drive, .sat).detectHiddenAreas(restore: false)
        #expect(report.hpaPresent && !report.restored && report.method == "read-native-max-ext")
        #expect(report.nativeSectors == drive.configuration.sectors + 1_000_000)
        let result = try makeEraser(drive, .sat).erase(.ataSecurityErase)
        #expect(result.hiddenArea?.hiddenSectorsExisted == true && result.hiddenArea?.hiddenSectorsErased == false)
        // Samples in the hidden area still hold user data after a normal erase.
        #expect(!drive.data.allEqual(0))
    }

    @Test func restoresHpaBeforeErase() throws {
        let drive = SimulatedAtaDrive(hiddenSectors: 1_000_000)
        var options = FirmwareEraseOptions()
        options.restoreHiddenArea = true
        let result = try makeEraser(drive, .sat).erase(.ataSecurityErase, options: options)
        #expect(result.hiddenArea?.restored == true && result.hiddenArea?.hiddenSectorsErased == true)
        #expect(drive.accessibleSectors == drive.nativeSectors)
        #expect(drive.data.allEqual(0))
        // READ NATIVE MAX immediately followed by SET MAX ADDRESS EXT (non-volatile, max = native − 1).
        let i = try #require(drive.receivedCDBs.firstIndex { $0[14] == 0x37 })
        #expect(drive.receivedCDBs[i - 1][14] == 0x27)
        #expect(drive.receivedCDBs[i][6] == 0x01)
    }

    @Test func accessibleMaxAddressPath() throws {
        var config = SimulatedAtaDrive.Configuration()
        config.accessibleMaxAddress = true
        let drive = SimulatedAtaDrive(configuration: config, hiddenSectors: 4096)
        let report = try makeEraser(drive, .sat).detectHiddenAreas(restore: true)
        #expect(report.method == "get-native-max-ext" && report.restored)
        #expect(drive.receivedCDBs.contains { $0[14] == 0x78 && $0[4] == 0x01 && $0[13] == 0xE0 })
    }

    @Test func detectsDco() throws {
        var config = SimulatedAtaDrive.Configuration()
        config.dcoSupported = true
        let drive = SimulatedAtaDrive(configuration: config, dcoHiddenSectors: 2048)
        let report = try makeEraser(drive, .sat).detectHiddenAreas(restore: false)
        #expect(report.dcoPresent && !report.hpaPresent && report.dcoSectors == config.sectors + 2048)
        let restored = try makeEraser(drive, .sat).detectHiddenAreas(restore: true)
        #expect(restored.restored && drive.accessibleSectors == config.sectors + 2048)
    }

    @Test func noHiddenArea() throws {
        let report = try makeEraser(SimulatedAtaDrive(), .sat).detectHiddenAreas(restore: true)
        #expect(!report.hiddenSectorsExisted && !report.restored && report.hiddenSectorsErased == nil)
    }
}
