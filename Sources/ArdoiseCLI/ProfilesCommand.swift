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

    @OptionGroup var global: GlobalOptions
    @OptionGroup var directories: ProfileDirectoryOptions
    @Flag(name: .long, help: "Sortie JSON (codes stables) / JSON output (stable codes).") var json = false

    /// One profile in `profiles --json`: codes; the title in the reader's language in `titleLabel`.
    struct Output: Encodable {
        struct Pass: Encodable { var kind: String; var verification: String; var writes: Bool }
        var name: String
        var titleLabel: String
        var standard: String
        var nistCategory: String
        var onError: String
        var firmwareMethod: String?
        var passes: [Pass]
        var sourcePath: String?
    }

    func run() throws {
        try global.applyLanguage()
        let library = try directories.load()
        guard json else {
            print(ProfileCatalog.table(library, language: CurrentLanguage.value))
            return
        }
        let language = CurrentLanguage.value
        print(try JSONOutput.string(library.profiles.map { profile in
            Output(name: profile.name, titleLabel: profile.title.text(in: language), standard: profile.standard,
                   nistCategory: profile.nistCategory.rawValue, onError: profile.onError.rawValue,
                   firmwareMethod: profile.firmware?.method,
                   passes: profile.passes.map { Output.Pass(kind: $0.pattern.kindName, verification: $0.verification.description, writes: $0.writes) },
                   sourcePath: profile.sourcePath)
        }))
    }
}

struct ShowProfile: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Affiche les passes d'un profil / Show a profile's passes.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var directories: ProfileDirectoryOptions

    @Argument(help: "Nom du profil / Profile name.")
    var name: String

    func run() throws {
        try global.applyLanguage()
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
