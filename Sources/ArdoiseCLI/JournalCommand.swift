import ArgumentParser

struct JournalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "journal", abstract: "Not built yet.")
    func run() throws { throw ValidationError("'journal' is not built yet") }
}
