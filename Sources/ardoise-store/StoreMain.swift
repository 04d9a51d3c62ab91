import ArdoiseSupport
import ArgumentParser
import Certificates
import Foundation
import Logging
import TraceStore

/// `ardoise-store`: the network's traceability store (docs/store.md).
@main
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ardoise-store",
        abstract: "Registre de traçabilité du réseau / The network's traceability store.",
        version: ArdoiseVersion.string,
        subcommands: [ServeCommand.self, BenchesCommand.self, AccessCommand.self, DeviceHubCommand.self]
    )
}

/// Options shared by every subcommand: language, configuration file, database.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "Langue des messages / message language: fr, en.")
    var lang: String?

    @Option(name: .long, help: "Fichier de configuration / configuration file (défaut / default: \(StoreConfig.defaultPath) s'il existe / if present).")
    var config: String?

    @Option(name: .long, help: "Base : chemin SQLite ou URL postgres:// / database: SQLite path or postgres:// URL.")
    var db: String?

    /// Applies the language, reads the configuration (the default file only when present),
    /// and lets `--db` override it.
    func resolve() throws -> StoreConfig {
        if let lang {
            guard let language = Language(code: lang) else { throw ValidationError("--lang: fr | en") }
            CurrentLanguage.value = language
        } else {
            CurrentLanguage.value = Language.fromEnvironment()
        }
        var resolved = StoreConfig()
        let path = config ?? (FileManager.default.fileExists(atPath: StoreConfig.defaultPath) ? StoreConfig.defaultPath : nil)
        if let path {
            do {
                resolved = try StoreConfig.load(path: path)
            } catch {
                throw StoreCommandError(code: .configInvalid, message: LocalizedText(fr: error.description, en: error.description))
            }
        }
        if let db { resolved.database = db }
        return resolved
    }
}

/// Runs `body` with the opened, migrated storage, closes it, and turns store errors into one
/// message and their exit status.
func withStorage<T>(_ config: StoreConfig, create: Bool = false, _ body: (any RecordStorage) async throws -> T) async throws -> T {
    let storage: any RecordStorage
    do {
        storage = try StorageOpener.open(config.database, maximumConnections: config.maximumConnections, create: create)
    } catch let error as StoreCommandError {
        fail(error)
    }
    do {
        try await storage.migrate()
        let result = try await body(storage)
        await storage.close()
        return result
    } catch let error as StoreCommandError {
        await storage.close()
        fail(error)
    } catch let error as ExitCode {
        await storage.close()
        throw error
    } catch {
        await storage.close()
        let detail = String(reflecting: error)
        // postgres-nio's pool reports every failed connection attempt as a tripped breaker.
        let cannotConnect = detail.contains("connectionCreationCircuitBreakerTripped")
        fail(StoreCommandError(code: .databaseUnavailable, message: LocalizedText(
            fr: "Base de données inaccessible (\(redacted(config.database))) : "
                + (cannotConnect ? "connexion impossible (serveur arrêté, hôte ou port faux, ou accès refusé)." : detail),
            en: "Database unreachable (\(redacted(config.database))): "
                + (cannotConnect ? "cannot connect (server down, wrong host or port, or access refused)." : detail))))
    }
}

func redacted(_ database: String) -> String { PostgresURL(database)?.redacted ?? database }

func fail(_ error: StoreCommandError) -> Never {
    FileHandle.standardError.write(Data(((CurrentLanguage.value == .french ? "Erreur : " : "Error: ") + error.description + "\n").utf8))
    exit(error.code.rawValue)
}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Sert l'API et les pages / serves the API and the pages.")

    @OptionGroup var options: StoreOptions

    @Option(name: .long, help: "Adresse d'écoute hôte:port / listen address host:port (défaut / default 127.0.0.1:8080; port 0 = any).")
    var listen: String?

    func run() async throws {
        var config: StoreConfig
        do { config = try options.resolve() } catch let error as StoreCommandError { fail(error) }
        if let listen {
            guard let (host, port) = StoreConfig.parseListen(listen) else { throw ValidationError("--listen: host:port") }
            config.listenHost = host
            config.listenPort = port
        }
        var logger = Logger(label: "ardoise-store")
        logger.logLevel = .notice
        let settings = config
        try await withStorage(config, create: true) { storage in
            let server = StoreServer(service: TraceStoreService(storage: storage, maximumRecordBytes: settings.maximumRecordBytes),
                                     figuresSettings: settings.figures, limits: settings.limits)
            let app = server.application(host: settings.listenHost, port: settings.listenPort, logger: logger) { port in
                // One line on stdout, parsed by tests and scripts that start the store on port 0.
                FileHandle.standardOutput.write(Data(
                    "ardoise-store listening on http://\(settings.listenHost):\(port) (\(redacted(settings.database)))\n".utf8))
            }
            do {
                try await app.runService()
            } catch {
                throw StoreCommandError(code: .listenFailed, message: LocalizedText(
                    fr: "Le serveur s'est arrêté : \(error)", en: "The server stopped: \(error)"))
            }
        }
    }
}

struct BenchesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "benches", abstract: "Bancs autorisés / enrolled benches.",
        subcommands: [AddBench.self, ListBenches.self, RevokeBench.self])
}

struct AddBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Enregistre la clé publique d'un banc et crée son jeton / enrols a bench's public key and creates its token.")

    @OptionGroup var options: StoreOptions

    @Option(name: .long, help: "Nom du banc / bench name, e.g. \"Atelier de Rennes\".")
    var name: String

    @Option(name: .long, help: "Organisation.")
    var organisation: String

    @Option(name: .long, help: "Clé publique du banc (JWK, de « ardoise key export-public ») / the bench's public JWK.")
    var jwk: String

    @Option(name: .long, help: "Écrit le jeton dans ce fichier (mode 0600) au lieu de l'afficher / writes the token to this file (mode 0600) instead of printing it.")
    var tokenFile: String?

    @Flag(name: .long, help: "Sortie JSON / JSON output.")
    var json = false

    func run() async throws {
        let config: StoreConfig
        do { config = try options.resolve() } catch let error as StoreCommandError { fail(error) }
        let key: PublicJWK
        do {
            let keys = try TrustedKeys.load(path: jwk)
            guard keys.count == 1 else { throw CertificateError(code: .trustedKeysInvalid, message: LocalizedText(fr: "", en: ""), path: jwk) }
            key = keys[0]
        } catch {
            fail(StoreCommandError(code: .keyFileInvalid, message: LocalizedText(
                fr: "\(jwk) : une seule clé publique Ed25519 (JWK) attendue, comme l'écrit « ardoise key export-public ».",
                en: "\(jwk): exactly one Ed25519 public key (JWK) expected, as `ardoise key export-public` writes it.")))
        }
        if let tokenFile, FileManager.default.fileExists(atPath: tokenFile) {
            fail(StoreCommandError(code: .tokenFile, message: LocalizedText(
                fr: "\(tokenFile) existe déjà ; il n'a pas été modifié.", en: "\(tokenFile) already exists; it was left untouched.")))
        }
        let name = self.name, organisation = self.organisation, tokenFile = self.tokenFile, json = self.json
        try await withStorage(config, create: true) { storage in
            let (bench, token) = try await TraceStoreService(storage: storage).enrol(name: name, organisation: organisation, publicJWK: key)
            if let tokenFile {
                try writeSecret(token + "\n", to: tokenFile)
            }
            if json {
                var object: [String: Any] = ["id": bench.id, "name": bench.name, "organisation": bench.organisation, "keyID": bench.keyID]
                if tokenFile == nil { object["token"] = token } else { object["tokenFile"] = tokenFile! }
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            let fr = CurrentLanguage.value == .french
            print(fr ? "Banc enregistré : \(bench.name) (\(bench.organisation))" : "Bench enrolled: \(bench.name) (\(bench.organisation))")
            print("  id:  \(bench.id)")
            print("  kid: \(bench.keyID)")
            if let tokenFile {
                print(fr ? "  jeton écrit dans \(tokenFile) (mode 0600)" : "  token written to \(tokenFile) (mode 0600)")
            } else {
                print(fr ? "  jeton (affiché une seule fois, le registre n'en garde que l'empreinte) :"
                         : "  token (shown once; the store keeps only its hash):")
                print(token)
            }
        }
    }
}

/// Creates `path` with mode 0600 (O_EXCL: never over an existing file) and writes `text`.
func writeSecret(_ text: String, to path: String) throws {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else {
        throw StoreCommandError(code: .tokenFile, message: LocalizedText(
            fr: "Impossible de créer \(path) : \(String(cString: strerror(errno)))", en: "Cannot create \(path): \(String(cString: strerror(errno)))"))
    }
    defer { close(descriptor) }
    let data = Data(text.utf8)
    let written = data.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    guard written == data.count, fsync(descriptor) == 0 else {
        unlink(path)
        throw StoreCommandError(code: .tokenFile, message: LocalizedText(fr: "Impossible d'écrire \(path).", en: "Cannot write \(path)."))
    }
}

struct ListBenches: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Liste les bancs / lists the benches.")

    @OptionGroup var options: StoreOptions

    @Flag(name: .long, help: "Sortie JSON / JSON output.")
    var json = false

    func run() async throws {
        let config: StoreConfig
        do { config = try options.resolve() } catch let error as StoreCommandError { fail(error) }
        let json = self.json
        try await withStorage(config) { storage in
            let benches = try await storage.benches()
            if json {
                let objects: [[String: Any]] = benches.map { bench in
                    var object: [String: Any] = ["id": bench.id, "name": bench.name, "organisation": bench.organisation,
                                                 "keyID": bench.keyID, "enrolledAt": ISO8601DateFormatter().string(from: bench.enrolledAt),
                                                 "status": bench.isRevoked ? "revoked" : "active"]
                    if let revoked = bench.revokedAt { object["revokedAt"] = ISO8601DateFormatter().string(from: revoked) }
                    return object
                }
                let data = try JSONSerialization.data(withJSONObject: ["benches": objects], options: [.sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            let fr = CurrentLanguage.value == .french
            if benches.isEmpty { print(fr ? "Aucun banc enregistré." : "No bench enrolled.") }
            for bench in benches {
                let state = bench.isRevoked ? (fr ? "révoqué" : "revoked") : (fr ? "actif" : "active")
                print("\(bench.id)  \(state)  \(bench.name) — \(bench.organisation)  kid \(bench.keyID)")
            }
        }
    }
}

struct RevokeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Révoque le jeton d'un banc / revokes a bench's token.")

    @OptionGroup var options: StoreOptions

    @Argument(help: "Identifiant du banc, ou son nom exact / the bench's id, or its exact name.")
    var bench: String

    func run() async throws {
        let config: StoreConfig
        do { config = try options.resolve() } catch let error as StoreCommandError { fail(error) }
        let wanted = bench
        try await withStorage(config) { storage in
            let all = try await storage.benches()
            let matches = all.filter { $0.id == wanted.lowercased() || $0.name == wanted }.filter { !$0.isRevoked }
            guard matches.count == 1, let target = matches.first else {
                throw StoreCommandError(code: .benchNotFound, message: LocalizedText(
                    fr: matches.isEmpty ? "Aucun banc actif « \(wanted) » (voir « ardoise-store benches list »)."
                                        : "Plusieurs bancs actifs s'appellent « \(wanted) » : donnez l'identifiant.",
                    en: matches.isEmpty ? "No active bench '\(wanted)' (see `ardoise-store benches list`)."
                                        : "Several active benches are named '\(wanted)': give the id."))
            }
            _ = try await storage.revokeBench(id: target.id, at: Date())
            print(CurrentLanguage.value == .french ? "Banc révoqué : \(target.name) (\(target.id))" : "Bench revoked: \(target.name) (\(target.id))")
        }
    }
}

struct AccessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "access", abstract: "Codes d'accès des donateurs / donors' access codes.",
        subcommands: [AddAccess.self])
}

struct AddAccess: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Crée un code d'accès à un lot ou aux dons d'un donateur (affiché une fois) / creates an access code to a lot or a donor's donations (shown once).")

    @OptionGroup var options: StoreOptions

    @Option(name: .long, help: "Le lot, tel que les certificats le portent / the lot, as the certificates carry it.")
    var lot: String?

    @Option(name: .long, help: "Le donateur, tel que les certificats le portent / the donor, as the certificates carry it.")
    var donor: String?

    func validate() throws {
        guard (lot == nil) != (donor == nil) else { throw ValidationError("--lot ou / or --donor (un seul / exactly one)") }
    }

    func run() async throws {
        let config: StoreConfig
        do { config = try options.resolve() } catch let error as StoreCommandError { fail(error) }
        let scope: AccessGrant.Scope = lot != nil ? .lot : .donor
        let value = lot ?? donor ?? ""
        try await withStorage(config) { storage in
            let code = try await TraceStoreService(storage: storage).createAccessCode(scope: scope, value: value)
            let base = config.publicURL ?? "http://\(config.listenHost):\(config.listenPort)"
            print(CurrentLanguage.value == .french ? "Code d'accès (affiché une seule fois) : \(code)" : "Access code (shown once): \(code)")
            print("\(base)/acces?code=\(code)")
        }
    }
}

struct DeviceHubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devicehub",
        abstract: "Envoie les inventaires d'un lot à eReuse DeviceHub / sends a lot's inventories to eReuse DeviceHub.")

    @OptionGroup var options: StoreOptions

    @Option(name: .long, help: "Le lot / the lot.")
    var lot: String

    @Option(name: .long, help: "Adresse de DeviceHub / DeviceHub's base URL, e.g. https://devicehub.example.org")
    var url: String

    @Option(name: .long, help: "Fichier du jeton DeviceHub (mode 0600) / DeviceHub token file (mode 0600).")
    var tokenFile: String?

    @Flag(name: .long, help: "Construit les snapshots et les affiche sans rien envoyer / builds and prints the snapshots, sends nothing.")
    var dryRun = false

    func run() async throws {
        let config: StoreConfig
        do { config = try options.resolve() } catch let error as StoreCommandError { fail(error) }
        guard let base = URL(string: url), base.scheme == "https" || base.scheme == "http" else { throw ValidationError("--url: https://…") }
        var token = ""
        if !dryRun {
            guard let tokenFile, let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw ValidationError("--token-file: le jeton DeviceHub est requis / the DeviceHub token is required")
            }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let publicURL = config.publicURL ?? "http://\(config.listenHost):\(config.listenPort)"
        let forwarder = DeviceHubForwarder(baseURL: base, token: token, publicURL: publicURL)
        let lot = self.lot, dryRun = self.dryRun
        let failed = try await withStorage(config) { storage -> Bool in
            var failed = false
            for (id, outcome, snapshot) in try await forwarder.forward(lot: lot, storage: storage, dryRun: dryRun) {
                switch outcome {
                case .sent(let dhid): print("sent \(id) dhid=\(dhid)")
                case .alreadyThere: print("already_there \(id)")
                case .refused("dry-run"): print(String(decoding: snapshot ?? Data(), as: UTF8.self))
                case .refused(let why): print("refused \(id): \(why)"); failed = true
                case .uncertain(let why): print("uncertain \(id): \(why)"); failed = true
                }
            }
            return failed
        }
        if failed { throw ExitCode(1) }
    }
}
