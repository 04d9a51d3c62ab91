import ArdoiseSupport
import ArgumentParser
import Certificates
import Foundation
import Journal

/// `ardoise cert`: check, read and group erasure certificates.
struct CertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cert",
        abstract: "Certificats d'effacement / erasure certificates.",
        subcommands: [CertVerifyCommand.self, CertShowCommand.self, CertLotCommand.self]
    )
}

/// Where trusted keys come from: `--key`, `--trusted-keys`, and the bench's own key.
struct TrustOptions: ParsableArguments {
    @Option(name: .customLong("key"), help: "JWK de confiance (répétable) / trusted JWK file (repeatable).")
    var keyFiles: [String] = []

    @Option(name: .customLong("trusted-keys"), help: "JWK Set de confiance / trusted JWK Set file.")
    var trustedKeysFiles: [String] = []

    /// The keys given, plus the bench key of `dataDirectory` (never created here). The
    /// default data directory's key is used only when it already exists.
    func trustedKeys(dataDirectory: String?) throws -> TrustedKeys {
        var trusted = TrustedKeys()
        for path in keyFiles + trustedKeysFiles {
            for key in try TrustedKeys.load(path: path) { trusted.add(key) }
        }
        let directory = dataDirectory ?? JournalDatabase.defaultDataDirectory
        do {
            if let own = try BenchKey.existingPublicJWK(dataDirectory: directory) { trusted.add(own) }
        } catch where dataDirectory == nil {
            // The default bench key is a convenience: an unreadable one must not block checking
            // with explicit keys.
        }
        return trusted
    }
}

/// Verifies a file; an unreadable file exits 5 (distinct from every verdict).
func readCertificate(_ file: String, trusting trusted: TrustedKeys) throws -> VerificationReport {
    do {
        return try CertificateVerifier.verify(fileAt: file, trusting: trusted)
    } catch let error as CertificateError where error.code == .fileSystem {
        printError(error.text(in: CurrentLanguage.value))
        throw ExitCode(5)
    }
}

struct CertVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Vérifie un certificat JSON ou PDF / verifies a JSON or PDF certificate.",
        discussion: """
        Exit status: 0 valid, 2 tampered, 3 unknown key, 4 malformed (truncated, not a JWS, \
        unknown schema version, PDF without attachment), 5 unreadable file, 24 bad key file.
        """
    )

    @Argument(help: "Certificat (.json ou .pdf) / certificate file.") var file: String
    @OptionGroup var trust: TrustOptions
    @OptionGroup var options: ProofOptions
    @Flag(name: .customLong("json"), help: "Sortie JSON / JSON output.") var json = false

    func run() throws {
        options.applyLanguage()
        var report: VerificationReport?
        try reportingProofErrors {
            let trusted = try trust.trustedKeys(dataDirectory: options.dataDirectory)
            report = try readCertificate(file, trusting: trusted)
        }
        guard let report else { return }
        let language = CurrentLanguage.value
        if json {
            struct Output: Encodable {
                var verdict: String; var verdictLabel: String; var reasonLabels: [String]; var certificateID: String?; var status: String?
                var keyID: String?; var signedJSONSHA256: String?
            }
            let output = Output(verdict: report.verdict.rawValue, verdictLabel: report.verdict.label.text(in: language),
                                reasonLabels: report.reasons.map { $0.text(in: language) },
                                certificateID: report.payload?.id, status: report.payload?.result.status.rawValue,
                                keyID: report.keyID, signedJSONSHA256: report.signedJSONSHA256)
            writeStandardOutput((try JSONOutput.data(output)) + Data("\n".utf8))
        } else {
            print(report.verdict.label.text(in: language))
            for reason in report.reasons { print("  " + reason.text(in: language)) }
            if let payload = report.payload, report.verdict == .valid {
                let summary = CertificateSummary(payload: payload, keyID: report.keyID, sha256: report.signedJSONSHA256, language: language)
                print("  \(payload.id) · \(payload.media.model) \(payload.media.serial) · \(summary.statusLabel)")
            }
        }
        if report.verdict != .valid { throw ExitCode(report.verdict.exitStatus) }
    }
}

struct CertShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Affiche un certificat lisiblement / prints a certificate readably."
    )

    @Argument(help: "Certificat (.json ou .pdf) / certificate file.") var file: String
    @OptionGroup var trust: TrustOptions
    @OptionGroup var options: ProofOptions

    func run() throws {
        options.applyLanguage()
        try reportingProofErrors {
            let trusted = try trust.trustedKeys(dataDirectory: options.dataDirectory)
            let report = try readCertificate(file, trusting: trusted)
            let language = CurrentLanguage.value
            guard let payload = report.payload else {
                print(report.verdict.label.text(in: language))
                for reason in report.reasons { print("  " + reason.text(in: language)) }
                throw ExitCode(report.verdict.exitStatus)
            }
            print(CertificateSummary(payload: payload, keyID: report.keyID, sha256: report.signedJSONSHA256, language: language).text)
            print((language == .french ? "Vérification : " : "Verification: ") + report.verdict.label.text(in: language))
        }
    }
}

struct CertLotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lot",
        abstract: "Crée le PDF d'un lot à partir de certificats JSON valides / builds a lot PDF from valid JSON certificates."
    )

    @Argument(help: "Certificats JSON du lot / the lot's JSON certificates.") var files: [String]
    @Option(name: .customLong("output"), help: "PDF à écrire / PDF to write.") var output: String
    @Option(name: .long, help: "Le lot (défaut : celui du premier certificat) ; les certificats d'autres lots sont écartés / The lot (default: the first certificate's); certificates of other lots are left out.")
    var lot: String?
    @OptionGroup var trust: TrustOptions
    @OptionGroup var options: ProofOptions

    func run() throws {
        options.applyLanguage()
        let fr = CurrentLanguage.value == .french
        try reportingProofErrors {
            let trusted = try trust.trustedKeys(dataDirectory: options.dataDirectory)
            var payloads: [(file: String, payload: CertificatePayload)] = []
            for file in files {
                let report = try CertificateVerifier.verify(fileAt: file, trusting: trusted)
                guard report.verdict == .valid, let payload = report.payload else {
                    printError(file + (fr ? " : " : ": ") + report.verdict.label.text(in: CurrentLanguage.value))
                    throw ExitCode(report.verdict.exitStatus)
                }
                payloads.append((file, payload))
            }
            let selection = LotCertificatePDF.select(payloads.map(\.payload), lot: lot)
            let lotName = selection.lot ?? (fr ? "(sans lot)" : "(no lot)")
            for (file, payload) in payloads where payload.lot != selection.lot {
                // A notice, not an error: the PDF is still written.
                FileHandle.standardError.write(Data((fr ? "\(file) : lot « \(payload.lot ?? "-") », pas « \(lotName) » : écarté du PDF.\n"
                                                        : "\(file): lot '\(payload.lot ?? "-")', not '\(lotName)': left out of the PDF.\n").utf8))
            }
            let pdf = try LotCertificatePDF.render(payloads: selection.certificates, language: CurrentLanguage.value, skipped: selection.skipped)
            do {
                try pdf.write(to: URL(fileURLWithPath: output), options: .atomic)
            } catch {
                throw CertificateError(code: .fileSystem, message: .init(fr: "Impossible d'écrire le PDF.", en: "Cannot write the PDF."), path: output)
            }
            let count = selection.certificates.count
            let skipped = selection.skipped
            print(fr ? "Lot \(lotName) : \(count) certificat(s) dans \(output)" + (skipped > 0 ? " (\(skipped) d'un autre lot écarté(s))" : "")
                     : "Lot \(lotName): \(count) certificate(s) in \(output)" + (skipped > 0 ? " (\(skipped) of another lot left out)" : ""))
        }
    }
}
