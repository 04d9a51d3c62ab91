import ArdoiseSupport
import Bench
import Foundation
import Testing

/// The health verdict on the bench screen: in words (fr/en) and in colour.
@Suite struct DashboardHealthTests {
    static func snapshot(_ verdicts: [String?]) -> BenchSnapshot {
        let slots = verdicts.enumerated().map { index, verdict -> SlotStatus in
            var status = SlotStatus(device: "/dev/sd\(Character(UnicodeScalar(98 + index)!))", model: "ST2000DM001", serial: "Z1E9ABC\(index)",
                                    sizeInBytes: 2_000_398_934_016, transport: "sata", diskSequence: UInt64(index), state: .done)
            status.health = verdict
            return status
        }
        return BenchSnapshot(benchID: "b", benchName: "Banc", technician: nil, donor: nil, lot: nil, policy: "auto",
                             language: .french, slots: slots)
    }

    @Test func verdictWordsInFrenchAndEnglish() {
        let verdicts: [String?] = ["reuse", "caution", "discard", "unknown", nil]
        let french = DashboardRenderer(width: 200, height: 30, language: .french, colours: false).lines(for: Self.snapshot(verdicts), selected: nil, message: nil)
        let english = DashboardRenderer(width: 200, height: 30, language: .english, colours: false).lines(for: Self.snapshot(verdicts), selected: nil, message: nil)
        func row(_ lines: [String], _ name: String) -> String { lines.first { $0.contains(name + " ") } ?? "" }
        #expect(row(french, "sdb").hasSuffix("· réemploi"))
        #expect(row(french, "sdc").hasSuffix("· à surveiller"))
        #expect(row(french, "sdd").hasSuffix("· à détruire"))
        #expect(row(french, "sde").hasSuffix("· santé inconnue"))
        #expect(!row(french, "sdf").contains("·"))
        #expect(row(english, "sdd").hasSuffix("· discard"))
        #expect(row(english, "sdb").hasSuffix("· reuse"))
    }

    @Test func discardIsBoldRedAndReset() {
        let lines = DashboardRenderer(width: 200, height: 30, language: .french, colours: true).lines(for: Self.snapshot(["discard", "reuse"]), selected: nil, message: nil)
        #expect(lines.contains { $0.contains("\u{1B}[1;31mà détruire\u{1B}[0m") })
        #expect(lines.contains { $0.contains("\u{1B}[32mréemploi\u{1B}[0m") })
    }
}
