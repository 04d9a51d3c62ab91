import ArdoiseSupport
import ArgumentParser
import Bench
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where the daemon listens; shared by the commands that talk to it.
struct ControlSocketOption: ParsableArguments {
    @Option(name: .long, help: "Socket de contrôle du démon / The daemon's control socket.")
    var socket: String = "/run/ardoise/control.sock"

    func send(_ request: ControlRequest) throws -> ControlResponse {
        do {
            let response = try ControlClient.send(request, to: socket)
            if !response.ok {
                printError(response.error ?? "?")
                throw ExitCode(1)
            }
            return response
        } catch let error as ControlSocketError {
            printError(error.description)
            throw ExitCode(20)
        }
    }
}

/// `ardoise status`: the bench as a table, or JSON.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "État du banc / The bench's state.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var control: ControlSocketOption
    @Flag(name: .long, help: "Sortie JSON / JSON output.") var json = false

    func run() throws {
        try global.applyLanguage()
        let response = try control.send(ControlRequest(command: .status))
        guard let snapshot = response.snapshot else { return }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            print(String(decoding: try encoder.encode(snapshot), as: UTF8.self))
        } else {
            print(StatusText(width: Self.terminalWidth(), language: CurrentLanguage.value).lines(for: snapshot).joined(separator: "\n"))
            // Records the store refused: kept on the bench, each with the store's reason.
            for parked in snapshot.outbox?.parked ?? [] {
                let reason = [parked.httpStatus.map(String.init), parked.code].compactMap { $0 }.joined(separator: " ")
                print((CurrentLanguage.value == .french ? "refusé par le serveur : " : "refused by the store: ")
                      + "\(parked.kind) \(parked.recordID) — \(reason) : \(parked.message ?? "-")")
            }
            // Re-plugged drives whose interrupted job can go on: the technician's choice, spelled out.
            for slot in snapshot.slots {
                guard let offer = slot.resumable else { continue }
                let next = "\(offer.completedPasses + 1)/\(offer.passCount)"
                print(CurrentLanguage.value == .french
                      ? "\(slot.device) : reprise possible à la passe \(next) de la tâche \(offer.jobID) (\(offer.profile)) — "
                        + "ardoise start \(slot.device) --resume, ou --restart pour tout refaire"
                      : "\(slot.device): can resume at pass \(next) of job \(offer.jobID) (\(offer.profile)) — "
                        + "ardoise start \(slot.device) --resume, or --restart to start over")
            }
        }
    }
}

extension StatusCommand {
    /// The terminal's width (`COLUMNS` first, then the terminal itself), 80 when not known.
    static func terminalWidth() -> Int {
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns > 0 { return columns }
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }
}

/// `ardoise start DEV`: start a waiting drive now.
struct StartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start", abstract: "Lance l'effacement d'un disque en attente / Start erasing a waiting drive.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var control: ControlSocketOption
    @Argument(help: "Le disque / The drive (/dev/sdb).") var device: String
    @Flag(name: .long, help: "Reprendre la tâche interrompue de ce disque à sa dernière passe terminée / Resume this drive's interrupted job after its last completed pass.")
    var resume = false
    @Flag(name: .long, help: "Refaire tout le profil, même si une reprise est possible / Run the whole profile again, even if it could resume.")
    var restart = false

    func validate() throws {
        if resume && restart { throw ValidationError("--resume / --restart: one or the other") }
    }

    func run() throws {
        try global.applyLanguage()
        let choice: Bool? = resume ? true : restart ? false : nil
        _ = try control.send(ControlRequest(command: .start, device: device, resume: choice))
        if resume {
            print(CurrentLanguage.value == .french ? "Reprise lancée : \(device)" : "Resume started: \(device)")
        } else {
            print(CurrentLanguage.value == .french ? "Effacement lancé : \(device)" : "Erasure started: \(device)")
        }
    }
}

/// `ardoise cancel DEV`: stop a drive's job (it ends "interrupted", never certified as erased).
struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Annule l'effacement d'un disque / Cancel a drive's erasure.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var control: ControlSocketOption
    @Argument(help: "Le disque / The drive (/dev/sdb).") var device: String

    func run() throws {
        try global.applyLanguage()
        _ = try control.send(ControlRequest(command: .cancel, device: device))
        print(CurrentLanguage.value == .french ? "Annulé : \(device)" : "Cancelled: \(device)")
    }
}

/// `ardoise session --technician … --donor … --lot …`: who works, for whom.
struct SessionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session", abstract: "Technicien, donateur et lot en cours / Current technician, donor and lot.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var control: ControlSocketOption
    @Option var technician: String?
    @Option var donor: String?
    @Option var lot: String?

    func run() throws {
        try global.applyLanguage()
        let response = try control.send(ControlRequest(command: .set, technician: technician, donor: donor, lot: lot))
        if let snapshot = response.snapshot {
            print("\(snapshot.technician ?? "-") / \(snapshot.donor ?? "-") / \(snapshot.lot ?? "-")")
        }
    }
}
