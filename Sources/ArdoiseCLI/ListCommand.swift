import ArdoiseSupport
import ArgumentParser
import DeviceKit

/// `ardoise list`: every whole disk, as lsblk would show it, plus the verdict and its reasons.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Liste les disques et dit lesquels peuvent être effacés / List drives and which may be erased.")

    @OptionGroup var global: GlobalOptions

    @Flag(name: .long, help: "Sortie JSON (clés stables, comme lsblk --json) / JSON output.")
    var json = false

    @Flag(name: .long, help: "Autorise les périphériques loop (tests, démo) / Allow loop devices (tests, demo).")
    var allowVirtual = false

    @Option(name: [.short, .long], parsing: .unconditional,
            help: "Colonnes (séparées par des virgules, ou « all ») / Columns (comma-separated, or 'all').")
    var output: String?

    @Option(name: .long, help: "Lit sysfs et /proc sous ce dossier (arbres capturés) / Read sysfs and /proc under this root.")
    var sysroot: String = "/"

    @Option(name: .long, help: "Dossier de données d'Ardoise (son disque est protégé) / Ardoise's data directory (its drive is protected).")
    var dataDir: String = "/var/lib/ardoise"

    func run() throws {
        try global.applyLanguage()
        let headers = output.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
            ?? (json ? ["all"] : DeviceColumn.defaultHeaders)
        let columns: [DeviceColumn]
        switch DeviceColumn.select(headers) {
        case .success(let selected): columns = selected
        case .failure(let error): throw ValidationError(error.description)
        }
        let scanner = DeviceScanner(sysroot: sysroot)
        let devices = scanner.scan(policy: SafetyPolicy(allowVirtual: allowVirtual, dataDirectory: dataDir))
        print(DeviceTableRenderer.render(devices, columns: columns, json: json, language: CurrentLanguage.value))
    }
}
