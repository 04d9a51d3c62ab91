import Foundation
import Journal

/// The daemon's journal work (SQLite reads and writes, the outbox summary, the files they
/// imply) on one serial queue of its own, so the actor never waits on the disk and journal
/// writes keep their order. A job's own rows are written by its `ErasureSession`.
final class JournalWriter: Sendable {
    let journal: JournalDatabase
    private let queue = DispatchQueue(label: "ardoise-journal")

    init(journal: JournalDatabase) { self.journal = journal }

    /// Runs `work` on the journal's queue and returns its result.
    func run<T: Sendable>(_ work: @escaping @Sendable (JournalDatabase) -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { [journal] in continuation.resume(returning: work(journal)) }
        }
    }

    /// Queues `work` and returns at once (an event whose result nobody waits for).
    func submit(_ work: @escaping @Sendable (JournalDatabase) -> Void) {
        queue.async { [journal] in work(journal) }
    }
}
