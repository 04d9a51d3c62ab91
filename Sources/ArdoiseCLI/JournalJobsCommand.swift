import ArdoiseSupport
import ArgumentParser
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
            let journal = try JournalDatabase(dataDirectory: options.resolvedDataDirectory, recoverInterruptedJobs: false)
            let jobs = try journal.jobs(lot: lot).sorted { $0.startedAt > $1.startedAt }
            let certificates = try journal.certificates()
            if json {
                let rows: [[String: Any]] = try jobs.map { job in
                    let drive = try job.driveID.flatMap { try journal.drive(id: $0) }
                    let certificate = certificates.first { $0.jobID == job.id }
                    let resumption = try journal.resumption(jobID: job.id)
                    return ["health": try Self.healthVerdict(job.id, journal) ?? NSNull(), "id": job.id.uuidString.lowercased(), "status": job.status.rawValue, "reason": job.reason ?? NSNull(),
                            "resumedFrom": resumption?.resumedFromJobID.uuidString.lowercased() ?? NSNull(),
                            "firstPass": resumption.map { $0.firstPassIndex + 1 } ?? 1,
                            "profile": job.profile, "serial": drive?.serial ?? NSNull(), "model": drive?.model ?? NSNull(),
                            "lot": job.lot ?? NSNull(), "startedAt": ISO8601DateFormatter().string(from: job.startedAt),
                            "certificate": certificate?.jsonPath ?? NSNull(), "certificateStatus": certificate?.status ?? NSNull()]
                }
                let data = try JSONSerialization.data(withJSONObject: rows, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: data, as: UTF8.self))
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
                let health = try Self.healthVerdict(job.id, journal).map { (CurrentLanguage.value == .french ? "santé " : "health ") + $0 }
                print(([job.id.uuidString.lowercased(), ISO8601DateFormatter().string(from: job.startedAt), job.status.rawValue,
                        job.profile, drive.map { "\($0.model) \($0.serial)" } ?? "-", certificate?.status ?? "-"]
                       + (health.map { [$0] } ?? []) + [job.reason ?? "", resumed ?? ""])
                    .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
            }
        }
    }

    /// The health verdict journaled with the job (`drive.health` event), if one was read.
    static func healthVerdict(_ jobID: UUID, _ journal: JournalDatabase) throws -> String? {
        guard let event = try journal.events(jobID: jobID).last(where: { $0.kind == JournalEventKind.driveHealth }),
              let object = try? JSONSerialization.jsonObject(with: Data(event.payload.utf8)) as? [String: Any],
              let report = object["report"] as? [String: Any] else { return nil }
        return report["verdict"] as? String
    }
}
