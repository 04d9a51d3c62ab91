import ArdoiseSupport
import ArgumentParser
import Certificates
import Foundation
import Journal

/// Options shared by `key`, `cert` and `journal`.
struct ProofOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Répertoire de données / data directory (default /var/lib/ardoise).")
    var dataDirectory: String?

    @Option(name: .customLong("lang"), help: "fr (défaut) ou en / fr (default) or en.")
    var languageCode: String?

    var resolvedDataDirectory: String { dataDirectory ?? JournalDatabase.defaultDataDirectory }

    func validate() throws {
        if let languageCode, Language(code: languageCode) == nil {
            throw ValidationError("--lang: fr | en")
        }
    }

    /// Applies `--lang` to the process-wide language.
    func applyLanguage() {
        if let languageCode, let language = Language(code: languageCode) { CurrentLanguage.value = language }
    }
}

/// Runs `body`, turning the module errors into a message on stderr and their distinct exit
/// status (journal 51–57, certificates 21–26).
func reportingProofErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as JournalError {
        printError(error.text(in: CurrentLanguage.value))
        throw ExitCode(error.exitStatus)
    } catch let error as CertificateError {
        printError(error.text(in: CurrentLanguage.value))
        throw ExitCode(error.exitStatus)
    }
}

func writeStandardOutput(_ data: Data) {
    FileHandle.standardOutput.write(data)
}
