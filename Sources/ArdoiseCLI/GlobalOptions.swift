import ArdoiseSupport
import ArgumentParser
import DeviceKit
import Foundation

/// Options every command shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Langue des messages / message language: fr, en (défaut : LANG, sinon fr).")
    var lang: String?

    /// Applies `--lang` (or the environment) to every message printed afterwards.
    func applyLanguage() throws {
        if let lang {
            guard let language = Language(code: lang) else {
                throw ValidationError("--lang: fr | en")
            }
            CurrentLanguage.value = language
        } else {
            CurrentLanguage.value = Language.fromEnvironment()
        }
    }
}

/// Turns domain errors into one plain message on stderr and their documented exit code.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as DeviceError {
        printError(error.description)
        throw ExitCode(error.exitCode)
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data(((CurrentLanguage.value == .french ? "Erreur : " : "Error: ") + message + "\n").utf8))
}
