import ArdoiseSupport
import ArgumentParser
import WipeEngine

/// `ardoise profiles` lists the erasure profiles; `ardoise profiles show NAME` prints one's passes.
struct ProfilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles",
        abstract: "Profils d'effacement / Erasure profiles.",
        subcommands: [ListProfiles.self, ShowProfile.self],
        defaultSubcommand: ListProfiles.self
    )
}

/// Where profiles come from; shared by the `profiles` subcommands.
struct ProfileDirectoryOptions: ParsableArguments {
    @Option(name: .customLong("profiles-dir"), help: "Dossier des profils intégrés / Built-in profiles directory.")
    var profilesDirectory: String?

    @Option(name: .customLong("extra-profiles-dir"), help: "Profils ajoutés / Added profiles (default /etc/ardoise/profiles).")
    var extraDirectory: String = ProfileLibrary.systemDirectory

    func load() throws -> ProfileLibrary {
        do {
            return try ProfileLibrary.loadStandard(explicitDirectory: profilesDirectory, systemDirectory: extraDirectory)
        } catch {
            throw ProfilesCommandFailure(message: error.text(in: CurrentLanguage.value))
        }
    }
}

struct ListProfiles: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Liste les profils / List the profiles.")

    @OptionGroup var directories: ProfileDirectoryOptions

    func run() throws {
        print(ProfileCatalog.table(try directories.load(), language: CurrentLanguage.value))
    }
}

struct ShowProfile: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Affiche les passes d'un profil / Show a profile's passes.")

    @OptionGroup var directories: ProfileDirectoryOptions

    @Argument(help: "Nom du profil / Profile name.")
    var name: String

    func run() throws {
        let library = try directories.load()
        do {
            let profile = try library.requireProfile(named: name)
            ProfileCatalog.details(profile, language: CurrentLanguage.value).forEach { print($0) }
        } catch {
            throw ProfilesCommandFailure(message: error.text(in: CurrentLanguage.value))
        }
    }
}

/// A failure printed as `Error: message` without the usage text (the input was well-formed).
struct ProfilesCommandFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
