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
        let fr = CurrentLanguage.value == .french
        // With --json, stdout carries only JSON lines; the words for people go to stderr.
        let json = self.json
        func say(_ line: String) {
            if json { FileHandle.standardError.write(Data((line + "\n").utf8)) } else { print(line) }
        }
        let settings = try bench.resolve()
        let library = try reportingEngineErrors { try settings.config.profileLibrary() }
        let wipeProfile = try reportingEngineErrors { try library.requireProfile(named: profile) }
        // One owner per journal: beside a running daemon (or another wipe) refuse before
        // anything is asked or opened; never recover or touch jobs another process runs.
        let owner = try reportingProofErrorsReturning {
            try JournalOwnerLock.acquire(dataDirectory: settings.dataDirectory, role: .wipe)
        }
        defer { withExtendedLifetime(owner) {} }

        // A firmware profile needs a real drive's pass-through; an image has none.
        if image, wipeProfile.firmware != nil {
            printError(fr ? "Le profil \(wipeProfile.name) efface par le firmware du disque : impossible sur une image (--image). Rien n'a été écrit."
                          : "Profile \(wipeProfile.name) erases with the drive's firmware: not possible on an image (--image). Nothing was written.")
            throw ExitCode(31)
        }

        // 1. Check every target before anything is written: one refusal stops them all.
        var plans: [(medium: MediumDescription, identity: DriveIdentity?)] = []
        for path in targets {
            if image {
                let target = try reportingEngineErrors { try FileWipeTarget(path: path) }
                plans.append((MediumDescription(imagePath: path, sizeInBytes: target.sizeInBytes, logicalSectorSize: target.logicalSectorSize), nil))
            } else {
                let info = try reportingErrors {
                    try DriveAccess.classify(path, policy: SafetyPolicy(allowVirtual: allowVirtual, dataDirectory: settings.dataDirectory))
                }
                if case .protected(let reasons) = info.verdict {
                    let error = DeviceError(.protected(reasons: reasons), path: path)
                    printError(error.description)
                    throw ExitCode(error.exitCode)
                }
                plans.append((MediumDescription(device: info), info.identity))
            }
        }

        // 2. Show what will be erased and have the technician confirm each drive.
        say(fr ? "Profil : \(wipeProfile.name) — \(wipeProfile.title.french)" : "Profile: \(wipeProfile.name) — \(wipeProfile.title.english)")
        for plan in plans {
            let medium = plan.medium
            say("  \(medium.path)  \(medium.model)  \(fr ? "n° de série" : "serial") \(medium.serial)  \(ByteCountFormatter.human(medium.sizeInBytes))")
        }
        if !yes {
            guard isatty(STDIN_FILENO) == 1 || ProcessInfo.processInfo.environment["ARDOISE_CONFIRM_FROM_STDIN"] == "1" else {
                printError(fr ? "Confirmation impossible sans terminal : ajoutez --yes pour un banc automatique."
                              : "Cannot confirm without a terminal: add --yes for an automatic bench.")
                throw ExitCode(2)
            }
            for plan in plans where !Confirmation.ask(for: plan.medium, hasSerial: plan.identity?.serial != nil || image) {
                printError(fr ? "Non confirmé pour \(plan.medium.path) : rien n'a été écrit." : "Not confirmed for \(plan.medium.path): nothing was written.")
                throw ExitCode(3)
            }
        }

        // 3. Open every target (exclusive, pinned to the identity shown) and the records.
        var sessions: [ErasureSession] = []
        let context = try reportingProofErrorsReturning { try settings.makeContext(owner: owner) }
        for plan in plans {
            if image {
                let target = try reportingEngineErrors { try FileWipeTarget(path: plan.medium.path) }
                sessions.append(try reportingEngineErrors { try ErasureSession(medium: plan.medium, target: target, profile: wipeProfile, context: context) })
            } else {
                // One claim per drive for the whole job: passes and firmware purge alike.
                let claim = try reportingErrors {
                    try DriveAccess.claim(plan.medium.path, policy: SafetyPolicy(allowVirtual: allowVirtual, dataDirectory: settings.dataDirectory),
                                          expected: plan.identity)
                }
                sessions.append(try reportingEngineErrors { try ErasureSession(medium: plan.medium, claim: claim, profile: wipeProfile, context: context) })
            }
        }

        // 4. Run them all, each on its own thread; Ctrl-C cancels them cleanly.
        let display = ProgressDisplay(paths: sessions.map { $0.medium.path }, json: json, language: CurrentLanguage.value)
        let running = sessions
        let interrupt = SignalWatcher(signals: [SIGINT, SIGTERM]) {
            for session in running { session.cancel() }
        }
        defer { interrupt.stop() }
        display.start()
        let outcomes = try await withThrowingTaskGroup(of: (Int, ErasureOutcome).self) { group in
            for (index, session) in running.enumerated() {
                group.addTask {
                    let outcome = try await session.run { event in display.update(index: index, event: event) }
                    return (index, outcome)
                }
            }
            var results: [(Int, ErasureOutcome)] = []
            for try await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
        display.stop()

        // 5. Results and certificates.
        var worst: Int32 = 0
        if wipeProfile.isReadOnly {
            // A check, not an erasure: say what was found, exit 0 only if it all matched.
            for outcome in outcomes {
                let ok = outcome.report.succeeded
                say("\(outcome.report.targetName): " + (ok
                    ? (fr ? "vérifié : uniquement des zéros ✓" : "verified: only zeros ✓")
                    : (fr ? "VÉRIFICATION ÉCHOUÉE ✗ (données restantes ou illisibles)" : "VERIFICATION FAILED ✗ (data left or unreadable)")))
                if !ok { worst = 31 }
            }
            if worst != 0 { throw ExitCode(worst) }
            return
        }
        for outcome in outcomes {
            let status = CertificateSummary.statusLabel(outcome.certificate?.status ?? .notErased, language: CurrentLanguage.value).lowercased()
            let label = WipeSummary.label(outcome.report.status, succeeded: outcome.report.succeeded, language: CurrentLanguage.value)
            say("\(outcome.report.targetName): \(label)")
            if json {
                var line = WipeLine(event: "certificate", device: outcome.report.targetName)
                line.status = outcome.certificate?.status.rawValue ?? "not_issued"
                line.statusLabel = status
                line.json = outcome.certificate?.jsonPath
                line.pdf = outcome.certificate?.pdfPath
                ProgressDisplay.emit(line)
            }
            if let certificate = outcome.certificate {
                say("  " + (fr ? "certificat (\(status)) : " : "certificate (\(status)): ") + certificate.jsonPath)
                say("  PDF: \(certificate.pdfPath)")
            } else if let error = outcome.certificateError {
                printError((fr ? "certificat non écrit : " : "certificate not written: ") + error)
            }
            // The certificate's status is the verdict: a job that ran to its end without the
            // verification its standard lacks is "erased with exceptions", not "erased".
            switch (outcome.certificate?.status, outcome.jobStatus) {
            case (.erased?, .completed): break
            case (.erasedWithExceptions?, _), (nil, .completed), (nil, .completedWithExceptions): worst = max(worst, 30)
            default: worst = max(worst, 31)
            }
        }
        if worst != 0 { throw ExitCode(worst) }
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

    /// The journal (recovering what a dead owner left running), key and issuer; `owner` is
    /// the data directory's lock, taken by the caller before anything else.
    func makeContext(owner: JournalOwnerLock) throws -> ErasureContext {
        let journal = try JournalDatabase(dataDirectory: config.dataDirectory, owner: owner)
        let key = try BenchKey.loadOrCreate(dataDirectory: config.dataDirectory)
        let issuer = CertificateIssuer(key: key, outputDirectory: config.outputDirectory, journal: journal, language: CurrentLanguage.value)
        return ErasureContext(config: config, journal: journal, issuer: issuer,
                              technicianFallback: ProcessInfo.processInfo.environment["SUDO_USER"] ?? "root")
    }
}

/// The confirmation a technician types: the last 4 characters of the serial.
enum Confirmation {
    static func expectedAnswer(serial: String, hasSerial: Bool) -> String {
        hasSerial ? String(serial.suffix(4)) : (CurrentLanguage.value == .french ? "oui" : "yes")
    }

    static func ask(for medium: MediumDescription, hasSerial: Bool) -> Bool {
        let fr = CurrentLanguage.value == .french
        let expected = expectedAnswer(serial: medium.serial, hasSerial: hasSerial)
        let question = hasSerial
            ? (fr ? "Effacer \(medium.path) (\(medium.model), n° \(medium.serial)) ? Tapez les 4 derniers caractères du n° de série : "
                  : "Erase \(medium.path) (\(medium.model), serial \(medium.serial))? Type the last 4 characters of the serial: ")
            : (fr ? "Effacer \(medium.path) (\(medium.model)) ? Tapez « oui » : " : "Erase \(medium.path) (\(medium.model))? Type 'yes': ")
        FileHandle.standardOutput.write(Data(question.utf8))
        guard let answer = readLine() else { return false }
        let typed = answer.trimmingCharacters(in: .whitespaces)
        return typed.caseInsensitiveCompare(expected) == .orderedSame || (!hasSerial && ["yes", "oui"].contains(typed.lowercased()))
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

func reportingProofErrorsReturning<T>(_ body: () throws -> T) throws -> T {
    var result: T?
    try reportingProofErrors { result = try body() }
    return result!
}
