import ArdoiseSupport
import ArgumentParser
import Diagnostics
import Foundation
import Journal

/// `ardoise journal jobs`: the jobs recorded on this bench, newest first.
struct JournalJobsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "Liste les travaux du journal / Lists the journal's jobs.")

    @OptionGroup var options: ProofOptions
    @Option(name: .long, help: "Seulement ce lot / Only this lot.") var lot: String?
    @Flag(name: .long, help: "Sortie JSON / JSON output.") var json = false

    func run() throws {
        options.applyLanguage()
        try reportingProofErrors {
            // Read-only look: no recovery, so listing never writes events.
            let journal = try JournalDatabase(dataDirectory: options.resolvedDataDirectory)
            let jobs = try journal.jobs(lot: lot).sorted { $0.startedAt > $1.startedAt }
            let certificates = try journal.certificates()
            if json {
                let rows: [Row] = try jobs.map { job in
                    let drive = try job.driveID.flatMap { try journal.drive(id: $0) }
                    let certificate = certificates.first { $0.jobID == job.id }
                    let resumption = try journal.resumption(jobID: job.id)
                    return Row(id: job.id.uuidString.lowercased(), status: job.status.rawValue, statusLabel: Self.label(job.status, CurrentLanguage.value),
                               health: try Self.healthVerdict(job.id, journal),
                               reason: job.reason, resumedFrom: resumption?.resumedFromJobID.uuidString.lowercased(),
                               firstPass: resumption.map { $0.firstPassIndex + 1 } ?? 1, profile: job.profile,
                               serial: drive?.serial, model: drive?.model, lot: job.lot,
                               startedAt: ISO8601DateFormatter().string(from: job.startedAt),
                               certificate: certificate?.jsonPath, certificateStatus: certificate?.status)
                }
                print(try JSONOutput.string(rows))
                return
            }
            for job in jobs {
                let drive = try job.driveID.flatMap { try journal.drive(id: $0) }
                let certificate = certificates.first { $0.jobID == job.id }
                // A resumed job names the job it continues and its first pass.
                let resumed = try journal.resumption(jobID: job.id).map { r in
                    CurrentLanguage.value == .french
                        ? "(reprend \(r.resumedFromJobID.uuidString.lowercased()) à la passe \(r.firstPassIndex + 1))"
                        : "(resumes \(r.resumedFromJobID.uuidString.lowercased()) at pass \(r.firstPassIndex + 1))"
                }
                let language = CurrentLanguage.value
                let health = try Self.healthVerdict(job.id, journal).flatMap(HealthVerdict.init(rawValue:)).map { $0.label.text(in: language) }
                print(([job.id.uuidString.lowercased(), ISO8601DateFormatter().string(from: job.startedAt), Self.label(job.status, language),
                        job.profile, drive.map { "\($0.model) \($0.serial)" } ?? "-",
                        certificate.map { Self.certificateLabel($0.status, language) } ?? "-"]
                       + (health.map { [$0] } ?? []) + [job.reason.map { Self.reasonLabel($0, language) } ?? "", resumed ?? ""])
                    .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
            }
        }
    }

    /// One job in `journal jobs --json` (absent values are `null`, as before).
    struct Row: Encodable {
        var id: String
        var status: String
        var statusLabel: String
        /// The health verdict code (`reuse`, `caution`, `discard`, `unknown`) read before the job.
        var health: String?
        var reason: String?
        var resumedFrom: String?
        var firstPass: Int
        var profile: String
        var serial: String?
        var model: String?
        var lot: String?
        var startedAt: String
        var certificate: String?
        var certificateStatus: String?

        enum CodingKeys: String, CodingKey {
            case id, status, statusLabel, health, reason, resumedFrom, firstPass, profile, serial, model, lot, startedAt, certificate, certificateStatus
        }

        // Explicit nulls: readers test `certificate is NSNull` for a job without one.
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(status, forKey: .status)
            try container.encode(statusLabel, forKey: .statusLabel)
            try container.encode(health, forKey: .health)
            try container.encode(reason, forKey: .reason)
            try container.encode(resumedFrom, forKey: .resumedFrom)
            try container.encode(firstPass, forKey: .firstPass)
            try container.encode(profile, forKey: .profile)
            try container.encode(serial, forKey: .serial)
            try container.encode(model, forKey: .model)
            try container.encode(lot, forKey: .lot)
            try container.encode(startedAt, forKey: .startedAt)
            try container.encode(certificate, forKey: .certificate)
            try container.encode(certificateStatus, forKey: .certificateStatus)
        }
    }

    /// The drive's health verdict code recorded before the job (`drive.health` event), if any.
    static func healthVerdict(_ jobID: UUID, _ journal: JournalDatabase) throws -> String? {
        guard let event = try journal.events(jobID: jobID).last(where: { $0.kind == JournalEventKind.driveHealth }),
              let object = try? JSONSerialization.jsonObject(with: Data(event.payload.utf8)) as? [String: Any],
              let report = object["report"] as? [String: Any] else { return nil }
        return report["verdict"] as? String
    }

    /// A job's state in the reader's language (the screen says one language; `--json` has the code).
    static func label(_ status: JobStatus, _ language: Language) -> String {
        let text: LocalizedText = switch status {
        case .running: LocalizedText(fr: "en cours", en: "running")
        case .completed: LocalizedText(fr: "terminé", en: "completed")
        case .completedWithExceptions: LocalizedText(fr: "terminé avec réserves", en: "completed with exceptions")
        case .failed: LocalizedText(fr: "échec", en: "failed")
        case .interrupted: LocalizedText(fr: "interrompu", en: "interrupted")
        }
        return text.text(in: language)
    }

    /// A certificate's status code (`erased`…) in the reader's language.
    static func certificateLabel(_ code: String, _ language: Language) -> String {
        let text: LocalizedText? = switch code {
        case "erased": LocalizedText(fr: "certificat : effacé", en: "certificate: erased")
        case "erased_with_exceptions": LocalizedText(fr: "certificat : effacé avec réserves", en: "certificate: erased with exceptions")
        case "not_erased": LocalizedText(fr: "certificat : non effacé", en: "certificate: not erased")
        default: nil
        }
        return text?.text(in: language) ?? code
    }

    /// The reasons the bench records itself, in the reader's language; others as recorded.
    static func reasonLabel(_ reason: String, _ language: Language) -> String {
        guard language == .french else { return reason }
        return switch reason {
        case "drive removed": "disque retiré"
        case "found running at start-up (crash or power loss)": "trouvé en cours au démarrage (plantage ou coupure de courant)"
        default: reason
        }
    }
}
