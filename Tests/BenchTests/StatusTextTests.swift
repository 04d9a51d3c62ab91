import ArdoiseSupport
import Foundation
import Testing
@testable import Bench

/// `ardoise status` as text (issue 11, item 11): fits the width, never cuts a model name or a
/// word of a reason, shows the serial, says "removed" once.
@Suite struct StatusTextTests {
    static func snapshot() -> BenchSnapshot {
        var first = SlotStatus(device: "/dev/sdb", model: "Samsung SSD 870 EVO 1TB Refurbished Edition A", serial: "S6PTNM0R812345A",
                               sizeInBytes: 1_000_204_886_016, transport: "sata", diskSequence: 12, state: .erasing)
        first.profile = "dod-5220-22m"
        first.passIndex = 2
        first.passCount = 3
        first.fraction = 0.42
        first.currentMegabytesPerSecond = 181
        first.etaSeconds = 754
        var second = SlotStatus(device: "/dev/sdc", model: "Samsung SSD 870 EVO 1TB Refurbished Edition B", serial: "S6PTNM0R812345B",
                                sizeInBytes: 1_000_204_886_016, transport: "sata", diskSequence: 13, state: .protected)
        second.reason = "disque système (contient /), partition montée (/boot/efi), swap actif (/dev/sdc3), désigné au démarrage (root=/dev/sdc2)"
        let third = SlotStatus(device: "/dev/sdd", model: nil, serial: nil, sizeInBytes: 8 << 30, transport: "usb", diskSequence: 14, state: .waiting)
        return BenchSnapshot(benchID: "bench-1", benchName: "Banc 1", technician: "Awa", donor: "Mairie", lot: "LOT-1",
                             policy: "manual", language: .french, slots: [first, second, third])
    }

    @Test(arguments: [40, 60, 80, 132])
    func everyLineFitsAndNothingIsCutMidWord(width: Int) {
        let snapshot = Self.snapshot()
        let lines = StatusText(width: width, language: .french).lines(for: snapshot)
        #expect(lines.allSatisfy { $0.count <= width }, "\(lines)")
        // "Mode : manual" is never split after its colon.
        #expect(lines.allSatisfy { !$0.hasSuffix(":") }, "\(lines)")
        let words = Set(lines.flatMap { $0.split(separator: " ").map(String.init) })
        for slot in snapshot.slots {
            // Whole words of the model, the serial and the reason, however the lines broke.
            for word in (slot.model ?? "").split(separator: " ") { #expect(words.contains(String(word)), "\(word) at \(width)") }
            if let serial = slot.serial { #expect(words.contains(serial)) }
            for word in (slot.reason ?? "").split(separator: " ") { #expect(words.contains(String(word)), "\(word) at \(width)") }
        }
        // The two drives whose models differ only in the last letter are told apart.
        let text = lines.joined(separator: " ").split(separator: " ").joined(separator: " ")
        #expect(text.contains("Refurbished Edition A") && text.contains("Refurbished Edition B"))
    }

    @Test func progressAndSerialAreShownInOneLanguage() {
        let french = StatusText(width: 100, language: .french).lines(for: Self.snapshot()).joined(separator: "\n")
        #expect(french.contains("n° S6PTNM0R812345A"))
        #expect(french.contains("effacement · profil dod-5220-22m · passe 2/3 · 42 % · 181 MB/s · reste 12:34"))
        let english = StatusText(width: 100, language: .english).lines(for: Self.snapshot()).joined(separator: "\n")
        #expect(english.contains("s/n S6PTNM0R812345A"))
        #expect(english.contains("erasing · profile dod-5220-22m · pass 2/3 · 42 % · 181 MB/s · left 12:34"))
        for word in ["effacement", "profil ", "passe", "reste", "Technicien"] { #expect(!english.contains(word)) }
    }

    @Test func aDriveRemovedAfterItsJobWasInterruptedSaysRemovedOnce() {
        let french = BenchDaemon.reasonAfterRemoval(state: .interrupted, reason: "disque retiré", language: .french)
        #expect(french == "interrompu ✗")
        var slot = SlotStatus(device: "/dev/sdb", model: "M", serial: "S", sizeInBytes: 1 << 30, transport: "sata", diskSequence: 1, state: .removed)
        slot.reason = french
        let line = StatusText(width: 80, language: .french).block(for: slot).joined(separator: " ")
        #expect(line.components(separatedBy: "retiré").count - 1 == 1, "\(line)")
        // Another reason is kept beside the state.
        #expect(BenchDaemon.reasonAfterRemoval(state: .failed, reason: "erreur d'écriture", language: .french) == "échec ✗ — erreur d'écriture")
        #expect(BenchDaemon.reasonAfterRemoval(state: .done, reason: nil, language: .english) == "done ✓")
    }
}
