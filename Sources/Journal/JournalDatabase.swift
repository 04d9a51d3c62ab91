import ArdoiseSupport
import Foundation
import GRDB

/// The bench's journal: one SQLite database (WAL mode) in the data directory, owning every
/// record of drives, jobs, passes, verifications, certificates and the hash-chained event log.
///
/// All methods block the calling thread on SQLite I/O: call them from the job's dedicated
/// thread or queue, never from the Swift concurrency pool. Every write that changes the state
/// of a job appends its event in the same transaction, so a crash leaves both or neither.
public struct JournalDatabase: Sendable {
    public static let defaultDataDirectory = "/var/lib/ardoise"
    public static let fileName = "journal.sqlite"

    /// The database file.
    public let path: String
    /// The writer (a `DatabasePool`, so WAL); internal so tests can tamper with rows.
    let dbWriter: any DatabaseWriter

    /// The owner lock this value was opened with, kept alive as long as the journal is.
    public let owner: JournalOwnerLock?

    /// Opens (creating if needed) the journal of `dataDirectory` and applies migrations.
    ///
    /// Only the owner may recover: with `owner` (the lock of this same directory), jobs left
    /// "running" by a dead process are marked interrupted; the lock proves no live process
    /// runs them. Without it the journal is opened as is (readers, `cert`, `status`…).
    ///
    /// A file that is not SQLite, or is damaged, is never overwritten or deleted: opening
    /// throws `JournalError` with `.notADatabase` or `.corrupt` and leaves it as it was.
    /// - Throws: `JournalError` (`.dataDirectoryNotWritable`, `.dataDirectoryNotADirectory`,
    ///   `.notADatabase`, `.corrupt`, `.newerSchema`, `.database`).
    public init(dataDirectory: String = JournalDatabase.defaultDataDirectory, owner: JournalOwnerLock? = nil) throws {
        precondition(owner.map { ($0.dataDirectory as NSString).standardizingPath == (dataDirectory as NSString).standardizingPath } ?? true,
                     "the owner lock belongs to another data directory")
        self.owner = owner
        try DataDirectory.prepare(dataDirectory)
        let path = (dataDirectory as NSString).appendingPathComponent(Self.fileName)
        self.path = path
        try Self.checkExistingFile(at: path)
        try Self.createOwnerOnlyFile(at: path)

        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // FULL: a certificate journal must survive power loss, not only a crash.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            dbWriter = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw Self.translate(error, path: path)
        }
        do {
            try dbWriter.read { db in
                if try Self.migrator.hasBeenSuperseded(db) {
                    throw JournalError(code: .newerSchema, message: LocalizedText(
                        fr: "Le journal a été écrit par une version plus récente d'Ardoise ; mettez Ardoise à jour.",
                        en: "The journal was written by a newer Ardoise; upgrade Ardoise."), path: path)
                }
            }
            try Self.migrator.migrate(dbWriter)
            // The reader that checked the schema above still has the old one cached, and GRDB
            // keeps a statement's column names from its first preparation: a `SELECT *` on a
            // table a migration rebuilt (outbox) would miss the new columns. Close idle readers.
            (dbWriter as? DatabasePool)?.releaseMemory()
        } catch {
            throw Self.translate(error, path: path)
        }
        if owner != nil {
            _ = try markRunningJobsInterrupted()
        }
    }

    /// Former entry point. `recoverInterruptedJobs: true` now means "become the owner": it
    /// takes the owner lock (role daemon) for as long as the journal value lives, and throws
    /// `.ownedByAnotherProcess` if another process holds it.
    @available(*, deprecated, message: "take a JournalOwnerLock and pass owner:")
    public init(dataDirectory: String, recoverInterruptedJobs: Bool) throws {
        let owner = recoverInterruptedJobs ? try JournalOwnerLock.acquire(dataDirectory: dataDirectory, role: .daemon) : nil
        try self.init(dataDirectory: dataDirectory, owner: owner)
    }

    // MARK: Migrations (stable names; never edit a migration once it has shipped)

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-initial") { db in
            try db.create(table: "drives") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("model", .text).notNull()
                t.column("serial", .text).notNull()
                t.column("wwn", .text)
                t.column("sizeInBytes", .integer).notNull()
                t.column("diskseq", .integer)
                t.column("devnum", .text)
                t.column("transport", .text)
                t.column("firmware", .text)
                t.column("smartSummaryJSON", .text)
                t.column("firstSeenAt", .datetime).notNull()
            }
            try db.create(index: "drives_identity", on: "drives", columns: ["serial", "model", "sizeInBytes"])
            try db.create(table: "jobs") { t in
                t.primaryKey("id", .text)
                t.column("driveID", .integer).references("drives")
                t.column("profile", .text).notNull()
                t.column("technician", .text).notNull()
                t.column("donor", .text)
                t.column("lot", .text).indexed()
                t.column("startedAt", .datetime).notNull()
                t.column("endedAt", .datetime)
                t.column("status", .text).notNull().indexed()
                    .check { ["running", "completed", "completed_with_exceptions", "failed", "interrupted"].contains($0) }
                t.column("reason", .text)
            }
            try db.create(table: "passes") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("jobID", .text).notNull().indexed().references("jobs")
                t.column("passIndex", .integer).notNull()
                t.column("kind", .text).notNull()
                t.column("patternHex", .text)
                t.column("prngAlgorithm", .text)
                t.column("seedSHA256", .text)
                t.column("bytesWritten", .integer).notNull()
                t.column("durationSeconds", .double).notNull()
                t.column("throughputBytesPerSecond", .double).notNull()
                t.column("errorsJSON", .text)
                t.column("badRangesJSON", .text)
            }
            try db.create(table: "verifications") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("jobID", .text).notNull().indexed().references("jobs")
                t.column("passIndex", .integer)
                t.column("mode", .text).notNull()
                t.column("samples", .integer).notNull()
                t.column("result", .text).notNull()
                t.column("firstBadOffsetsJSON", .text)
            }
            try db.create(table: "certificates") { t in
                t.primaryKey("id", .text)
                t.column("jobID", .text).notNull().indexed().references("jobs")
                t.column("jsonPath", .text).notNull()
                t.column("pdfPath", .text)
                t.column("signedJSONSHA256", .text).notNull()
                t.column("status", .text).notNull()
                t.column("issuedAt", .datetime).notNull()
            }
            try db.create(table: "firmware_secrets") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("jobID", .text).notNull().indexed().references("jobs")
                t.column("deviceSerial", .text).notNull()
                t.column("temporaryPassword", .text)
                t.column("createdAt", .datetime).notNull()
                t.column("clearedAt", .datetime)
            }
            try db.create(table: "outbox") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("certificateID", .text).notNull().indexed().references("certificates")
                t.column("payload", .text).notNull()
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("sentAt", .datetime)
            }
            try db.create(table: "events") { t in
                // Not AUTOINCREMENT: the journal assigns head + 1 so ids are dense and hashed.
                t.primaryKey("id", .integer)
                t.column("timeMilliseconds", .integer).notNull()
                t.column("kind", .text).notNull()
                t.column("jobID", .text).indexed()
                t.column("payload", .text).notNull()
                t.column("prevHash", .text).notNull()
                t.column("hash", .text).notNull()
            }
            // The chain's head, so that removing rows at the end is detected too.
            try db.create(table: "journal_head") { t in
                t.primaryKey("id", .integer).check { $0 == 1 }
                t.column("lastEventID", .integer).notNull()
                t.column("lastHash", .text).notNull()
            }
        }
        // Resuming a job after a re-plug: the seed that fixes every pass's data (a later
        // pass may be the complement of an earlier one), which job a job continues, and
        // when each pass ran (a certificate covering several jobs states the times).
        migrator.registerMigration("v2-resume") { db in
            try db.create(table: "job_seeds") { t in
                t.primaryKey("jobID", .text).references("jobs")
                t.column("seedHex", .text).notNull()
            }
            try db.create(table: "job_resumptions") { t in
                t.primaryKey("jobID", .text).references("jobs")
                t.column("resumedFromJobID", .text).notNull().indexed().references("jobs")
                t.column("firstPassIndex", .integer).notNull()
            }
            try db.alter(table: "passes") { t in
                t.add(column: "startedAt", .datetime)
                t.add(column: "endedAt", .datetime)
            }
        }
        // Inventory helper's migration (issue 12); the lead orders it among the branches' migrations.
        registerInventoryMigration(&migrator)
        registerOutboxDeliveryMigration(&migrator)
        return migrator
    }

    // MARK: Opening checks

    /// SQLite's file header, "SQLite format 3" and a NUL (sqlite.org/fileformat.html §1.3.1).
    private static let sqliteHeader: [UInt8] = Array("SQLite format 3".utf8) + [0]

    /// Refuses an existing file that is not SQLite or fails `quick_check`, before any writer
    /// (which would switch it to WAL) touches it.
    private static func checkExistingFile(at path: String) throws {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return }
        let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
        // An empty file is a valid empty database for SQLite.
        guard size > 0 else { return }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw JournalError(code: .dataDirectoryNotWritable, message: LocalizedText(
                fr: "Le journal existe mais ne peut pas être lu ; vérifiez les droits.",
                en: "The journal exists but cannot be read; check permissions."), path: path, errno: errno)
        }
        let header = (try? handle.read(upToCount: 16)).map { [UInt8]($0) } ?? []
        try? handle.close()
        guard header == sqliteHeader else {
            throw JournalError(code: .notADatabase, message: LocalizedText(
                fr: "Ce fichier n'est pas un journal SQLite ; il n'a pas été modifié. Déplacez-le ou choisissez un autre --data-dir.",
                en: "This file is not an SQLite journal; it was left untouched. Move it away or choose another --data-dir."),
                path: path)
        }
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            let result = try queue.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
            try queue.close()
            guard result == ["ok"] else {
                let detail = result.prefix(3).joined(separator: "; ")
                throw JournalError(code: .corrupt, message: LocalizedText(
                    fr: corruptMessage.french + " (\(detail))", en: corruptMessage.english + " (\(detail))"), path: path)
            }
        } catch let error as DatabaseError where error.resultCode.primaryResultCode == .SQLITE_CANTOPEN {
            // A read-only connection cannot rebuild a missing -shm next to a -wal left by a
            // crash; the writer opened next can, so leave the decision to it.
            return
        } catch {
            throw translate(error, path: path)
        }
    }

    /// Creates the journal empty with mode 0600 when missing (an empty file is a valid empty
    /// database): SQLite gives its -wal and -shm files the mode of the main file, and the
    /// journal holds temporary ATA passwords, so it must not be world-readable even when the
    /// data directory is.
    private static func createOwnerOnlyFile(at path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor >= 0 {
            close(descriptor)
            return
        }
        let code = errno
        guard code == EEXIST else {
            throw JournalError(code: .dataDirectoryNotWritable, message: LocalizedText(
                fr: "Impossible de créer le journal ; vérifiez les droits du répertoire de données.",
                en: "Cannot create the journal; check the data directory's permissions."), path: path, errno: code)
        }
    }

    private static let corruptMessage = LocalizedText(
        fr: "Le journal est endommagé ; il n'a pas été modifié. Gardez-en une copie et restaurez une sauvegarde.",
        en: "The journal is damaged; it was left untouched. Keep a copy and restore a backup.")

    static func translate(_ error: any Error, path: String) -> JournalError {
        if let error = error as? JournalError { return error }
        guard let error = error as? DatabaseError else {
            return JournalError(code: .database, message: LocalizedText(fr: "Erreur du journal : \(error)", en: "Journal error: \(error)"), path: path)
        }
        let primary = error.resultCode.primaryResultCode
        let sqlite = error.resultCode.rawValue
        switch primary {
        case .SQLITE_NOTADB:
            return JournalError(code: .notADatabase, message: LocalizedText(
                fr: "Ce fichier n'est pas un journal SQLite ; il n'a pas été modifié.",
                en: "This file is not an SQLite journal; it was left untouched."), path: path, sqliteResultCode: sqlite)
        case .SQLITE_CORRUPT:
            return JournalError(code: .corrupt, message: corruptMessage, path: path, sqliteResultCode: sqlite)
        case .SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_PERM:
            return JournalError(code: .dataDirectoryNotWritable, message: LocalizedText(
                fr: "Impossible d'écrire le journal ; vérifiez les droits et l'espace du répertoire de données.",
                en: "Cannot write the journal; check the data directory's permissions and free space."),
                path: path, sqliteResultCode: sqlite)
        default:
            return JournalError(code: .database, message: LocalizedText(
                fr: "Erreur SQLite : \(error.message ?? "\(error)")", en: "SQLite error: \(error.message ?? "\(error)")"),
                path: path, sqliteResultCode: sqlite)
        }
    }

    /// Runs a write transaction, translating SQLite errors into `JournalError`.
    func write<T>(_ updates: (Database) throws -> T) throws -> T {
        do { return try dbWriter.write(updates) } catch { throw Self.translate(error, path: path) }
    }

    /// Runs a read, translating SQLite errors into `JournalError`.
    func read<T>(_ value: (Database) throws -> T) throws -> T {
        do { return try dbWriter.read(value) } catch { throw Self.translate(error, path: path) }
    }
}

/// Creation and writability checks of the data directory.
public enum DataDirectory {
    /// Creates `path` (mode 0700) if missing, and proves it writable by creating and removing
    /// a probe file: `access(2)` would lie for root on a read-only mount.
    /// - Throws: `JournalError` `.dataDirectoryNotADirectory` or `.dataDirectoryNotWritable`.
    public static func prepare(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw JournalError(code: .dataDirectoryNotADirectory, message: LocalizedText(
                    fr: "Le répertoire de données n'est pas un répertoire ; choisissez un autre --data-dir.",
                    en: "The data directory is not a directory; choose another --data-dir."), path: path, errno: ENOTDIR)
            }
        } else if mkdir(path, 0o700) != 0, errno != EEXIST {
            let code = errno
            // Parents may be missing too: let FileManager create the chain, then re-check.
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw notWritable(path, errno: code)
            }
        }
        let probe = (path as NSString).appendingPathComponent(".ardoise-write-probe-\(getpid())")
        let descriptor = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let code = errno
            if code == EEXIST { unlink(probe); return }
            throw notWritable(path, errno: code)
        }
        close(descriptor)
        unlink(probe)
    }

    private static func notWritable(_ path: String, errno code: Int32) -> JournalError {
        JournalError(code: .dataDirectoryNotWritable, message: LocalizedText(
            fr: "Le répertoire de données n'est pas accessible en écriture ; montez un support persistant ou choisissez un autre --data-dir.",
            en: "The data directory is not writable; mount persistent media or choose another --data-dir."),
            path: path, errno: code)
    }
}
