import ArdoiseSupport
import ArgumentParser
import ErasureRecords
import Foundation
import Journal

/// `ardoise journal`: the hash-chained SQLite journal.
struct JournalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Journal des effacements / erasure journal.",
        subcommands: [JournalVerifyCommand.self, JournalJobsCommand.self, JournalStressCommand.self]
    )
}

struct JournalVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Vérifie la chaîne de hachage du journal / checks the journal's hash chain. Exit 0 intact, 2 broken."
    )

    @OptionGroup var options: ProofOptions

    func run() throws {
        options.applyLanguage()
        try reportingProofErrors {
            // No recovery here: checking must not write events of its own.
            let journal = try JournalDatabase(dataDirectory: options.resolvedDataDirectory)
            let french = CurrentLanguage.value == .french
            switch try journal.verifyChain() {
            case .intact(let count):
                print(french ? "Journal intact : \(count) événements chaînés." : "Journal intact: \(count) chained events.")
            case .broken(let eventID, let reason):
                let why = switch reason {
                case .contentEdited: french ? "contenu modifié" : "content edited"
                case .linkBroken: french ? "lien rompu (ligne supprimée ou modifiée avant)" : "link broken (a row before was deleted or edited)"
                case .headMismatch: french ? "fin du journal supprimée" : "end of the journal removed"
                }
                print(french ? "Journal ALTÉRÉ à l'événement \(eventID) : \(why)." : "Journal TAMPERED at event \(eventID): \(why).")
                throw ExitCode(2)
            }
        }
    }
}

/// Hidden: appends jobs, passes and events in a loop until killed. The kill -9 survival
/// test runs it and kills it at random moments.
struct JournalStressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "_stress", shouldDisplay: false)

    @OptionGroup var options: ProofOptions
    @Option(name: .customLong("iterations"), help: "Stop after N jobs (default: run until killed).") var iterations: Int?

    func run() throws {
        try reportingProofErrors {
            let owner = try JournalOwnerLock.acquire(dataDirectory: options.resolvedDataDirectory, role: .maintenance)
            let journal = try JournalDatabase(dataDirectory: options.resolvedDataDirectory, owner: owner)
            // Unbuffered write: the test waits for this line before it starts killing.
            FileHandle.standardOutput.write(Data("ready\n".utf8))
            var count = 0
            while iterations.map({ count < $0 }) ?? true {
                let job = JobRecord(driveID: nil, profile: "stress", technician: "stress", lot: "stress")
                try journal.startJob(job)
                for index in 0..<3 {
                    try journal.recordPass(PassRecord(index: index + 1, kind: "pattern", patternHex: "00",
                                                      bytesWritten: 1 << 20, durationSeconds: 0.01, bytesPerSecond: 1e8), jobID: job.id)
                    try journal.appendEvent(kind: "stress.tick", jobID: job.id, payload: ["index": index])
                }
                try journal.finishJob(id: job.id, status: .completed)
                count += 1
            }
        }
    }
}
