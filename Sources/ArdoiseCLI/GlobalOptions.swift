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

/// Every `--json` output goes through Codable with the same settings: sorted keys (stable
/// diffs), no escaped slashes (paths), ISO 8601 dates. Members are stable codes; localized
/// words only in members named `label`/`…Label(s)` (docs/json-codes.md).
enum JSONOutput {
    static func data<T: Encodable>(_ value: T, pretty: Bool = true) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(value)
    }

    static func string<T: Encodable>(_ value: T, pretty: Bool = true) throws -> String {
        String(decoding: try data(value, pretty: pretty), as: UTF8.self)
    }
}
