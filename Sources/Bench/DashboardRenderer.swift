import ArdoiseSupport
import Diagnostics
import Foundation

/// Draws the bench screen: one row per drive, large plain words, state in colour and in
/// words (so it reads on a monochrome console and from a metre away).
public struct DashboardRenderer: Sendable {
    public var width: Int
    public var height: Int
    public var language: Language
    public var colours: Bool
    /// False when `height` was 0 or less: every slot is listed (`ardoise status`); otherwise the
    /// rows scroll so the screen never overflows (an overflowing frame scrolls the terminal and
    /// leaves the title and the keys off screen).
    public var fitsHeight: Bool

    public init(width: Int, height: Int, language: Language, colours: Bool = true) {
        self.width = max(width, 60)
        self.height = max(height, 10)
        self.fitsHeight = height > 0
        self.language = language
        self.colours = colours
    }

    /// The full screen as lines of at most `width` visible characters.
    public func lines(for snapshot: BenchSnapshot?, selected: Int?, message: String?) -> [String] {
        let fr = language == .french
        var lines: [String] = []
        guard let snapshot else {
            lines.append(bold(fr ? "ARDOISE — banc d'effacement" : "ARDOISE — erasure bench"))
            lines.append("")
            lines.append(fr ? "Connexion au démon… (le service ardoise tourne-t-il ?)" : "Connecting to the daemon… (is the ardoise service running?)")
            if let message { lines.append(message) }
            return lines.map { clip($0) }
        }
        let title = "ARDOISE — \(snapshot.benchName) (\(snapshot.benchID))"
        lines.append(bold(title))
        let who = [
            (fr ? "Technicien" : "Technician", snapshot.technician),
            (fr ? "Donateur" : "Donor", snapshot.donor),
            (fr ? "Lot" : "Lot", snapshot.lot),
            (fr ? "Mode" : "Policy", snapshot.policy),
        ].map { "\($0.0) : \($0.1 ?? "-")" }.joined(separator: "   ")
            + (snapshot.outbox?.label(in: language).map { "   " + (fr ? "Envoi" : "Sending") + " : " + $0 } ?? "")
        lines.append(who)
        lines.append(String(repeating: "─", count: width))
        let header = [pad(fr ? "DISQUE" : "DRIVE", 12), pad(fr ? "MODÈLE" : "MODEL", 18), pad(fr ? "N° SÉRIE" : "SERIAL", 14),
                      pad(fr ? "TAILLE" : "SIZE", 7), pad(fr ? "PROFIL" : "PROFILE", 12), pad(fr ? "PASSE" : "PASS", 6),
                      pad(fr ? "PROGRESSION" : "PROGRESS", 24), pad("MB/s", 7), pad(fr ? "RESTE" : "ETA", 8),
                      fr ? "ÉTAT" : "STATE"].joined(separator: " ")
        lines.append(bold(header))
        if snapshot.slots.isEmpty {
            lines.append("")
            lines.append(fr ? "Branchez un disque : il apparaîtra ici." : "Plug a drive in: it will appear here.")
        }
        var rows = Array(snapshot.slots.enumerated())
        var hidden: (above: Int, below: Int)?
        // Title, people, rule and header above; rule and keys below; one line says what is hidden.
        let room = height - 6
        if fitsHeight, rows.count > room {
            let shown = max(room - 1, 1)
            let first = min(max(0, (selected ?? 0) - shown / 2), rows.count - shown)
            hidden = (first, rows.count - first - shown)
            rows = Array(rows[first..<(first + shown)])
        }
        for (index, slot) in rows {
            let marker = index == selected ? "▶" : " "
            let pass = slot.passIndex.map { "\($0)/\(slot.passCount ?? 0)" } ?? ""
            let bar = slot.fraction.map { progressBar($0, width: 16) } ?? ""
            let rate = slot.currentMegabytesPerSecond.map { String(format: "%.0f", $0) } ?? ""
            let eta = slot.etaSeconds.map(duration) ?? slot.graceSecondsLeft.map { "⏱ " + duration($0) } ?? ""
            var state = slot.state.label.text(in: language)
            if let reason = slot.reason { state += " — " + reason }
            let row = [pad(marker + (slot.device as NSString).lastPathComponent, 12), pad(slot.model ?? "-", 18),
                       pad(slot.serial ?? "-", 14), pad(ByteCountFormatter.human(slot.sizeInBytes), 7),
                       pad(slot.profile ?? "", 12), pad(pass, 6), pad(bar, 24), pad(rate, 7), pad(eta, 8)].joined(separator: " ")
            lines.append(row + " " + colour(state, for: slot.state) + healthText(slot.health))
        }
        if let hidden {
            lines.append(fr ? "↑ \(hidden.above) de plus au-dessus   ↓ \(hidden.below) de plus en dessous"
                            : "↑ \(hidden.above) more above   ↓ \(hidden.below) more below")
        }
        while lines.count < height - 2 { lines.append("") }
        lines.append(String(repeating: "─", count: width))
        var help = fr
            ? "↑↓ choisir   D démarrer   A annuler   Q quitter"
            : "↑↓ select   S start   C cancel   Q quit"
        // A re-plugged drive with an interrupted job: R continues it, D starts over.
        if let selected, selected < snapshot.slots.count, let offer = snapshot.slots[selected].resumable {
            help = fr
                ? "↑↓ choisir   R reprendre (passe \(offer.completedPasses + 1)/\(offer.passCount))   D recommencer   A annuler   Q quitter"
                : "↑↓ select   R resume (pass \(offer.completedPasses + 1)/\(offer.passCount))   S start over   C cancel   Q quit"
        }
        if let message { help = message }
        lines.append(help)
        return lines.map { clip($0) }
    }

    /// The whole frame, ready to write: home the cursor, draw, clear the rest of each line.
    public func frame(for snapshot: BenchSnapshot?, selected: Int?, message: String?) -> String {
        "\u{1B}[H" + lines(for: snapshot, selected: selected, message: message).map { $0 + "\u{1B}[K" }.joined(separator: "\r\n") + "\u{1B}[J"
    }

    func progressBar(_ fraction: Double, width: Int) -> String {
        let clamped = min(max(fraction, 0), 1)
        let filled = Int((clamped * Double(width)).rounded(.down))
        return "[" + String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled) + "]"
            + String(format: "%4.0f%%", clamped * 100)
    }

    func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "" }
        let total = Int(seconds.rounded())
        return total >= 3600 ? String(format: "%dh%02d", total / 3600, (total % 3600) / 60) : String(format: "%d:%02d", total / 60, total % 60)
    }

    func pad(_ text: String, _ count: Int) -> String {
        text.count >= count ? String(text.prefix(count)) : text + String(repeating: " ", count: count - text.count)
    }

    func bold(_ text: String) -> String { colours ? "\u{1B}[1m\(text)\u{1B}[0m" : text }

    func colour(_ text: String, for state: SlotState) -> String {
        guard colours else { return text }
        let code: String
        switch state {
        case .done: code = "1;32"
        case .doneWithExceptions, .waiting, .queued: code = "1;33"
        case .failed, .interrupted: code = "1;31"
        case .erasing, .verifying: code = "1;36"
        case .protected, .removed: code = "2"
        }
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }

    /// The health verdict in words and colour after the state: "· à détruire" in red.
    func healthText(_ code: String?) -> String {
        guard let code, let verdict = HealthVerdict(rawValue: code) else { return "" }
        let words = verdict.label.text(in: language)
        return " · " + (colours ? "\(verdict.ansiColour)\(words)\u{1B}[0m" : words)
    }

    /// Cuts a line to `width` visible characters, keeping escape sequences intact.
    func clip(_ line: String) -> String {
        var visible = 0
        var result = ""
        var inEscape = false
        for character in line {
            if character == "\u{1B}" { inEscape = true }
            if inEscape {
                result.append(character)
                if character.isLetter { inEscape = false }
                continue
            }
            guard visible < width else { continue }
            result.append(character)
            visible += 1
        }
        return result
    }
}
