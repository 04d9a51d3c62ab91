import ArdoiseSupport
import Foundation

/// `ardoise status` as text that fits the terminal: a short block per drive instead of the
/// dashboard's fixed columns, so a model name is never cut (two drives never look alike), the
/// serial is shown when known, and a long reason wraps between words.
public struct StatusText: Sendable {
    public var width: Int
    public var language: Language

    public init(width: Int, language: Language) {
        self.width = max(width, 40)
        self.language = language
    }

    public func lines(for snapshot: BenchSnapshot) -> [String] {
        let fr = language == .french
        var lines = wrap("ARDOISE — \(snapshot.benchName) (\(snapshot.benchID))", indent: "")
        let who = [
            (fr ? "Technicien" : "Technician", snapshot.technician),
            (fr ? "Donateur" : "Donor", snapshot.donor),
            ("Lot", snapshot.lot),
            (fr ? "Mode" : "Policy", snapshot.policy),
        // No-break spaces keep "Lot : X" on one line; the items wrap between them.
        ].map { "\($0.0)\(fr ? "\u{00A0}:\u{00A0}" : ":\u{00A0}")\($0.1 ?? "-")" }
        lines += wrap(who.joined(separator: " · "), indent: "")
        // Records waiting for the network's store ("N en attente d'envoi"), as the dashboard shows them.
        if let outbox = snapshot.outbox?.label(in: language) {
            lines += wrap((fr ? "Envoi\u{00A0}: " : "Sending: ") + outbox, indent: "")
        }
        if snapshot.slots.isEmpty {
            lines.append(fr ? "Aucun disque. Branchez-en un : il apparaîtra ici." : "No drive. Plug one in: it will appear here.")
        }
        for slot in snapshot.slots {
            lines.append("")
            lines += block(for: slot)
        }
        return lines
    }

    /// Node, model, serial and size; then the state with its progress; then the reason.
    func block(for slot: SlotStatus) -> [String] {
        let fr = language == .french
        var identity = [slot.device, slot.model ?? "-"]
        if let serial = slot.serial, !serial.isEmpty { identity.append((fr ? "n° " : "s/n ") + serial) }
        identity.append(ByteCountFormatter.human(slot.sizeInBytes))
        var lines = wrap(identity.joined(separator: "  "), indent: "    ")

        var state = [slot.state.label.text(in: language)]
        if let profile = slot.profile, !slot.state.isFinal || slot.state == .done || slot.state == .doneWithExceptions {
            state.append((fr ? "profil " : "profile ") + profile)
        }
        if let pass = slot.passIndex, let count = slot.passCount, !slot.state.isFinal {
            state.append((fr ? "passe " : "pass ") + "\(pass)/\(count)")
        }
        if let fraction = slot.fraction, !slot.state.isFinal {
            state.append(String(format: "%.0f %%", min(max(fraction, 0), 1) * 100))
        }
        if let rate = slot.currentMegabytesPerSecond, !slot.state.isFinal { state.append(String(format: "%.0f MB/s", rate)) }
        if let eta = slot.etaSeconds, !slot.state.isFinal { state.append((fr ? "reste " : "left ") + duration(eta)) }
        if let grace = slot.graceSecondsLeft { state.append((fr ? "départ dans " : "starts in ") + duration(grace)) }
        lines += wrap("  " + state.joined(separator: " · "), indent: "    ")
        if let reason = slot.reason, !reason.isEmpty {
            lines += wrap("  " + reason, indent: "    ")
        }
        if let certificate = slot.certificate {
            lines += wrap("  " + (fr ? "certificat : " : "certificate: ") + certificate, indent: "    ")
        }
        return lines
    }

    /// Breaks `text` into lines of at most `width` characters between words; a word longer
    /// than a line (a path, a serial) gets a line of its own and is cut only then.
    func wrap(_ text: String, indent: String) -> [String] {
        var lines: [String] = []
        var current = ""
        let leading = String(text.prefix { $0 == " " })
        func place(_ word: Substring, after start: String) {
            var rest = word
            var start = start
            while start.count + rest.count > width {
                let room = max(width - start.count, 1)
                lines.append(start + rest.prefix(room))
                rest = rest.dropFirst(room)
                start = indent
            }
            current = start + rest
        }
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            if current.isEmpty {
                place(word, after: lines.isEmpty ? leading : indent)
            } else if current.count + 1 + word.count <= width {
                current += " " + word
            } else {
                lines.append(current)
                place(word, after: indent)
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "-" }
        let total = Int(seconds.rounded())
        return total >= 3600 ? String(format: "%d h %02d", total / 3600, (total % 3600) / 60) : String(format: "%d:%02d", total / 60, total % 60)
    }
}
