import ArdoiseSupport
import ArgumentParser
import Bench
import DeviceKit
import Certificates
import Foundation
import Journal
import Sanitize
#if canImport(Glibc)
import Glibc
#endif

extension FirmwareEraseMethod: ExpressibleByArgument {}

/// `ardoise sanitize DEV --method M`: firmware erase (ATA security erase / sanitize, NVMe
/// format / sanitize, SCSI sanitize / format), with dry run, recovery and unfreeze. Real runs
/// are Bench's `SanitizeFlow` (the daemon's firmware step, journal and certificate); the dry
/// run, which sends and records nothing, is here.
struct SanitizeCommand: AsyncParsableCommand {
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

    @Option(name: .customLong("secrets-dir"), help: "Where temporary ATA passwords are kept (0600 files; default: secrets/ in the data directory).")
    var secretsDir: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    @OptionGroup var bench: BenchSessionOptions

    /// Test programs only (`ArdoiseCommand.main(sanitizeTestDrive:)`): the drive a real run
    /// erases instead of claiming `device`. Never set from the command line.
    var testDrive: (@Sendable (String) throws -> SanitizeTestDrive)?

    // `testDrive` is not an argument: it is left out of what the parser decodes.
    enum CodingKeys: String, CodingKey {
        case global, device, method, deviceType, dryRun, identifyFrom, recover, unfreeze, yes, restoreHiddenArea, passes, pattern,
             namespace, secretsDir, json, bench
    }

    /// The bench journal of a real erase: `--data-dir`, else the directory holding an explicit
    /// `--secrets-dir` (as before the journal existed), else the configuration's.
    func settings() throws -> ResolvedBenchSettings {
        var settings = try bench.resolve()
        if bench.dataDir == nil, let secretsDir {
            settings.config.dataDirectory = (secretsDir as NSString).deletingLastPathComponent
            if bench.outputDir == nil { settings.config.outputDirectory = (settings.config.dataDirectory as NSString).appendingPathComponent("certificates") }
        }
        return settings
    }

    func secretsDirectory(dataDirectory: String) -> String {
        secretsDir ?? (dataDirectory as NSString).appendingPathComponent("secrets")
    }

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

    func run() async throws {
        try global.applyLanguage()
        let language = CurrentLanguage.value
        let say: @Sendable (LocalizedText) -> Void = { text in
            FileHandle.standardError.write(Data("ardoise sanitize: \(text.text(in: language))\n".utf8))
        }
        do {
            if !dryRun && !yes && !recover {
                say(.init(fr: "cette commande détruit toutes les données de \(device) ; relancez avec --yes pour confirmer (ou --dry-run pour voir les commandes)",
                          en: "this destroys all data on \(device); run again with --yes to confirm (or --dry-run to see the commands)"))
                throw ExitCode(2)
            }
            if dryRun {
                let outcome = try runOnDedicatedThread { try self.performDryRun(say: say) }
                if let text = outcome { print(text) }
            } else if recover {
                let settings = try settings()
                let device = self.device
                let secrets = secretsDirectory(dataDirectory: settings.dataDirectory)
                let (deviceType, unfreeze) = (self.deviceType, self.unfreeze)
                let result = try runOnDedicatedThread {
                    try SanitizeFlow.recover(path: device, deviceType: deviceType, secretsDirectory: secrets, unfreeze: unfreeze,
                                             trace: { record in FileHandle.standardError.write(Data("trace \(device): \(record.text)\n".utf8)) },
                                             progress: { p in say(.init(fr: "\(p.method.rawValue) : \(p.message.french)", en: "\(p.method.rawValue): \(p.message.english)")) })
                }
                print(json ? encode(result) : LocalizedText(fr: "sécurité désactivée sur \(result.model) (\(result.serialNumber))",
                                                            en: "security disabled on \(result.model) (\(result.serialNumber))").text(in: language))
            } else {
                try await erase(say: say)
            }
        } catch let error as SanitizeError {
            say(error.message)
            throw ExitCode(error.exitCode)
        } catch let error as DeviceError {
            printError(error.description)
            throw ExitCode(error.exitCode)
        }
    }

    /// A real erase: the bench's flow (claim, journal, the daemon's firmware step, certificate).
    private func erase(say: @escaping @Sendable (LocalizedText) -> Void) async throws {
        let language = CurrentLanguage.value
        let settings = try settings()
        let device = self.device
        let request = SanitizeRequest(path: device, method: method!, deviceType: deviceType, options: options, unfreeze: unfreeze)
        let testDrive = self.testDrive
        let run = try reportingFlowErrors {
            try runOnDedicatedThread {
                let technician = ProcessInfo.processInfo.environment["SUDO_USER"] ?? "root"
                if let testDrive {
                    let drive = try testDrive(device)
                    return try SanitizeFlow.start(request, medium: drive.medium, target: drive.target, firmware: drive.firmware,
                                                  config: settings.config, technicianFallback: technician, language: language)
                }
                return try SanitizeFlow.start(request, config: settings.config, technicianFallback: technician, language: language,
                                              echo: { record in FileHandle.standardError.write(Data("trace \(device): \(record.text)\n".utf8)) })
            }
        }
        let interrupt = SignalWatcher(signals: [SIGINT, SIGTERM]) { run.cancel() }
        defer { interrupt.stop() }
        let outcome = try await run.run { event in
            if case .firmwareProgress(let p) = event { say(p.message) }
        }
        let status = SanitizeFlow.exitStatus(outcome)
        let firmware = outcome.report.firmware
        if json {
            print(try JSONOutput.string(SanitizeResultLine(device: device, outcome: outcome, language: language)))
        } else if status == 0, let firmware {
            let method = firmware.operations.last?.method ?? request.method.rawValue
            let commands = firmware.operations.reduce(0) { $0 + $1.commandCount }
            var text = LocalizedText(fr: "effacement terminé : \(method) sur \(firmware.driveModel ?? "?") (\(firmware.driveSerial ?? "?")), \(commands) commandes, échantillons relus conformes",
                                     en: "erase complete: \(method) on \(firmware.driveModel ?? "?") (\(firmware.driveSerial ?? "?")), \(commands) commands, samples read back as expected").text(in: language)
            if let hidden = firmware.hiddenArea, hidden.detected {
                text += "\n" + LocalizedText(fr: "zone cachée : présente, \(hidden.erased == true ? "effacée" : "NON effacée (relancez avec --restore-hidden-area)")",
                                             en: "hidden area: present, \(hidden.erased == true ? "erased" : "NOT erased (run again with --restore-hidden-area)")").text(in: language)
            }
            print(text)
        }
        for note in firmware?.notes ?? [] { say(note) }
        if status != 0, let firmware { say(firmware.reason) }
        if let certificate = outcome.certificate {
            let label = CertificateSummary.statusLabel(certificate.status, language: language).lowercased()
            say(.init(fr: "certificat (\(label)) : \(certificate.jsonPath)", en: "certificate (\(label)): \(certificate.jsonPath)"))
        } else if let error = outcome.certificateError {
            say(.init(fr: "certificat non écrit : \(error)", en: "certificate not written: \(error)"))
        }
        if status != 0 { throw ExitCode(status) }
    }

    /// The dry run, on the passthrough thread: every command line on stdout (stderr with
    /// --json), sent to a simulated drive, nothing recorded. Returns what to print on stdout.
    private func performDryRun(say: @escaping (LocalizedText) -> Void) throws -> String? {
        let options = self.options
        let printed = CommandCounter()
        let type = deviceType == .auto ? (device.contains("nvme") ? .nvme : .sat) : deviceType
        let dump = try identifyFrom.map { try DryRun.loadIdentifyDump(path: $0, deviceType: type) }
        say(.init(fr: "simulation : rien n'est envoyé à \(device) ; voici les commandes qu'Ardoise enverrait, une par ligne, dans l'ordre",
                  en: "dry run: nothing is sent to \(device); here are the commands Ardoise would send, one per line, in order"))
        // Command lines go to stdout exactly in the trace grammar (to stderr with --json, whose
        // stdout is the JSON result alone); nothing reaches a device.
        let output = json ? FileHandle.standardError : FileHandle.standardOutput
        let transport = TracingTransport(wrapping: try DryRun.simulatedDevice(deviceType: type, identifyDump: dump), recordOutcomes: false) { record in
            printed.count += 1
            // Unbuffered, so the lines sit between the first and last messages in a log.
            output.write(Data((record.text + "\n").utf8))
        }
        let eraser = FirmwareEraser(transport: transport, deviceType: type, secretStore: InMemorySecretStore(), progress: { p in
            // A simulation finishes nothing: its progress is the simulated drive's, and its end
            // ("done") is not said (the closing line says what happened: nothing).
            guard p.fraction != 1 else { return }
            say(.init(fr: "(simulation) \(p.method.rawValue) : \(p.message.french)", en: "(dry run) \(p.method.rawValue): \(p.message.english)"))
        })

        if unfreeze {
            say(.init(fr: "(simulation) mise en veille puis réveil : echo mem > /sys/power/state", en: "(dry run) suspend and resume: echo mem > /sys/power/state"))
        }

        if recover {
            _ = try eraser.recover()
            say(.init(fr: "simulation : aucune commande n'a été envoyée à \(device) ; les \(printed.count) lignes ci-dessus sont celles d'un vrai déverrouillage",
                      en: "dry run: no command was sent to \(device); the \(printed.count) lines above are what a real unlock would send"))
            return nil
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
        let result = try eraser.erase(chosen, options: options)
        for note in result.notes { say(.init(fr: "(simulation) " + note.french, en: "(dry run) " + note.english)) }
        say(.init(fr: "simulation : aucune commande n'a été envoyée à \(device) ; les \(printed.count) lignes ci-dessus sont celles qu'un vrai effacement enverrait (les lectures d'identité sont refaites avant chaque étape, comme sur un vrai disque)",
                  en: "dry run: no command was sent to \(device); the \(printed.count) lines above are what a real erase would send (identity reads are repeated before each step, as on a real drive)"))
        return json ? encode(result) : nil
    }

    private func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}


/// Counts the command lines a dry run printed (touched only on the pass-through thread).
final class CommandCounter: @unchecked Sendable {
    var count = 0
}

/// `ardoise sanitize --json`'s result of a real erase: stable codes (docs/json-codes.md), the
/// localized reason beside them.
struct SanitizeResultLine: Encodable {
    var device: String
    /// `purged`, `failed` (or `overwrite-fallback`, never with sanitize's profile).
    var outcome: String
    /// For `failed`: the Sanitize code (`frozen`, `unsupported`, `verificationFailed`, `noFirmwarePurge`…).
    var failureCode: String?
    var reasonLabel: String
    var method: String?
    var driveModel: String?
    var driveSerial: String?
    var commandCount: Int
    var samplesVerified: String?
    var hiddenAreaDetected: Bool?
    var hiddenAreaErased: Bool?
    var jobID: String
    /// `erased`, `erased_with_exceptions`, `not_erased`, or `not_issued`.
    var certificateStatus: String
    var certificate: String?
    var pdf: String?

    init(device: String, outcome: ErasureOutcome, language: Language) {
        let firmware = outcome.report.firmware
        self.device = device
        self.outcome = firmware?.outcome.rawValue ?? "failed"
        failureCode = firmware?.failureCode
        reasonLabel = (firmware?.reason ?? outcome.report.status.label).text(in: language)
        method = firmware?.operations.last?.method
        driveModel = firmware?.driveModel
        driveSerial = firmware?.driveSerial
        commandCount = firmware?.operations.reduce(0) { $0 + $1.commandCount } ?? 0
        samplesVerified = firmware?.verification?.result.rawValue
        hiddenAreaDetected = firmware?.hiddenArea?.detected
        hiddenAreaErased = firmware?.hiddenArea?.erased
        jobID = outcome.jobID.uuidString.lowercased()
        certificateStatus = outcome.certificate?.status.rawValue ?? "not_issued"
        certificate = outcome.certificate?.jsonPath
        pdf = outcome.certificate?.pdfPath
    }
}
