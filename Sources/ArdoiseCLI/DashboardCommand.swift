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
        // The selection follows the drive, not the row: drives plugged in while the screen is up
        // shift the rows, and D/A must act on the drive the technician chose.
        var selectedDevice: String?
        var message: String?
        var pendingCancel: String?
        let fr = CurrentLanguage.value == .french
        while true {
            let snapshot = try? ControlClient.send(ControlRequest(command: .status), to: control.socket).snapshot
            let slots = snapshot?.slots ?? []
            selected = slots.firstIndex { $0.device == selectedDevice } ?? min(selected, max(0, slots.count - 1))
            selectedDevice = slots.isEmpty ? nil : slots[selected].device
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
            case "q", "Q", "\u{03}": return
            case "up", "k":
                selected = max(0, selected - 1)
                selectedDevice = slots.isEmpty ? nil : slots[selected].device
            case "down", "j":
                selected = min(max(0, slots.count - 1), selected + 1)
                selectedDevice = slots.isEmpty ? nil : slots[selected].device
            case "d", "D", "s", "S":
                // On a drive that could resume, D/S explicitly start the profile over.
                let over: Bool? = slots.isEmpty || slots[selected].resumable == nil ? nil : false
                if let device { message = send(.start, device, fr ? "Lancé : \(device)" : "Started: \(device)", resume: over) }
            case "r", "R":
                if let device, slots[selected].resumable != nil {
                    message = send(.start, device, fr ? "Reprise : \(device)" : "Resumed: \(device)", resume: true)
                } else {
                    message = fr ? "Rien à reprendre sur ce disque." : "Nothing to resume on this drive."
                }
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

    private func send(_ command: ControlRequest.Command, _ device: String, _ success: String, resume: Bool? = nil) -> String {
        do {
            let response = try ControlClient.send(ControlRequest(command: command, device: device, resume: resume), to: control.socket)
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
            raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG)  // Ctrl-C arrives as a key: quit restores the terminal
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
    ///
    /// Reads one byte at a time so keys typed in quick succession (A then O) are all seen;
    /// at end of input (stdin not a terminal) it waits out the timeout instead of spinning.
    func readKey(timeout: Double) -> String? {
        guard readable(within: timeout) else { return nil }
        var byte: UInt8 = 0
        let count = read(STDIN_FILENO, &byte, 1)
        guard count == 1 else {
            if count == 0 { usleep(useconds_t(timeout * 1_000_000)) }
            return nil
        }
        if byte == 0x1B {
            // An arrow is ESC [ A or ESC [ B, sent together by the terminal.
            var bracket: UInt8 = 0, letter: UInt8 = 0
            guard readable(within: 0.05), read(STDIN_FILENO, &bracket, 1) == 1, bracket == UInt8(ascii: "["),
                  readable(within: 0.05), read(STDIN_FILENO, &letter, 1) == 1 else { return nil }
            switch letter {
            case UInt8(ascii: "A"): return "up"
            case UInt8(ascii: "B"): return "down"
            default: return nil
            }
        }
        return String(decoding: [byte], as: UTF8.self)
    }

    private func readable(within timeout: Double) -> Bool {
        var descriptor = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, Int32(timeout * 1000)) > 0
    }
}
