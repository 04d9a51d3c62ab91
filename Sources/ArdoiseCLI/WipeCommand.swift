import ArdoiseSupport
import ArgumentParser
import Bench
import Certificates
import DeviceKit
import Foundation
import Journal
import WipeEngine
#if canImport(Glibc)
import Glibc
#endif

/// `ardoise wipe DEV… --profile NAME`: erase drives now, in parallel, with confirmation.
struct WipeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wipe",
        abstract: "Efface des disques avec un profil et délivre les certificats / Erase drives with a profile and issue certificates.",
        discussion: """
        Avant d'écrire, Ardoise affiche ce qui va être effacé et demande de taper les 4 derniers \
        caractères du numéro de série de chaque disque (« oui » pour un disque sans numéro). \
        --yes supprime cette question (bancs automatiques). Ctrl-C arrête proprement : le travail \
        est noté « interrompu » et jamais certifié « effacé ».
        Statut de sortie : 0 tout effacé, 30 effacé avec réserves, 31 au moins un échec ou une interruption.
        """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Les disques (/dev/sdb…), ou des fichiers image avec --image / Drives, or image files with --image.")
    var targets: [String]

    @Option(name: .long, help: "Profil d'effacement (voir « ardoise profiles ») / Erasure profile.")
    var profile: String

    @Flag(name: .long, help: "Ne pas demander de confirmation (automatisation) / Do not ask for confirmation.")
    var yes = false

    @Flag(name: .long, help: "Autorise les périphériques loop (tests, démo) / Allow loop devices.")
    var allowVirtual = false

    @Flag(name: .long, help: "Les cibles sont des fichiers image / Targets are image files.")
    var image = false

    @Flag(name: .long, help: "Progression en lignes JSON / Progress as JSON lines.")
    var json = false

    @OptionGroup var bench: BenchSessionOptions

    mutating func validate() throws {
        if targets.isEmpty { throw ValidationError("au moins un disque / at least one drive") }
        if Set(targets).count != targets.count { throw ValidationError("un disque est cité deux fois / a drive is named twice") }
    }

    func run() async throws {
        try global.applyLanguage()
        let language = CurrentLanguage.value
        let fr = language == .french
        // With --json, stdout carries only JSON lines; the words for people go to stderr.
        let json = self.json
        func say(_ line: String) {
            if json { FileHandle.standardError.write(Data((line + "\n").utf8)) } else { print(line) }
        }
        let settings = try bench.resolve()
        // The flow (Bench) checks everything before anything is asked or written: the profile,
        // the journal's owner, every target's safety verdict; one refusal stops them all.
        let request = WipeRequest(targets: targets, profileName: profile, images: image, allowVirtual: allowVirtual, assumeYes: yes)
        let flow = try reportingFlowErrors { try WipeFlow.prepare(request, config: settings.config) }
        let wipeProfile = flow.profile

        // Show what will be erased and have the technician confirm each drive.
        say(fr ? "Profil : \(wipeProfile.name) — \(wipeProfile.title.french)" : "Profile: \(wipeProfile.name) — \(wipeProfile.title.english)")
        for candidate in flow.candidates {
            let medium = candidate.medium
            say("  \(medium.path)  \(medium.model)  \(fr ? "n° de série" : "serial") \(medium.serial)  \(ByteCountFormatter.human(medium.sizeInBytes))")
        }
        if flow.needsConfirmation {
            guard isatty(STDIN_FILENO) == 1 || ProcessInfo.processInfo.environment["ARDOISE_CONFIRM_FROM_STDIN"] == "1" else {
                printError(fr ? "Confirmation impossible sans terminal : ajoutez --yes pour un banc automatique."
                              : "Cannot confirm without a terminal: add --yes for an automatic bench.")
                throw ExitCode(2)
            }
            for (index, candidate) in flow.candidates.enumerated() {
                let answer = Confirmation.ask(for: candidate.medium, rule: candidate.confirmation)
                guard flow.confirm(index, answer: answer ?? "", language: language) else {
                    printError(fr ? "Non confirmé pour \(candidate.medium.path) : rien n'a été écrit." : "Not confirmed for \(candidate.medium.path): nothing was written.")
                    throw ExitCode(3)
                }
            }
        }

        // Open every target (exclusive, pinned to the identity shown) and the records.
        let run = try reportingFlowErrors {
            try flow.start(technicianFallback: ProcessInfo.processInfo.environment["SUDO_USER"] ?? "root", language: language)
        }

        // Run them all, each on its own thread; Ctrl-C cancels them cleanly.
        let display = ProgressDisplay(paths: run.sessions.map { $0.medium.path }, json: json, language: language)
        let interrupt = SignalWatcher(signals: [SIGINT, SIGTERM]) { run.cancel() }
        defer { interrupt.stop() }
        display.start()
        let outcomes = try await run.run { index, event in display.update(index: index, event: event) }
        display.stop()

        // Results and certificates.
        let status = WipeRun.exitStatus(outcomes, profile: wipeProfile)
        if wipeProfile.isReadOnly {
            // A check, not an erasure: say what was found.
            for outcome in outcomes {
                say("\(outcome.report.targetName): " + (outcome.report.succeeded
                    ? (fr ? "vérifié : uniquement des zéros ✓" : "verified: only zeros ✓")
                    : (fr ? "VÉRIFICATION ÉCHOUÉE ✗ (données restantes ou illisibles)" : "VERIFICATION FAILED ✗ (data left or unreadable)")))
            }
            if status != 0 { throw ExitCode(status) }
            return
        }
        for outcome in outcomes {
            let certificateStatus = CertificateSummary.statusLabel(outcome.certificate?.status ?? .notErased, language: language).lowercased()
            let label = WipeSummary.label(outcome.report.status, succeeded: outcome.report.succeeded, language: language)
            say("\(outcome.report.targetName): \(label)")
            if json {
                var line = WipeLine(event: "certificate", device: outcome.report.targetName)
                line.status = outcome.certificate?.status.rawValue ?? "not_issued"
                line.statusLabel = certificateStatus
                line.json = outcome.certificate?.jsonPath
                line.pdf = outcome.certificate?.pdfPath
                ProgressDisplay.emit(line)
            }
            if let certificate = outcome.certificate {
                say("  " + (fr ? "certificat (\(certificateStatus)) : " : "certificate (\(certificateStatus)): ") + certificate.jsonPath)
                say("  PDF: \(certificate.pdfPath)")
            } else if let error = outcome.certificateError {
                printError((fr ? "certificat non écrit : " : "certificate not written: ") + error)
            }
        }
        if status != 0 { throw ExitCode(status) }
    }
}

/// Session facts shared by `wipe` and `daemon`: who, for whom, where records go.
struct BenchSessionOptions: ParsableArguments {
    @Option(name: .long, help: "Fichier de configuration / Configuration file (défaut /etc/ardoise/ardoise.toml s'il existe).")
    var config: String?
    @Option(name: .long, help: "Dossier de données (journal, clé) / Data directory (journal, key).")
    var dataDir: String?
    @Option(name: .long, help: "Dossier des certificats / Certificate directory.")
    var outputDir: String?
    @Option(name: .long, help: "Technicien / Technician.")
    var technician: String?
    @Option(name: .long, help: "Donateur / Donor.")
    var donor: String?
    @Option(name: .long, help: "Lot.")
    var lot: String?

    func resolve() throws -> ResolvedBenchSettings {
        var config = BenchConfig()
        let path = self.config ?? (FileManager.default.fileExists(atPath: BenchConfig.defaultPath) ? BenchConfig.defaultPath : nil)
        if let path {
            do {
                config = try BenchConfig.loadChecked(path: path).config
            } catch let error as WipeEngineError {
                printError(error.description)
                throw ExitCode(42)
            } catch {
                printError("\(error)")
                throw ExitCode(40)
            }
        }
        if let dataDir {
            config.dataDirectory = dataDir
            if outputDir == nil { config.outputDirectory = (dataDir as NSString).appendingPathComponent("certificates") }
        }
        if let outputDir { config.outputDirectory = outputDir }
        if let technician { config.technician = technician }
        if let donor { config.donor = donor }
        if let lot { config.lot = lot }
        return ResolvedBenchSettings(config: config)
    }
}

struct ResolvedBenchSettings {
    var config: BenchConfig
    var dataDirectory: String { config.dataDirectory }
}

/// The question a technician answers before a drive is erased; what is expected and what is
/// accepted is the flow's `ConfirmationRule`.
enum Confirmation {
    /// Prints the question and reads one line; nil at the end of input.
    static func ask(for medium: MediumDescription, rule: ConfirmationRule) -> String? {
        let fr = CurrentLanguage.value == .french
        let question = rule.hasSerial
            ? (fr ? "Effacer \(medium.path) (\(medium.model), n° \(medium.serial)) ? Tapez les 4 derniers caractères du n° de série : "
                  : "Erase \(medium.path) (\(medium.model), serial \(medium.serial))? Type the last 4 characters of the serial: ")
            : (fr ? "Effacer \(medium.path) (\(medium.model)) ? Tapez « oui » : " : "Erase \(medium.path) (\(medium.model))? Type 'yes': ")
        FileHandle.standardOutput.write(Data(question.utf8))
        return readLine()
    }
}

enum WipeSummary {
    static func label(_ status: WipeStatus, succeeded: Bool, language: Language) -> String {
        switch status {
        case .completed where succeeded: return status.label.text(in: language) + " ✓"
        case .completed, .completedWithExceptions: return WipeStatus.completedWithExceptions.label.text(in: language) + " ⚠"
        case .failed(let why), .interrupted(let why): return status.label.text(in: language) + " ✗ — " + why.message.text(in: language)
        }
    }
}

func reportingEngineErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as WipeEngineError {
        printError(error.description)
        throw ExitCode(error.code == .profileNotFound ? 41 : error.code == .invalidProfile ? 42 : 43)
    }
}

/// The wipe flow's refusals, each with its message and exit status: the profile (41–43),
/// the drive (its `DeviceError` status), the journal or key (proof errors), the flow's own.
func reportingFlowErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try reportingEngineErrors { try reportingErrors { try reportingProofErrorsReturning(body) } }
    } catch let error as WipeFlowError {
        printError(error.message.text(in: CurrentLanguage.value))
        throw ExitCode(error.exitStatus)
    }
}

func reportingProofErrorsReturning<T>(_ body: () throws -> T) throws -> T {
    var result: T?
    try reportingProofErrors { result = try body() }
    return result!
}
