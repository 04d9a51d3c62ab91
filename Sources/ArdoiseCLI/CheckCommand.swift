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

    func run() throws {
        try global.applyLanguage()
        let language = CurrentLanguage.value
        let info = try reportingErrors { try DriveCheck.classify(device, policy: SafetyPolicy(allowVirtual: allowVirtual, dataDirectory: dataDir)) }
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

/// Resolves and classifies one drive path (shared by `check`, `wipe` and the daemon).
enum DriveCheck {
    static func classify(_ path: String, policy: SafetyPolicy, scanner: DeviceScanner = DeviceScanner()) throws(DeviceError) -> BlockDeviceInfo {
        guard case .wholeDisk(let name, let number) = try DriveAccess.resolveWholeDisk(path, reader: scanner.reader),
              // Only this drive's signatures are probed (as the daemon does per hot-plug event):
              // probing every disk made start-up grow with the number of disks on the machine.
              let info = scanner.scan(policy: policy, probing: [name]).first(where: { $0.name == name && $0.deviceNumber == number }) else {
            throw DeviceError(.vanished, path: path)
        }
        return info
    }
}
