import ArgumentParser

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Not built yet.")
    func run() throws { throw ValidationError("'list' is not built yet") }
}
