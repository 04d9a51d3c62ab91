import ArgumentParser
import ArdoiseSupport

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
