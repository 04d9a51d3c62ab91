import ArgumentParser

struct CertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cert", abstract: "Not built yet.")
    func run() throws { throw ValidationError("'cert' is not built yet") }
}
