import ArgumentParser

struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "key", abstract: "Not built yet.")
    func run() throws { throw ValidationError("'key' is not built yet") }
}
