import ArdoiseSupport
import ArgumentParser
import Bench
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `ardoise dashboard`: the full-screen bench view for tty1 or SSH.
struct DashboardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard", abstract: "Écran du banc (plein écran) / The bench screen (full screen).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var control: ControlSocketOption
    @Option(name: .long, help: "Rafraîchissement en secondes / Refresh interval in seconds.")
    var interval: Double = 0.5

    func run() throws {
        try global.applyLanguage()
        let terminal = RawTerminal()
        defer { terminal.restore() }
        var selected = 0
        var message: String?
        var pendingCancel: String?
        let fr = CurrentLanguage.value == .french
        while true {
            let snapshot = try? ControlClient.send(ControlRequest(command: .status), to: control.socket).snapshot
            let slots = snapshot?.slots ?? []
            selected = min(selected, max(0, slots.count - 1))
            let size = terminal.size()
            let renderer = DashboardRenderer(width: size.columns, height: size.rows, language: CurrentLanguage.value)
            terminal.write(renderer.frame(for: snapshot, selected: slots.isEmpty ? nil : selected, message: message))
            guard let key = terminal.readKey(timeout: interval) else { continue }
            message = nil
            let device = slots.isEmpty ? nil : slots[selected].device
            if let pending = pendingCancel {
                pendingCancel = nil
                if key == "o" || key == "O" || key == "y" || key == "Y" {
                    message = send(.cancel, pending, fr ? "Annulé : \(pending)" : "Cancelled: \(pending)")
                } else {
                    message = fr ? "Annulation abandonnée." : "Cancel aborted."
                }
                continue
            }
            switch key {
            case "q", "Q": return
            case "up", "k": selected = max(0, selected - 1)
            case "down", "j": selected = min(max(0, slots.count - 1), selected + 1)
            case "d", "D", "s", "S":
                if let device { message = send(.start, device, fr ? "Lancé : \(device)" : "Started: \(device)") }
            case "a", "A", "c", "C":
                if let device {
                    pendingCancel = device
                    message = fr ? "Annuler \(device) ? O pour confirmer, autre touche pour garder."
                        : "Cancel \(device)? Y to confirm, any other key to keep it."
                }
            default: break
            }
        }
    }

    private func send(_ command: ControlRequest.Command, _ device: String, _ success: String) -> String {
        do {
            let response = try ControlClient.send(ControlRequest(command: command, device: device), to: control.socket)
            return response.ok ? success : (response.error ?? "?")
        } catch {
            return "\(error)"
        }
    }
}

/// The terminal in raw mode on the alternate screen; restored on exit.
final class RawTerminal {
    private var original = termios()
    private let isTerminal: Bool

    init() {
        isTerminal = isatty(STDIN_FILENO) == 1
        if isTerminal {
            tcgetattr(STDIN_FILENO, &original)
            var raw = original
            raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
            tcsetattr(STDIN_FILENO, TCSANOW, &raw)
        }
        write("\u{1B}[?1049h\u{1B}[?25l\u{1B}[2J")
    }

    func restore() {
        write("\u{1B}[?25h\u{1B}[?1049l")
        if isTerminal { tcsetattr(STDIN_FILENO, TCSANOW, &original) }
    }

    func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    func size() -> (columns: Int, rows: Int) {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 {
            return (Int(size.ws_col), Int(size.ws_row))
        }
        return (120, 30)
    }

    /// One key, `up`/`down` for arrows, or nil after `timeout` seconds.
    func readKey(timeout: Double) -> String? {
        var descriptor = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, Int32(timeout * 1000)) > 0 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 8)
        let count = read(STDIN_FILENO, &bytes, bytes.count)
        guard count > 0 else { return nil }
        if count >= 3, bytes[0] == 0x1B, bytes[1] == UInt8(ascii: "[") {
            switch bytes[2] {
            case UInt8(ascii: "A"): return "up"
            case UInt8(ascii: "B"): return "down"
            default: return nil
            }
        }
        return String(decoding: bytes[0..<1], as: UTF8.self)
    }
}
