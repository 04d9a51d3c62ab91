import ArdoiseSupport
import Bench
import Foundation
import Testing

/// The bench screen drawn from a constructed snapshot: no daemon, no terminal, no root.
@Suite struct DashboardRendererTests {
    /// One slot per state, with the figures a real job reports.
    static func snapshot(language: Language = .french) -> BenchSnapshot {
        func slot(_ name: String, _ state: SlotState, reason: String? = nil, profile: String? = "dod-5220-22m",
                  model: String = "WDC WD5000AAKX", serial: String = "WD-WCAYU1234567") -> SlotStatus {
            var status = SlotStatus(device: "/dev/\(name)", model: model, serial: serial, sizeInBytes: 500_107_862_016,
                                    transport: "sata", diskSequence: 42, state: state)
            status.reason = reason
            status.profile = profile
            return status
        }
        var waiting = slot("sdb", .waiting)
        waiting.graceSecondsLeft = 27
        var erasing = slot("sdc", .erasing, serial: "S3Z9NB0K123456")
        erasing.passIndex = 2
        erasing.passCount = 3
        erasing.fraction = 0.4242
        erasing.currentMegabytesPerSecond = 123.4
        erasing.etaSeconds = 3723
        var verifying = slot("sdd", .verifying)
        verifying.passIndex = 3
        verifying.passCount = 3
        verifying.fraction = 0.97
        verifying.currentMegabytesPerSecond = 456.7
        verifying.etaSeconds = 65
        let slots = [
            waiting, erasing, verifying,
            slot("sde", .done),
            slot("sdf", .failed, reason: language == .french ? "erreur d'écriture à l'octet 4096" : "write error at byte 4096"),
            slot("vda", .protected, reason: language == .french ? "disque système" : "system disk", profile: nil,
                 model: "QEMU HARDDISK", serial: "-"),
            slot("sdg", .removed),
            slot("sdh", .interrupted, reason: language == .french ? "disque retiré" : "drive removed"),
            slot("sdi", .queued),
            slot("sdj", .doneWithExceptions, reason: "3 secteurs illisibles"),
        ]
        return BenchSnapshot(benchID: "atelier-1", benchName: "Banc du Petit Atelier", technician: "Awa", donor: "Mairie de Rennes",
                             lot: "2026-11-A", policy: "manual", language: language, slots: slots,
                             takenAt: Date(timeIntervalSince1970: 1_800_000_000))
    }

    /// What a terminal shows: the line without its escape sequences (ESC [ … final letter).
    static func visible(_ line: String) -> String {
        var result = ""
        var inEscape = false
        for character in line {
            if character == "\u{1B}" { inEscape = true; continue }
            if inEscape {
                if character.isLetter { inEscape = false }
                continue
            }
            result.append(character)
        }
        return result
    }

    func screen(_ language: Language, width: Int = 200, height: Int = 40, colours: Bool = true, selected: Int? = 1,
                message: String? = nil) -> [String] {
        DashboardRenderer(width: width, height: height, language: language, colours: colours)
            .lines(for: Self.snapshot(language: language), selected: selected, message: message)
            .map(Self.visible)
    }

    func row(_ lines: [String], _ device: String) throws -> String {
        try #require(lines.first { $0.dropFirst().hasPrefix(device + " ") }, "no row for \(device) in:\n\(lines.joined(separator: "\n"))")
    }

    @Test func frenchScreenShowsEveryColumnOfARunningJob() throws {
        let lines = screen(.french)
        #expect(lines[0].contains("ARDOISE — Banc du Petit Atelier (atelier-1)"))
        #expect(lines[1].contains("Technicien : Awa") && lines[1].contains("Donateur : Mairie de Rennes")
            && lines[1].contains("Lot : 2026-11-A") && lines[1].contains("Mode : manual"))
        let header = try #require(lines.first { $0.hasPrefix("DISQUE") })
        for column in ["MODÈLE", "N° SÉRIE", "TAILLE", "PROFIL", "PASSE", "PROGRESSION", "MB/s", "RESTE", "ÉTAT"] {
            #expect(header.contains(column), "\(column) missing from \(header)")
        }
        let erasing = try row(lines, "sdc")
        #expect(erasing.hasPrefix("▶sdc"), "the selected row carries the marker: \(erasing)")
        #expect(erasing.contains("WDC WD5000AAKX"))
        #expect(erasing.contains("S3Z9NB0K123456"))
        #expect(erasing.contains("465.8G"))
        #expect(erasing.contains("dod-5220-22m"))
        #expect(erasing.contains(" 2/3 "))
        // 42 % of a 16-cell bar: 6 cells filled.
        #expect(erasing.contains("[██████··········]  42%"), "\(erasing)")
        #expect(erasing.contains(" 123 "), "MB/s")
        #expect(erasing.contains("1h02"), "ETA")
        #expect(erasing.hasSuffix("effacement"))
        let verifying = try row(lines, "sdd")
        #expect(verifying.contains(" 3/3 ") && verifying.contains("  97%") && verifying.contains(" 457 ") && verifying.contains("1:05"))
        #expect(verifying.hasSuffix("vérification"))
        #expect(try row(lines, "sdb").contains("⏱ 0:27"), "grace period left")
        #expect(try row(lines, "sdb").hasPrefix(" sdb"), "an unselected row has no marker")
    }

    @Test func frenchScreenNamesEveryStateInWordsWithItsReason() throws {
        let lines = screen(.french)
        #expect(try row(lines, "sdb").hasSuffix("en attente"))
        #expect(try row(lines, "sdc").hasSuffix("effacement"))
        #expect(try row(lines, "sdd").hasSuffix("vérification"))
        #expect(try row(lines, "sde").hasSuffix("terminé ✓"))
        #expect(try row(lines, "sdf").hasSuffix("échec ✗ — erreur d'écriture à l'octet 4096"))
        #expect(try row(lines, "vda").hasSuffix("protégé — disque système"))
        #expect(try row(lines, "sdg").hasSuffix("retiré"))
        #expect(try row(lines, "sdh").hasSuffix("interrompu ✗ — disque retiré"))
        #expect(try row(lines, "sdi").hasSuffix("file d'attente"))
        #expect(try row(lines, "sdj").hasSuffix("terminé avec réserves ⚠ — 3 secteurs illisibles"))
        #expect(lines.last == "↑↓ choisir   D démarrer   A annuler   Q quitter")
    }

    @Test func englishScreenNamesEveryStateInWordsWithItsReason() throws {
        let lines = screen(.english)
        #expect(lines[1].contains("Technician : Awa") && lines[1].contains("Donor : Mairie de Rennes") && lines[1].contains("Policy : manual"))
        let header = try #require(lines.first { $0.hasPrefix("DRIVE") })
        for column in ["MODEL", "SERIAL", "SIZE", "PROFILE", "PASS ", "PROGRESS", "MB/s", "ETA", "STATE"] {
            #expect(header.contains(column), "\(column) missing from \(header)")
        }
        // One language on the screen.
        #expect(!header.contains("PASSE"))
        #expect(try row(lines, "sdb").hasSuffix("waiting"))
        #expect(try row(lines, "sdc").hasSuffix("erasing"))
        #expect(try row(lines, "sdd").hasSuffix("verifying"))
        #expect(try row(lines, "sde").hasSuffix("done ✓"))
        #expect(try row(lines, "sdf").hasSuffix("failed ✗ — write error at byte 4096"))
        #expect(try row(lines, "vda").hasSuffix("protected — system disk"))
        #expect(try row(lines, "sdg").hasSuffix("removed"))
        #expect(try row(lines, "sdh").hasSuffix("interrupted ✗ — drive removed"))
        #expect(try row(lines, "sdi").hasSuffix("queued"))
        #expect(lines.last == "↑↓ select   S start   C cancel   Q quit")
    }

    @Test func stateColoursAreSetAndResetAroundTheWords() throws {
        let raw = DashboardRenderer(width: 200, height: 40, language: .french)
            .lines(for: Self.snapshot(), selected: nil, message: nil)
        let done = try #require(raw.first { $0.contains("sde") })
        #expect(done.hasSuffix("\u{1B}[1;32mterminé ✓\u{1B}[0m"), "done in green")
        let failed = try #require(raw.first { $0.contains("sdf") })
        #expect(failed.contains("\u{1B}[1;31méchec ✗"), "failed in red")
        let plain = DashboardRenderer(width: 200, height: 40, language: .french, colours: false)
            .lines(for: Self.snapshot(), selected: nil, message: nil)
        #expect(!plain.joined().contains("\u{1B}"), "no escape sequence without colours")
    }

    @Test(arguments: [40, 60, 80, 100, 132, 200])
    func linesNeverExceedTheWidth(width: Int) {
        let effective = max(width, 60)
        for language in Language.allCases {
            for colours in [true, false] {
                let renderer = DashboardRenderer(width: width, height: 30, language: language, colours: colours)
                let long = String(repeating: "message très long ", count: 20)
                for snapshot in [Self.snapshot(language: language), nil] {
                    for line in renderer.lines(for: snapshot, selected: 0, message: long) {
                        #expect(Self.visible(line).count <= effective, "\(Self.visible(line).count) > \(effective): \(Self.visible(line))")
                    }
                }
            }
        }
    }

    @Test func theFrameFillsTheScreenExactlyAndClearsEachLine() {
        let renderer = DashboardRenderer(width: 120, height: 30, language: .french)
        let frame = renderer.frame(for: Self.snapshot(), selected: 0, message: nil)
        #expect(frame.hasPrefix("\u{1B}[H"), "homes the cursor, no full clear: no flicker")
        let lines = frame.components(separatedBy: "\r\n")
        #expect(lines.count == 30)
        #expect(lines.dropLast().allSatisfy { $0.hasSuffix("\u{1B}[K") }, "each line clears what an older, longer frame left")
        #expect(lines.last?.hasSuffix("\u{1B}[K\u{1B}[J") == true, "and the end clears below")
    }

    @Test func moreDrivesThanRowsScrollToKeepTheSelectionOnScreen() throws {
        var snapshot = Self.snapshot()
        snapshot.slots = (0..<40).map { SlotStatus(device: "/dev/loop\($0)", model: nil, serial: nil, sizeInBytes: 1 << 20,
                                                   transport: "loop", diskSequence: UInt64($0), state: .waiting) }
        let renderer = DashboardRenderer(width: 120, height: 20, language: .french)
        let lines = renderer.lines(for: snapshot, selected: 30, message: nil).map(Self.visible)
        #expect(lines.count == 20)
        #expect(lines.contains { $0.hasPrefix("▶loop30 ") })
        #expect(lines.last == "↑↓ choisir   D démarrer   A annuler   Q quitter")
        let hidden = try #require(lines.first { $0.hasPrefix("↑ ") })
        // 20 lines less 6 of frame leave 14: 13 rows (24…36, centred on 30) and the hidden-rows line.
        #expect(hidden == "↑ 24 de plus au-dessus   ↓ 3 de plus en dessous", "\(hidden)")
        // `ardoise status` passes height 0: every drive is listed.
        let all = DashboardRenderer(width: 120, height: 0, language: .french, colours: false).lines(for: snapshot, selected: nil, message: nil)
        #expect(all.filter { $0.hasPrefix(" loop") }.count == 40)
    }

    @Test func aResumableDriveOffersRToResumeAndDToStartOver() {
        var snapshot = Self.snapshot()
        snapshot.slots[1].resumable = ResumeOffer(jobID: "j", profile: "dod-5220-22m", completedPasses: 1, passCount: 3)
        let french = DashboardRenderer(width: 160, height: 30, language: .french, colours: false).lines(for: snapshot, selected: 1, message: nil)
        #expect(french.last == "↑↓ choisir   R reprendre (passe 2/3)   D recommencer   A annuler   Q quitter")
        let english = DashboardRenderer(width: 160, height: 30, language: .english, colours: false).lines(for: snapshot, selected: 1, message: nil)
        #expect(english.last == "↑↓ select   R resume (pass 2/3)   S start over   C cancel   Q quit")
        // Another drive selected: the usual keys.
        let other = DashboardRenderer(width: 160, height: 30, language: .french, colours: false).lines(for: snapshot, selected: 0, message: nil)
        #expect(other.last == "↑↓ choisir   D démarrer   A annuler   Q quitter")
    }

    @Test func withoutADaemonTheScreenSaysSoInBothLanguages() {
        let french = DashboardRenderer(width: 100, height: 20, language: .french, colours: false).lines(for: nil, selected: nil, message: nil)
        #expect(french.contains { $0.contains("Connexion au démon") })
        let english = DashboardRenderer(width: 100, height: 20, language: .english, colours: false).lines(for: nil, selected: nil, message: nil)
        #expect(english.contains { $0.contains("Connecting to the daemon") })
    }

    @Test func anEmptyBenchInvitesToPlugADrive() {
        var snapshot = Self.snapshot()
        snapshot.slots = []
        let lines = DashboardRenderer(width: 100, height: 20, language: .french, colours: false).lines(for: snapshot, selected: nil, message: nil)
        #expect(lines.contains("Branchez un disque : il apparaîtra ici."))
    }
}
