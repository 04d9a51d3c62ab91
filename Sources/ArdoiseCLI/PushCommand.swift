import ArdoiseSupport
import ArgumentParser
import Bench
import Foundation
import Journal
import StoreClient

/// `ardoise push`: sends the outbox to the store now, whatever the backoff, and says what
/// was sent, what the store already had, what it refused (parked, with its reason) and what
/// still waits. It reads the daemon's configuration (`[store]`, `[paths]`) and only reads and
/// updates outbox rows of the journal: it never recovers or touches jobs, so it is safe
/// while the daemon runs.
struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Envoie maintenant les certificats en attente au serveur / Send waiting records to the store now.")

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "Fichier de configuration du banc / The bench configuration file.")
    var config: String = BenchConfig.defaultPath

    @Flag(name: .long, help: "Sortie JSON / JSON output.") var json = false

    @Flag(name: .long, help: "Remet d'abord en file les envois refusés / Put refused records back in the queue first.")
    var retryParked = false

    /// Exit statuses (docs/exit-codes.md).
    enum Status {
        static let noStore: Int32 = 94
        static let storeSettings: Int32 = 95
        static let pending: Int32 = 96
        static let refused: Int32 = 97
    }

    func run() async throws {
        try global.applyLanguage()
        let language = CurrentLanguage.value
        let fr = language == .french
        let benchConfig: BenchConfig
        do {
            benchConfig = try BenchConfig.load(path: config)
        } catch {
            printError(error.description)
            throw ExitCode(40)
        }
        guard let store = benchConfig.store else {
            printError(fr ? "\(config) n'a pas de section [store] : aucun serveur où envoyer (voir docs/configuration.md)"
                          : "\(config) has no [store] section: no store to send to (see docs/configuration.md)")
            throw ExitCode(Status.noStore)
        }
        let journal: JournalDatabase
        do {
            // A reader, as `journal jobs` and `cert`: no owner lock, so running jobs are never
            // recovered here (the daemon or `wipe` owns them).
            journal = try JournalDatabase(dataDirectory: benchConfig.dataDirectory)
        } catch let error as JournalError {
            printError(error.text(in: language))
            throw ExitCode(error.exitStatus)
        }
        let transport: HTTPStoreTransport
        do {
            transport = try HTTPStoreTransport(settings: store)
        } catch {
            printError(error.text(in: language))
            throw ExitCode(Status.storeSettings)
        }
        if retryParked {
            do {
                try journal.requeueParkedOutbox()
            } catch let error as JournalError {
                printError(error.text(in: language))
                throw ExitCode(error.exitStatus)
            }
        }
        let sender = OutboxSender(journal: journal, transport: transport, tokenFile: store.tokenFile,
                                  retryPolicy: store.retryPolicy, language: language)
        let report = await sender.sendPending(ignoringSchedule: true)
        await sender.shutdown()

        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            print(String(decoding: try encoder.encode(PushOutput(store: store.url, report: report)), as: UTF8.self))
        } else {
            print(Self.text(report, store: store.url, language: language))
        }
        if report.stoppedBy?.code == DeliveryOutcome.LocalCode.token { throw ExitCode(Status.storeSettings) }
        if !report.parked.isEmpty { throw ExitCode(Status.refused) }
        if report.pending > 0 { throw ExitCode(Status.pending) }
    }

    /// The `--json` document: stable codes only, no localized words.
    struct PushOutput: Encodable {
        var store: String
        var sent: [PushReport.Item]
        var alreadyStored: [PushReport.Item]
        var refused: [PushReport.Item]
        var parked: [PushReport.Item]
        var pending: Pending

        struct Pending: Encodable {
            var count: Int
            /// Why the queue stopped: the store's error code or a local one (`store_unreachable`…).
            var code: String?
            var httpStatus: Int?
            var message: String?
            var nextAttemptAt: Date?
        }

        init(store: String, report: PushReport) {
            self.store = store
            sent = report.sent
            alreadyStored = report.alreadyStored
            refused = report.refused
            parked = report.parked
            pending = Pending(count: report.pending, code: report.stoppedBy?.code, httpStatus: report.stoppedBy?.httpStatus,
                              message: report.stoppedBy?.message, nextAttemptAt: report.stoppedBy?.nextAttemptAt)
        }
    }

    static func text(_ report: PushReport, store: String, language: Language) -> String {
        let fr = language == .french
        var lines = [(fr ? "Serveur : " : "Store: ") + store]
        func describe(_ item: PushReport.Item) -> String {
            "\(item.kind) \(item.recordID)"
        }
        for item in report.sent { lines.append((fr ? "envoyé          " : "sent            ") + describe(item)) }
        for item in report.alreadyStored { lines.append((fr ? "déjà présent    " : "already there   ") + describe(item)) }
        for item in report.parked {
            let reason = [item.httpStatus.map(String.init), item.code].compactMap { $0 }.joined(separator: " ")
            lines.append((fr ? "refusé          " : "refused         ") + describe(item) + " — \(reason) : \(item.message ?? "-")")
        }
        let counts = fr
            ? "\(report.sent.count) envoyé(s), \(report.alreadyStored.count) déjà présent(s), \(report.parked.count) refusé(s), \(report.pending) en attente d'envoi"
            : "\(report.sent.count) sent, \(report.alreadyStored.count) already there, \(report.parked.count) refused, \(report.pending) waiting to be sent"
        lines.append(counts)
        if let failure = report.stoppedBy {
            let status = failure.httpStatus.map { "HTTP \($0) " } ?? ""
            lines.append((fr ? "Arrêté : " : "Stopped: ") + "\(status)\(failure.code) — \(failure.message)")
        }
        if !report.parked.isEmpty {
            lines.append(fr ? "Les envois refusés sont gardés ; corrigez la cause puis « ardoise push --retry-parked »."
                            : "Refused records are kept; fix the cause, then `ardoise push --retry-parked`.")
        }
        return lines.joined(separator: "\n")
    }
}
