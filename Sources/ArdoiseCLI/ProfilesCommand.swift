import ArgumentParser

struct ProfilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "profiles", abstract: "Not built yet.")
    func run() throws { throw ValidationError("'profiles' is not built yet") }
}
