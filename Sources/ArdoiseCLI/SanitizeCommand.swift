import ArdoiseSupport
import ArgumentParser
import Bench
import DeviceKit
import Foundation
import Journal
import Sanitize

extension FirmwareEraseMethod: ExpressibleByArgument {}

/// `ardoise sanitize DEV --method M`: firmware erase (ATA security erase / sanitize, NVMe
/// format / sanitize, SCSI sanitize / format), with dry run, recovery and unfreeze.
struct SanitizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sanitize",
        abstract: "Effacement par le firmware du disque / Firmware erase (ATA, NVMe, SCSI).",
        discussion: "Exit codes: see docs/firmware-erase.md. --dry-run prints every passthrough command, one per line, and sends nothing.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Device node, e.g. /dev/sdb or /dev/nvme0n1.")
    var device: String

    @Option(help: "Method: \(FirmwareEraseMethod.allCases.map(\.rawValue).joined(separator: ", ")).")
    var method: FirmwareEraseMethod?

    @Option(name: .customLong("device-type"), help: "auto, sat, sat12, scsi or nvme (as smartctl -d).")
    var deviceType: PassthroughDeviceType = .auto

    @Flag(name: .customLong("dry-run"), help: "Print the commands; send nothing.")
    var dryRun = false

    @Option(name: .customLong("identify-from"), help: "Dry run: take the drive's identify data from this dump.")
    var identifyFrom: String?

    @Flag(help: "Unlock and disable ATA security with the recorded temporary password.")
    var recover = false

    @Flag(help: "Suspend to RAM and resume to lift a BIOS freeze lock (only where the platform allows it).")
    var unfreeze = false

    @Flag(help: "Confirm that the drive's data may be destroyed.")
    var yes = false

    @Flag(name: .customLong("restore-hidden-area"), help: "Remove HPA / AMA / DCO limits before erasing.")
    var restoreHiddenArea = false

    @Option(help: "Overwrite passes (overwrite methods).")
    var passes: Int = 1

    @Option(help: "32-bit overwrite pattern in hex, e.g. 0 or deadbeef.")
    var pattern: String = "0"

    @Option(help: "NVMe namespace for Format NVM (ffffffff = all).")
    var namespace: String?

    @Option(name: .customLong("secrets-dir"), help: "Where temporary ATA passwords are kept (0600 files).")
    var secretsDirectory: String = "/var/lib/ardoise/secrets"

    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        if method == nil && !recover { throw ValidationError("--method is required (or --recover)") }
        if identifyFrom != nil && !dryRun { throw ValidationError("--identify-from is only for --dry-run") }
        if UInt32(pattern.hasPrefix("0x") ? String(pattern.dropFirst(2)) : pattern, radix: 16) == nil { throw ValidationError("--pattern must be 32-bit hex") }
        if let namespace, UInt32(namespace, radix: namespace.lowercased() == "ffffffff" ? 16 : 10) == nil { throw ValidationError("--namespace must be a number or ffffffff") }
        if let method, method.family == .nvme, ![.auto, .nvme].contains(deviceType) { throw ValidationError("\(method.rawValue) needs --device-type nvme") }
    }

    var options: FirmwareEraseOptions {
        var o = FirmwareEraseOptions()
        o.overwritePasses = passes
        o.overwritePattern = UInt32(pattern.hasPrefix("0x") ? String(pattern.dropFirst(2)) : pattern, radix: 16) ?? 0
        o.restoreHiddenArea = restoreHiddenArea
        if let namespace { o.namespaceID = UInt32(namespace, radix: namespace.lowercased() == "ffffffff" ? 16 : 10) }
        return o
    }

    func run() throws {
        try global.applyLanguage()
        let language = CurrentLanguage.value
        func say(_ text: LocalizedText) { FileHandle.standardError.write(Data("ardoise sanitize: \(text.text(in: language))\n".utf8)) }
        do {
            if !dryRun && !yes && !recover {
                say(.init(fr: "cette commande détruit toutes les données de \(device) ; relancez avec --yes pour confirmer (ou --dry-run pour voir les commandes)",
                          en: "this destroys all data on \(device); run again with --yes to confirm (or --dry-run to see the commands)"))
                throw ExitCode(2)
            }
            let outcome = try runOnDedicatedThread { try self.perform(say: say) }
            if let text = outcome { print(text) }
        } catch let error as SanitizeError {
            say(error.message)
            throw ExitCode(error.exitCode)
        } catch let error as DeviceError {
            printError(error.description)
            throw ExitCode(error.exitCode)
        }
    }

    /// The whole job, on the passthrough thread. Returns what to print on stdout.
    private func perform(say: @escaping (LocalizedText) -> Void) throws -> String? {
        var options = self.options
        let transport: PassthroughTransport
        let type: PassthroughDeviceType
        let store: SecretStore
        let printed = CommandCounter()
        if dryRun {
            type = deviceType == .auto ? (device.contains("nvme") ? .nvme : .sat) : deviceType
            let dump = try identifyFrom.map { try DryRun.loadIdentifyDump(path: $0, deviceType: type) }
            say(.init(fr: "simulation : rien n'est envoyé à \(device) ; voici les commandes qu'Ardoise enverrait, une par ligne, dans l'ordre",
                      en: "dry run: nothing is sent to \(device); here are the commands Ardoise would send, one per line, in order"))
            // Command lines go to stdout exactly in the trace grammar (to stderr with --json, whose
            // stdout is the JSON result alone); nothing reaches a device.
            let output = json ? FileHandle.standardError : FileHandle.standardOutput
            transport = TracingTransport(wrapping: try DryRun.simulatedDevice(deviceType: type, identifyDump: dump), recordOutcomes: false) { record in
                printed.count += 1
                // Unbuffered, so the lines sit between the first and last messages in a log.
                output.write(Data((record.text + "\n").utf8))
            }
            store = InMemorySecretStore()
        } else {
            // Every real run changes the drive (erase, unlock, suspend): the same claim as the
            // overwrite path (safety classification, O_EXCL, identity re-check before each command).
            let claim = try DriveAccess.claim(self.device, policy: SafetyPolicy(dataDirectory: (secretsDirectory as NSString).deletingLastPathComponent))
            let device = claim.passthrough()
            if options.namespaceID == nil {
                options.namespaceID = claim.nvmeNamespaceID()
            }
            // The same lines plus each outcome go to stderr and to the bench journal (when
            // there is one next to the secrets directory), as `firmware.command` events.
            let journalTrace = Self.journal(secretsDirectory: secretsDirectory).map { DriveFirmwarePurger.journalTrace($0, jobID: nil) }
            transport = TracingTransport(wrapping: device) { record in
                FileHandle.standardError.write(Data("trace \(self.device): \(record.text)\n".utf8))
                journalTrace?(record)
            }
            type = deviceType == .auto ? FirmwareEraser.detectDeviceType(path: self.device, transport: transport) : deviceType
            store = try Self.secretStore(secretsDirectory: secretsDirectory)
        }
        let dryRun = self.dryRun
        let eraser = FirmwareEraser(transport: transport, deviceType: type, secretStore: store, progress: { p in
            // A simulation finishes nothing: its progress is the simulated drive's, and its end
            // ("done") is not said (the closing line says what happened: nothing).
            if dryRun {
                guard p.fraction != 1 else { return }
                say(.init(fr: "(simulation) \(p.method.rawValue) : \(p.message.french)", en: "(dry run) \(p.method.rawValue): \(p.message.english)"))
                return
            }
            say(.init(fr: "\(p.method.rawValue) : \(p.message.french)", en: "\(p.method.rawValue): \(p.message.english)"))
        })

        if unfreeze {
            let unfreezer = SuspendUnfreezer()
            if dryRun {
                say(.init(fr: "(simulation) mise en veille puis réveil : echo mem > /sys/power/state", en: "(dry run) suspend and resume: echo mem > /sys/power/state"))
            } else {
                // `device` passed the safety classification when it was opened above.
                try unfreezer.suspendAndResume()
            }
        }

        if recover {
            // `device` passed the safety classification when it was opened above.
            let result = try eraser.recover()
            if dryRun {
                say(.init(fr: "simulation : aucune commande n'a été envoyée à \(device) ; les \(printed.count) lignes ci-dessus sont celles d'un vrai déverrouillage",
                          en: "dry run: no command was sent to \(device); the \(printed.count) lines above are what a real unlock would send"))
                return nil
            }
            return json ? encode(result) : LocalizedText(fr: "sécurité désactivée sur \(result.model) (\(result.serialNumber))", en: "security disabled on \(result.model) (\(result.serialNumber))").text(in: CurrentLanguage.value)
        }

        var chosen = method!
        if chosen == .auto {
            switch PurgePlanner.plan(try eraser.identify()) {
            case .firmware(let m, let reason):
                say(reason)
                chosen = m
            case .overwritePasses(let reason):
                say(reason)
                say(.init(fr: "aucune purge par le firmware : utilisez `ardoise wipe` (passes de réécriture)", en: "no firmware purge: use `ardoise wipe` (overwrite passes)"))
                throw ExitCode(80)
            case .cannotPurge(let reason):
                throw SanitizeError(.unsupported, context: device, message: reason)
            }
        }
        // Real runs classified and claimed the drive when opening it; dry runs send nothing.
        let result = try eraser.erase(chosen, options: options)
        for note in result.notes { say(dryRun ? .init(fr: "(simulation) " + note.french, en: "(dry run) " + note.english) : note) }
        if dryRun {
            say(.init(fr: "simulation : aucune commande n'a été envoyée à \(device) ; les \(printed.count) lignes ci-dessus sont celles qu'un vrai effacement enverrait (les lectures d'identité sont refaites avant chaque étape, comme sur un vrai disque)",
                      en: "dry run: no command was sent to \(device); the \(printed.count) lines above are what a real erase would send (identity reads are repeated before each step, as on a real drive)"))
        }
        if json { return encode(result) }
        var text = LocalizedText(fr: "effacement terminé : \(result.method.rawValue) sur \(result.model) (\(result.serialNumber)), \(result.commandCount) commandes",
                                 en: "erase complete: \(result.method.rawValue) on \(result.model) (\(result.serialNumber)), \(result.commandCount) commands").text(in: CurrentLanguage.value)
        if let hidden = result.hiddenArea, hidden.hiddenSectorsExisted {
            text += "\n" + LocalizedText(fr: "zone cachée : présente, \(hidden.hiddenSectorsErased == true ? "effacée" : "NON effacée (relancez avec --restore-hidden-area)")",
                                         en: "hidden area: present, \(hidden.hiddenSectorsErased == true ? "erased" : "NOT erased (run again with --restore-hidden-area)")").text(in: CurrentLanguage.value)
        }
        return dryRun ? nil : text
    }

    /// Passwords of standalone runs go to files in `secretsDirectory`; lookups (`--recover`)
    /// also search the bench journal next to it, where daemon and `wipe` jobs keep theirs.
    static func secretStore(secretsDirectory: String) throws -> SecretStore {
        let files = try FileSecretStore(directory: URL(fileURLWithPath: secretsDirectory))
        guard let journal = journal(secretsDirectory: secretsDirectory) else { return files }
        return ChainedSecretStore(primary: files, lookups: [JournalSecretStore(journal: journal, jobID: nil)])
    }

    /// The bench journal in the data directory that holds `secretsDirectory`, if it exists.
    static func journal(secretsDirectory: String) -> JournalDatabase? {
        let dataDirectory = (secretsDirectory as NSString).deletingLastPathComponent
        guard FileManager.default.fileExists(atPath: (dataDirectory as NSString).appendingPathComponent(JournalDatabase.fileName)) else { return nil }
        return try? JournalDatabase(dataDirectory: dataDirectory)
    }

    private func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}


/// Saves to `primary`; finds a password in `primary` or else the first lookup that has one;
/// removes it everywhere.
final class ChainedSecretStore: SecretStore {
    let primary: SecretStore
    let lookups: [SecretStore]

    init(primary: SecretStore, lookups: [SecretStore]) {
        self.primary = primary
        self.lookups = lookups
    }

    func saveTemporaryPassword(_ password: AtaPassword, forDevice deviceKey: String) throws {
        try primary.saveTemporaryPassword(password, forDevice: deviceKey)
    }

    func temporaryPassword(forDevice deviceKey: String) throws -> AtaPassword? {
        if let found = try primary.temporaryPassword(forDevice: deviceKey) { return found }
        for store in lookups {
            if let found = try store.temporaryPassword(forDevice: deviceKey) { return found }
        }
        return nil
    }

    func removeTemporaryPassword(forDevice deviceKey: String) throws {
        try primary.removeTemporaryPassword(forDevice: deviceKey)
        for store in lookups { try store.removeTemporaryPassword(forDevice: deviceKey) }
    }
}

/// Counts the command lines a dry run printed (touched only on the pass-through thread).
final class CommandCounter: @unchecked Sendable {
    var count = 0
}
