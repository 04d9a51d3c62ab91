import ArgumentParser

struct SanitizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sanitize", abstract: "Not built yet.")
    func run() throws { throw ValidationError("'sanitize' is not built yet") }
}
