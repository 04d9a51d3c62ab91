import ArdoiseSupport
import ArgumentParser
import DeviceKit

/// `ardoise check DEV`: says whether a drive may be erased and why, without opening it for writing.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Dit si un disque peut être effacé, et pourquoi / Tell whether a drive may be erased, and why.",
        discussion: "Statut de sortie : 0 effaçable, 13 protégé, autres codes dans docs/exit-codes.md.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Le disque, par ex. /dev/sdb / The drive, e.g. /dev/sdb.")
    var device: String

    @Flag(name: .long, help: "Autorise les périphériques loop / Allow loop devices.")
    var allowVirtual = false

    @Option(name: .long, help: "Dossier de données d'Ardoise / Ardoise's data directory.")
    var dataDir: String = "/var/lib/ardoise"

    @Flag(name: .long, help: "Sortie JSON (codes stables, docs/json-codes.md) / JSON output (stable codes).")
    var json = false

    /// `check --json`: codes, and the same in words in `*Label(s)` members.
    struct Output: Encodable {
        var path: String
        var model: String?
        var serial: String?
        var sizeInBytes: UInt64
        var diskSequence: UInt64?
        var verdict: String
        var verdictLabel: String
        var reasonCodes: [String]
        var reasonLabels: [String]
    }

    func run() throws {
        try global.applyLanguage()
        let language = CurrentLanguage.value
        let info = try reportingErrors { try DriveAccess.classify(device, policy: SafetyPolicy(allowVirtual: allowVirtual, dataDirectory: dataDir)) }
        if json {
            let reasons = info.verdict.reasons
            let output = Output(path: info.path, model: info.model, serial: info.serial, sizeInBytes: info.sizeInBytes,
                                diskSequence: info.diskSequence, verdict: info.verdict.word,
                                verdictLabel: DeviceColumn.verdictLabel(info.verdict, language),
                                reasonCodes: reasons.map(\.key), reasonLabels: reasons.map { $0.message.text(in: language) })
            print(try JSONOutput.string(output))
            if !info.verdict.isWipeable { throw ExitCode(13) }
            return
        }
        let size = ByteCountFormatter.human(info.sizeInBytes)
        print("\(info.path)  \(info.model ?? "-")  \(language == .french ? "n° de série" : "serial") \(info.serial ?? "-")  \(size)  diskseq \(info.diskSequence.map(String.init) ?? "-")")
        if case .protected(let reasons) = info.verdict {
            let error = DeviceError(.protected(reasons: reasons), path: info.path)
            printError(error.description)
            throw ExitCode(error.exitCode)
        }
        print(language == .french ? "Effaçable." : "Wipeable.")
    }
}
