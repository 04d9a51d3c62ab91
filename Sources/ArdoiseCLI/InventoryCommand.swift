import ArdoiseSupport
import ArgumentParser
import Bench
import Certificates
import Diagnostics
import Foundation
import Inventory
import Journal

/// `ardoise inventory`: what this PC is made of (SMBIOS, /proc, sysfs, EDID), as a one-line
/// summary and a table, stable JSON, a signed record (`--sign`) and a printed sheet (`--pdf`).
struct InventoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory",
        abstract: "Inventaire du PC : modèle, processeur, mémoire, disques, écran, batterie / What this PC is made of.")

    @OptionGroup var global: GlobalOptions

    @Flag(name: .long, help: "Sortie JSON (codes stables) / JSON output (stable codes).")
    var json = false

    @Option(name: .long, help: "Lit sys/ et proc/ sous ce dossier (arbres capturés) / Read sys/ and proc/ under this root.")
    var sysroot: String = "/"

    @Flag(name: .long, help: "Signe l'inventaire avec la clé du banc, l'écrit et l'enregistre dans le journal / Sign, write and journal it.")
    var sign = false

    @Option(name: .long, help: "Écrit la fiche PDF du PC / Write the PC's PDF sheet.")
    var pdf: String?

    @Flag(name: .customLong("no-health"), help: "Ne lit pas la santé (SMART) des disques / Do not read the drives' health (SMART).")
    var noHealth = false

    @Option(name: .long, help: "Fichier de configuration (identifiant du banc, dossiers) / Configuration file.")
    var config: String = BenchConfig.defaultPath

    @Option(name: .customLong("data-dir"), help: "Dossier de données (clé, journal) / Data directory (key, journal).")
    var dataDirectory: String?

    @Option(name: .customLong("output-dir"), help: "Où écrire l'inventaire signé / Where to write the signed inventory.")
    var outputDirectory: String?

    @Option(name: .long, help: "Donateur du PC (défaut : session de la configuration) / The PC's donor (default: the configured session's).")
    var donor: String?

    @Option(name: .long, help: "Lot du PC (défaut : session de la configuration) / The PC's lot (default: the configured session's).")
    var lot: String?

    func run() throws {
        try global.applyLanguage()
        let language = CurrentLanguage.value
        var benchConfig = BenchConfig()
        if FileManager.default.fileExists(atPath: config) || config != BenchConfig.defaultPath {
            do {
                benchConfig = try BenchConfig.load(path: config)
            } catch {
                printError(error.description)
                throw ExitCode(40)
            }
        }
        let dataDirectory = dataDirectory ?? benchConfig.dataDirectory
        // Each drive's health (smartctl, read-only) under the bench's health policy, as the
        // daemon records it; `--no-health` or `[health] check = false` leaves it out.
        var check: HealthCheck?
        if !noHealth, benchConfig.healthCheck {
            do {
                check = HealthCheck(policy: try HealthPolicy.loadStandard(explicitPath: benchConfig.healthPolicyPath),
                                    runner: SmartctlRunner(executable: benchConfig.smartctlPath))
            } catch {
                printError(error.description)
                throw ExitCode(error.exitCode)
            }
        }
        let inventory = HostInventory.read(sysroot: sysroot, health: check)
        try reportingInventoryErrors {
            var signed: SignedInventory?
            var journal: JournalDatabase?
            if sign || pdf != nil, FileManager.default.fileExists(atPath: dataDirectory) || sign {
                journal = try JournalDatabase(dataDirectory: dataDirectory, recoverInterruptedJobs: false)
            }
            if sign {
                let key = try BenchKey.loadOrCreate(dataDirectory: dataDirectory)
                let recorder = InventoryRecorder(key: key, journal: journal,
                                                 outputDirectory: outputDirectory ?? (dataDirectory as NSString).appendingPathComponent("inventories"),
                                                 language: language)
                signed = try recorder.record(inventory, benchID: benchConfig.benchID, donor: donor ?? benchConfig.donor,
                                             lot: lot ?? benchConfig.lot)
            }
            if let pdf {
                let notes = journal.map { InventorySheet.erasureNotes(inventory.drives, journal: $0) } ?? [:]
                let data = try InventorySheet.render(inventory, signed: signed, driveNotes: notes)
                do {
                    try data.write(to: URL(fileURLWithPath: pdf), options: .atomic)
                } catch {
                    throw InventoryError(code: .fileSystem, message: .init(fr: "Impossible d'écrire la fiche PDF.",
                                                                            en: "Cannot write the PDF sheet."), path: pdf)
                }
            }
            if json {
                if let signed {
                    writeStandardOutput(signed.document.signedJSON + Data("\n".utf8))
                } else {
                    writeStandardOutput(try InventoryJSON.encode(inventory, pretty: true) + Data("\n".utf8))
                }
                return
            }
            print(InventoryText.table(inventory, language: language), terminator: "")
            if let signed {
                print((language == .french ? "Inventaire signé : " : "Signed inventory: ") + (signed.jsonPath ?? signed.payload.id))
            }
            if let pdf { print((language == .french ? "Fiche PDF : " : "PDF sheet: ") + pdf) }
        }
    }
}

/// Inventory 90–93, journal 51–57, certificates (key) 21–26.
func reportingInventoryErrors(_ body: () throws -> Void) throws {
    do {
        try reportingProofErrors(body)
    } catch let error as InventoryError {
        printError(error.text(in: CurrentLanguage.value))
        throw ExitCode(error.exitStatus)
    }
}
