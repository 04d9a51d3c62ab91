import ArgumentParser
import ArdoiseSupport
import Bench

/// The `ardoise` root command: it only lists subcommands; each lives in its own file.
public struct ArdoiseCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ardoise",
        abstract: "Effacement certifié et diagnostic de disques / Certified drive erasure and diagnostics.",
        version: ArdoiseVersion.string,
        subcommands: [
            ListCommand.self,
            CheckCommand.self,
            WipeCommand.self,
            ProfilesCommand.self,
            IdentifyCommand.self,
            SanitizeCommand.self,
            KeyCommand.self,
            CertCommand.self,
            JournalCommand.self,
            DaemonCommand.self,
            StatusCommand.self,
            StartCommand.self,
            CancelCommand.self,
            SessionCommand.self,
            DashboardCommand.self,
            HealthCommand.self,
            InventoryCommand.self,
            PushCommand.self,
        ]
    )

    public init() {}
}

extension ArdoiseCommand {
    /// Runs the command line as `main()` does, and gives `ardoise daemon` the jobs' pause
    /// points `hooks`, and `ardoise sanitize` a drive to erase instead of the device it names
    /// (`sanitizeTestDrive`, given that name). For test programs only (`ardoise-testbed`);
    /// the shipped `ardoise` calls `main()`.
    public static func main(daemonPauseHooks hooks: (any JobPauseHooks)?,
                            sanitizeTestDrive: (@Sendable (String) throws -> SanitizeTestDrive)? = nil) async {
        do {
            var command = try parseAsRoot()
            if var daemon = command as? DaemonCommand {
                daemon.pauseHooks = hooks
                command = daemon
            }
            if var sanitize = command as? SanitizeCommand {
                sanitize.testDrive = sanitizeTestDrive
                command = sanitize
            }
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
