import Bench
import Certificates
import DeviceKit
import Foundation
import Journal
import Sanitize
import Testing
import WipeEngine

/// The `nist-800-88-purge` profiles end to end without hardware: a simulated drive (the same
/// command bytes as a real one) whose media is a regular file, so the firmware erase really
/// changes the bytes the bench reads back through its own I/O path; then the journal, and a
/// signed certificate whose status follows from what ran. No root needed.
@Suite struct FirmwarePurgeTests {
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let library: ProfileLibrary = try! ProfileLibrary.load(directories: [checkout.appendingPathComponent("Profiles").path])
    static let sectors: UInt64 = 32_768 // 16 MiB of 512-byte sectors

    /// A simulated drive handed to the job's thread (the purger uses it only there).
    final class DriveBox: @unchecked Sendable {
        let transport: PassthroughTransport
        let type: PassthroughDeviceType
        init(_ transport: PassthroughTransport, _ type: PassthroughDeviceType) { self.transport = transport; self.type = type }
    }

    /// A temporary bench: media file full of "user data", journal, key, certificate output.
    struct Rig {
        let directory: String
        let media: String
        let journal: JournalDatabase
        let context: ErasureContext

        init() throws {
            directory = NSTemporaryDirectory() + "ardoise-purge-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            media = directory + "/media.img"
            var generator = SplitMix(seed: 42)
            var data = [UInt8](repeating: 0, count: Int(FirmwarePurgeTests.sectors) * 512)
            for i in data.indices { data[i] = UInt8(truncatingIfNeeded: generator.next() >> 17) | 1 }
            FileManager.default.createFile(atPath: media, contents: Data(data))
            journal = try JournalDatabase(dataDirectory: directory)
            let key = try BenchKey.loadOrCreate(dataDirectory: directory)
            let issuer = CertificateIssuer(key: key, outputDirectory: directory + "/certificates", journal: journal, language: .english)
            context = ErasureContext(benchID: "bench-test", organisation: Organisation(name: "Atelier test"), technician: "Tech",
                                     donor: "Donor", lot: "L1", destination: .externalReuse, journal: journal, issuer: issuer,
                                     bufferSize: 1 << 20)
        }

        func cleanUp() { try? FileManager.default.removeItem(atPath: directory) }

        /// Connects the drive's erases to the media file.
        func attach(_ drive: SimulatedAtaDrive) { let file = SimulatedMediaFile(path: media); drive.onMediaChange = { file.apply($0) } }
        func attach(_ drive: SimulatedNvmeController) { let file = SimulatedMediaFile(path: media); drive.onMediaChange = { file.apply($0) } }
        func attach(_ drive: SimulatedScsiDisk) { let file = SimulatedMediaFile(path: media); drive.onMediaChange = { file.apply($0) } }

        func run(_ profileName: String, drive: DriveBox?) async throws -> (ErasureOutcome, ErasureSession) {
            let profile = try FirmwarePurgeTests.library.requireProfile(named: profileName)
            let target = try FileWipeTarget(path: media)
            var factory: FirmwarePurgerFactory?
            if let box = drive {
                factory = { @Sendable (jobID: UUID, journal: JournalDatabase) -> any FirmwarePurging in
                    let make: DriveFirmwarePurger.TransportFactory = { (box.transport, box.type) }
                    return DriveFirmwarePurger(makeTransport: make,
                                               secretStore: JournalSecretStore(journal: journal, jobID: jobID),
                                               sleep: { _ in }, trace: DriveFirmwarePurger.journalTrace(journal, jobID: jobID))
                }
            }
            let session = try ErasureSession(medium: MediumDescription(imagePath: media, sizeInBytes: target.sizeInBytes, logicalSectorSize: 512),
                                             target: target, profile: profile, context: context, firmware: factory)
            return (try await session.run(), session)
        }

        func bytes() throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: media))) }

        func commandLines(_ jobID: UUID) throws -> [String] {
            try journal.events(jobID: jobID).filter { $0.kind == JournalEventKind.firmwareCommand }.compactMap { event in
                let object = try JSONSerialization.jsonObject(with: Data(event.payload.utf8)) as? [String: String]
                return object?["kind"] == "command" ? object?["line"] : nil
            }
        }
    }

    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func ssd(sanitizeCrypto: Bool = true, sanitizeBlock: Bool = true, enhanced: Bool = true, hidden: UInt64 = 0) -> SimulatedAtaDrive {
        var c = SimulatedAtaDrive.Configuration()
        c.sectors = sectors
        c.sanitizeCrypto = sanitizeCrypto
        c.sanitizeBlock = sanitizeBlock
        c.enhancedEraseSupported = enhanced
        return SimulatedAtaDrive(configuration: c, hiddenSectors: hidden)
    }

    static func hdd(sanitizeOverwrite: Bool) -> SimulatedAtaDrive {
        var c = SimulatedAtaDrive.Configuration.hardDisk()
        c.sectors = sectors
        c.sanitizeOverwrite = sanitizeOverwrite
        return SimulatedAtaDrive(configuration: c)
    }

    // MARK: Profiles

    @Test func thePurgeProfilesParseWithTheirFirmwareStep() throws {
        let purge = try #require(Self.library.profile(named: "nist-800-88-purge"))
        #expect(purge.nistCategory == .purge)
        #expect(purge.firmware == FirmwareStep(method: "auto", verification: .nistSample, restoreHiddenArea: true, finalOverwrite: false, overwriteFallback: true))
        let overwrite = try #require(Self.library.profile(named: "nist-800-88-purge-overwrite"))
        #expect(overwrite.firmware?.finalOverwrite == true)
        #expect(overwrite.passes.map(\.verification) == [.full])
    }

    @Test func profileMethodNamesAreTheSanitizeMethods() {
        #expect(Set(FirmwareStep.methodNames) == Set(FirmwareEraseMethod.allCases.map(\.rawValue)))
    }

    @Test func aMalformedFirmwareSectionNamesFileLineAndField() throws {
        let directory = NSTemporaryDirectory() + "ardoise-fwprofile-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cases: [(String, Int, String)] = [
            ("[firmware]\nmethod = \"ata-sanitize-magic\"\n", 11, "firmware.method"),
            ("[firmware]\nmethod = \"auto\"\nverify = \"full\"\n", 12, "firmware.verify"),
            ("[firmware]\nmethod = \"auto\"\nverify = \"sample\"\nsample = \"nist\"\nfinal-overwrite = \"yes\"\n", 14, "firmware.final-overwrite"),
            ("[firmware]\ncolour = \"blue\"\n", 11, "firmware.colour"),
        ]
        for (firmware, line, field) in cases {
            let path = directory + "/bad.toml"
            let text = """
                name = "bad"
                standard = "x"
                nist-category = "purge"
                [title]
                fr = "x"
                en = "x"
                [[pass]]
                kind = "constant"
                \(firmware.hasPrefix("[firmware]") ? "byte = 0\n" + firmware : firmware)
                """
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            #expect(throws: WipeEngineError.self) { try ProfileLibrary.loadFile(path: path) }
            do {
                _ = try ProfileLibrary.loadFile(path: path)
            } catch {
                #expect(error.file == path)
                #expect(error.line == line, "\(error)")
                #expect(error.field == field, "\(error)")
            }
        }
    }

    // MARK: Flows

    @Test func aSataSsdIsCryptoScrambledVerifiedAndCertifiedAsPurge() async throws {
        let rig = try Rig()
        defer { rig.cleanUp() }
        let before = try rig.bytes()
        let drive = Self.ssd()
        rig.attach(drive)
        let (outcome, session) = try await rig.run("nist-800-88-purge", drive: DriveBox(drive, .sat))
        let firmware = try #require(outcome.report.firmware)
        #expect(firmware.outcome == .purged, "\(firmware.reason.english)")
        #expect(firmware.operations.map(\.method) == ["ata-sanitize-crypto"])
        #expect(firmware.verification?.result == .passed)
        #expect((firmware.verification?.sampleCount ?? 0) >= 2002)
        #expect(outcome.report.succeeded)
        #expect(outcome.report.passes.isEmpty)
        // The media really changed: no sector still holds the user data.
        let after = try rig.bytes()
        #expect(stride(from: 0, to: after.count, by: 512).allSatisfy { after[$0..<$0 + 512] != before[$0..<$0 + 512] })
        // The certificate says what ran.
        let certificate = try #require(outcome.certificate)
        #expect(certificate.status == .erased)
        let sanitization = certificate.signed.payload.sanitization
        #expect(sanitization.category == .purge)
        #expect(sanitization.method == .firmware)
        #expect(sanitization.firmwareOperations?.map(\.command) == ["ATA SANITIZE CRYPTO SCRAMBLE"])
        #expect(certificate.signed.payload.verification.result == .passed)
        #expect(certificate.signed.payload.verification.method == .sampled)
        // The audit trace is in the journal, in the dry-run grammar, and the chain verifies.
        let lines = try rig.commandLines(session.jobID)
        let grammar = try Regex(PassthroughTrace.grammar)
        #expect(!lines.isEmpty)
        #expect(lines.allSatisfy { $0.wholeMatch(of: grammar) != nil })
        #expect(lines.contains { $0.hasPrefix("sat16 85 ") && $0.contains(" b4 ") })
        #expect(try rig.journal.verifyChain().isIntact)
        #expect(try rig.journal.events(jobID: session.jobID).contains { $0.kind == JournalEventKind.firmwareFinished })
    }

    @Test func anNvmeControllerGetsSanitizeCryptoAndWithoutSanitizeFormatCrypto() async throws {
        for (sanicap, expected) in [(UInt32(0x3), "nvme-sanitize-crypto"), (UInt32(0x2), "nvme-sanitize-block"), (UInt32(0), "nvme-format-crypto")] {
            let rig = try Rig()
            defer { rig.cleanUp() }
            var c = SimulatedNvmeController.Configuration()
            c.sanicap = sanicap
            c.namespaceBlocks = Self.sectors
            let controller = SimulatedNvmeController(configuration: c)
            rig.attach(controller)
            let (outcome, _) = try await rig.run("nist-800-88-purge", drive: DriveBox(controller, .nvme))
            let firmware = try #require(outcome.report.firmware)
            #expect(firmware.operations.map(\.method) == [expected])
            #expect(firmware.outcome == .purged, "\(expected): \(firmware.reason.english)")
            #expect(outcome.certificate?.status == .erased)
        }
    }

    @Test func aHardDiskWithSanitizeOverwriteIsOverwrittenByTheDrive() async throws {
        let rig = try Rig()
        defer { rig.cleanUp() }
        let drive = Self.hdd(sanitizeOverwrite: true)
        rig.attach(drive)
        let (outcome, _) = try await rig.run("nist-800-88-purge", drive: DriveBox(drive, .sat))
        #expect(outcome.report.firmware?.operations.map(\.method) == ["ata-sanitize-overwrite"])
        #expect(outcome.report.firmware?.outcome == .purged)
        #expect(try rig.bytes().allSatisfy { $0 == 0 })
        #expect(outcome.certificate?.signed.payload.sanitization.category == .purge)
    }

    @Test func aHardDiskWithoutFirmwarePurgeFallsBackToAVerifiedOverwriteRecordedAsClear() async throws {
        let rig = try Rig()
        defer { rig.cleanUp() }
        let drive = Self.hdd(sanitizeOverwrite: false)
        rig.attach(drive)
        let (outcome, _) = try await rig.run("nist-800-88-purge", drive: DriveBox(drive, .sat))
        #expect(outcome.report.firmware?.outcome == .overwriteFallback)
        #expect(outcome.report.passes.count == 1)
        #expect(outcome.report.nistCategory == .clear)
        #expect(outcome.report.succeeded)
        #expect(try rig.bytes().allSatisfy { $0 == 0 })
        let certificate = try #require(outcome.certificate)
        #expect(certificate.status == .erased)
        #expect(certificate.signed.payload.sanitization.category == .clear)
        #expect(certificate.signed.payload.sanitization.method == .overwrite)
    }

    @Test func purgeThenOverwriteLeavesZerosAndCertifiesBoth() async throws {
        let rig = try Rig()
        defer { rig.cleanUp() }
        let drive = Self.ssd()
        rig.attach(drive)
        let (outcome, _) = try await rig.run("nist-800-88-purge-overwrite", drive: DriveBox(drive, .sat))
        #expect(outcome.report.firmware?.outcome == .purged)
        #expect(outcome.report.passes.count == 1)
        #expect(outcome.report.passes.first?.verification?.result == .passed)
        #expect(try rig.bytes().allSatisfy { $0 == 0 })
        let certificate = try #require(outcome.certificate)
        #expect(certificate.status == .erased)
        #expect(certificate.signed.payload.sanitization.method == .firmwareAndOverwrite)
        #expect(certificate.signed.payload.sanitization.category == .purge)
        #expect(certificate.signed.payload.verification.method == .full)
        // The journal keeps the pass's own start and end (to the millisecond it stores).
        let pass = try #require(outcome.report.passes.first)
        let row = try #require(try rig.journal.passes(jobID: outcome.jobID).first)
        #expect(abs(try #require(row.startedAt).timeIntervalSince(try #require(pass.startedAt))) < 0.002)
        #expect(abs(try #require(row.endedAt).timeIntervalSince(try #require(pass.endedAt))) < 0.002)
    }

    @Test func aDriveThatReportsSuccessButErasesNothingIsCaughtByTheSamples() async throws {
        let rig = try Rig()
        defer { rig.cleanUp() }
        let drive = Self.ssd()   // not attached: the "erase" leaves the media as it was
        let (outcome, _) = try await rig.run("nist-800-88-purge", drive: DriveBox(drive, .sat))
        let firmware = try #require(outcome.report.firmware)
        #expect(firmware.outcome == .failed)
        #expect(firmware.verification?.result == .failed)
        #expect(firmware.verification?.firstBadOffsets.first == 0)
        #expect(!outcome.report.succeeded)
        #expect(outcome.jobStatus == .failed)
        #expect(outcome.certificate?.status == .notErased)
    }

    @Test func aFrozenDriveIsRefusedWithAdviceAndNothingIsCertified() async throws {
        let rig = try Rig()
        defer { rig.cleanUp() }
        let drive = Self.ssd()
        drive.sanitizeFrozen = true
        drive.frozen = true
        rig.attach(drive)
        let before = try rig.bytes()
        let (outcome, _) = try await rig.run("nist-800-88-purge", drive: DriveBox(drive, .sat))
        let firmware = try #require(outcome.report.firmware)
        #expect(firmware.outcome == .failed)
        #expect(firmware.reason.english.lowercased().contains("frozen"), "\(firmware.reason.english)")
        #expect(firmware.operations.first?.succeeded == false)
        #expect(outcome.certificate?.status == .notErased)
        // Refused before anything was written (not even the check samples).
        #expect(try rig.bytes() == before)
    }

    @Test func aSanitizeThatFailsMidwayOrTimesOutIsNeverCertified() async throws {
        for fault in [SimulatedNvmeController.Fault.sanitizeFailsAtPoll(2), .timeout(opcode: 0x84)] {
            let rig = try Rig()
            defer { rig.cleanUp() }
            var c = SimulatedNvmeController.Configuration()
            c.namespaceBlocks = Self.sectors
            let controller = SimulatedNvmeController(configuration: c)
            controller.faults = [fault]
            rig.attach(controller)
            let (outcome, _) = try await rig.run("nist-800-88-purge", drive: DriveBox(controller, .nvme))
            let firmware = try #require(outcome.report.firmware)
            #expect(firmware.outcome == .failed, "\(fault)")
            #expect(firmware.operations.first?.succeeded == false)
            #expect(outcome.jobStatus == .failed)
            #expect(outcome.certificate?.status == .notErased)
            let exceptions = outcome.certificate?.signed.payload.result.exceptions.map(\.kind) ?? []
            #expect(exceptions.contains(.firmwareCommandFailed), "\(exceptions)")
        }
    }

    @Test func aDriveLockedBySomeoneElseIsRefusedBeforeAnyWrite() async throws {
        let rig = try Rig()
        defer { rig.cleanUp() }
        let before = try rig.bytes()
        // A previous owner's password: set it through the drive's own command bytes.
        let drive = Self.ssd(sanitizeCrypto: false, sanitizeBlock: false, enhanced: true)
        let owner = FirmwareEraser(transport: drive, deviceType: .sat, secretStore: InMemorySecretStore(), sleep: { _ in },
                                   makePassword: { AtaPassword(text: "owner")! })
        drive.faults = [.powerCutDuringSecurityErase]
        _ = try? owner.erase(.ataSecurityEraseEnhanced)
        drive.faults = []
        #expect(drive.locked)
        let (outcome, _) = try await rig.run("nist-800-88-purge", drive: DriveBox(drive, .sat))
        #expect(outcome.report.firmware?.outcome == .failed)
        #expect(outcome.report.firmware?.reason.english.contains("locked") == true, "\(outcome.report.firmware?.reason.english ?? "")")
        #expect(outcome.certificate?.status == .notErased)
        #expect(try rig.bytes() == before)
    }

    @Test func aPowerCutDuringSecurityEraseLeavesTheJournalAbleToUnlockTheDrive() async throws {
        let rig = try Rig()
        defer { rig.cleanUp() }
        let drive = Self.ssd(sanitizeCrypto: false, sanitizeBlock: false, enhanced: true)
        drive.faults = [.powerCutDuringSecurityErase]
        rig.attach(drive)
        let (outcome, session) = try await rig.run("nist-800-88-purge", drive: DriveBox(drive, .sat))
        #expect(outcome.report.firmware?.operations.map(\.method) == ["ata-security-erase-enhanced"])
        #expect(outcome.report.firmware?.outcome == .failed)
        #expect(outcome.certificate?.status == .notErased)
        #expect(drive.locked)
        // The temporary password is in the journal, under the job; recovery unlocks with it.
        let pending = try rig.journal.pendingFirmwareSecrets()
        #expect(pending.map(\.jobID) == [session.jobID])
        drive.faults = []
        let recovery = FirmwareEraser(transport: drive, deviceType: .sat, secretStore: JournalSecretStore(journal: rig.journal, jobID: nil), sleep: { _ in })
        _ = try recovery.recover()
        #expect(!drive.locked)
        #expect(!drive.securityEnabled)
        #expect(try rig.journal.pendingFirmwareSecrets().isEmpty)
        #expect(try rig.journal.verifyChain().isIntact)
    }

    @Test func aRestoredHostProtectedAreaIsStatedOnTheCertificate() async throws {
        let rig = try Rig()
        defer { rig.cleanUp() }
        let drive = Self.ssd(hidden: 2048)
        rig.attach(drive)
        let (outcome, _) = try await rig.run("nist-800-88-purge", drive: DriveBox(drive, .sat))
        let hidden = try #require(outcome.report.firmware?.hiddenArea)
        #expect(hidden.detected)
        #expect(hidden.erased == true)
        #expect(hidden.hiddenBytes == 2048 * 512)
        let certificate = try #require(outcome.certificate)
        #expect(certificate.signed.payload.hiddenAreas?.detected == true)
        #expect(certificate.signed.payload.hiddenAreas?.erased == true)
        #expect(certificate.status == .erased)
    }

    @Test func withoutPassThroughTheProfileFailsCleanlyAndWritesNothing() async throws {
        let rig = try Rig()
        defer { rig.cleanUp() }
        let before = try rig.bytes()
        let (outcome, _) = try await rig.run("nist-800-88-purge", drive: nil)
        #expect(outcome.report.firmware?.outcome == .failed)
        #expect(outcome.jobStatus == .failed)
        #expect(outcome.certificate?.status == .notErased)
        #expect(try rig.bytes() == before)
    }

    @Test func aUsbBridgeWithoutPassThroughIsRefusedBeforeAnyWrite() async throws {
        let rig = try Rig()
        defer { rig.cleanUp() }
        let before = try rig.bytes()
        let drive = Self.ssd()
        drive.faults = [.noPassThrough]
        let (outcome, _) = try await rig.run("nist-800-88-purge", drive: DriveBox(drive, .sat))
        #expect(outcome.report.firmware?.outcome == .failed)
        #expect(outcome.certificate?.status == .notErased)
        #expect(try rig.bytes() == before)
    }
}
