import ArgumentParser

struct IdentifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "identify", abstract: "Not built yet.")
    func run() throws { throw ValidationError("'identify' is not built yet") }
}
