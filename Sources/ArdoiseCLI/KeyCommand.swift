import ArdoiseSupport
import ArgumentParser
import Certificates
import Foundation

/// `ardoise key`: the bench's Ed25519 signing key.
struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Clé de signature du banc / the bench's signing key.",
        subcommands: [KeyShowCommand.self, KeyExportPublicCommand.self]
    )
}

struct KeyShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Affiche la clé publique (JWK) et son empreinte RFC 7638 ; crée la clé au premier usage / prints the public JWK and its thumbprint, creating the key on first use."
    )

    @OptionGroup var options: ProofOptions
    @Flag(name: .customLong("json"), help: "Sortie JSON / JSON output.") var json = false

    func run() throws {
        options.applyLanguage()
        try reportingProofErrors {
            let key = try BenchKey.loadOrCreate(dataDirectory: options.resolvedDataDirectory)
            if json {
                struct Output: Encodable { var jwk: PublicJWK; var thumbprint: String; var path: String? }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                writeStandardOutput(try encoder.encode(Output(jwk: key.publicJWK, thumbprint: key.thumbprint, path: key.path)) + Data("\n".utf8))
            } else {
                let french = CurrentLanguage.value == .french
                print((french ? "Clé publique (JWK) : " : "Public key (JWK): ") + String(decoding: key.publicJWK.jsonData(), as: UTF8.self))
                print((french ? "Empreinte (RFC 7638) : " : "Thumbprint (RFC 7638): ") + key.thumbprint)
                if let path = key.path { print((french ? "Fichier : " : "File: ") + path) }
            }
        }
    }
}

struct KeyExportPublicCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-public",
        abstract: "Écrit la clé publique (JWK) pour l'enrôlement / writes the public JWK for enrolment."
    )

    @OptionGroup var options: ProofOptions
    @Option(name: .customLong("output"), help: "Fichier de sortie (sinon la sortie standard) / output file (default stdout).")
    var output: String?

    func run() throws {
        options.applyLanguage()
        try reportingProofErrors {
            let key = try BenchKey.loadOrCreate(dataDirectory: options.resolvedDataDirectory)
            let data = key.publicJWK.jsonData() + Data("\n".utf8)
            guard let output else { return writeStandardOutput(data) }
            do {
                try data.write(to: URL(fileURLWithPath: output), options: .atomic)
            } catch {
                throw CertificateError(code: .fileSystem, message: .init(fr: "Impossible d'écrire la clé publique.",
                                                                         en: "Cannot write the public key."), path: output)
            }
        }
    }
}
