import ArdoiseSupport
import ArgumentParser
import Bench
import DeviceKit
import Diagnostics
import Foundation
import Journal
import WipeEngine
#if canImport(Glibc)
import Glibc
#endif

/// `ardoise daemon`: the bench service (started by systemd/ardoise.service).
struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Le banc : détecte, efface et certifie les disques branchés / The bench: detects, erases and certifies plugged drives.")

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "Fichier de configuration / Configuration file.")
    var config: String = BenchConfig.defaultPath

    @Option(name: .long, help: "Source des événements : auto, udev, kernel / Hot-plug source.")
    var hotplugSource: String = "auto"

    /// The jobs' test pause points: set only by a test program (`ArdoiseCommand.main(daemonPauseHooks:)`),
    /// never from the command line, so the shipped `ardoise` has none.
    var pauseHooks: (any JobPauseHooks)?

    // `pauseHooks` is not an argument: it is left out of what the parser decodes.
    enum CodingKeys: String, CodingKey {
        case global, config, hotplugSource
    }

    func run() async throws {
        try global.applyLanguage()
        guard geteuid() == 0 else {
            printError(DeviceError(.needsRoot, path: "/dev").description)
            throw ExitCode(16)
        }
        let fileExists = FileManager.default.fileExists(atPath: config)
        var benchConfig = BenchConfig()
        if fileExists || config != BenchConfig.defaultPath {
            do {
                benchConfig = try BenchConfig.loadChecked(path: config).config
            } catch let error as BenchConfigError {
                printError(error.description)
                throw ExitCode(40)
            } catch let error as WipeEngineError {
                printError(error.description)
                throw ExitCode(42)
            }
        }
        CurrentLanguage.value = benchConfig.language
        let source: HotplugMonitor.Source
        switch hotplugSource {
        case "auto": source = .automatic
        case "udev": source = .udev
        case "kernel": source = .kernel
        default: throw ValidationError("--hotplug-source: auto | udev | kernel")
        }
        let daemon: BenchDaemon
        do {
            daemon = try BenchDaemon(config: benchConfig, configPath: fileExists ? config : nil, pauseHooks: pauseHooks)
        } catch let error as JournalError where error.code == .ownedByAnotherProcess {
            // A second daemon on the same data directory: say who holds it, distinct status.
            printError(error.text(in: CurrentLanguage.value))
            throw ExitCode(error.exitStatus)
        } catch let error as DiagnosticsError {
            // The health policy (`[health] policy`, /etc/ardoise/health.toml or the built-in one).
            printError(error.description)
            throw ExitCode(error.exitCode)
        } catch {
            printError("\(error)")
            throw ExitCode(44)
        }
        do {
            try await BenchService.run(daemon: daemon, socketPath: benchConfig.controlSocket, hotplugSource: source)
        } catch let error as ControlSocketError {
            printError(error.description)
            throw ExitCode(20)
        }
    }
}
