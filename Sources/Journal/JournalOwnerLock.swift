import ArdoiseSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one process that owns a data directory's journal: it alone may start, recover or
/// rewrite jobs there.
///
/// An exclusive `flock(2)` on `journal.lock` next to the database, taken without waiting and
/// held until this value is released (normally the process's life); the holder's PID and
/// role are written in the file so that a refused process can name it. The kernel drops the
/// lock when the holder dies, even by `kill -9`, so a stale file never blocks a bench: the
/// next process takes the lock and recovers the jobs the dead one left "running".
///
/// Readers (`journal jobs`, `journal verify`, `cert lot`, `status`) do not take it.
public final class JournalOwnerLock: Sendable {
    public static let fileName = "journal.lock"

    /// Who holds the lock, as written in the lock file (stable codes).
    public enum Role: String, Sendable, CaseIterable {
        /// `ardoise daemon`: owns the journal for its whole life.
        case daemon
        /// `ardoise wipe`: owns it while its drives are erased.
        case wipe
        /// `ardoise sanitize`: owns it while a firmware erase runs.
        case sanitize
        /// Maintenance and test commands that write jobs (`journal _stress`).
        case maintenance

        var label: LocalizedText {
            switch self {
            case .daemon: LocalizedText(fr: "le démon du banc", en: "the bench daemon")
            case .wipe: LocalizedText(fr: "« ardoise wipe »", en: "'ardoise wipe'")
            case .sanitize: LocalizedText(fr: "« ardoise sanitize »", en: "'ardoise sanitize'")
            case .maintenance: LocalizedText(fr: "une commande de maintenance", en: "a maintenance command")
            }
        }
    }

    /// The data directory whose journal this lock owns.
    public let dataDirectory: String
    /// The lock file.
    public let path: String
    public let role: Role
    private let descriptor: Int32

    private init(dataDirectory: String, path: String, role: Role, descriptor: Int32) {
        self.dataDirectory = dataDirectory
        self.path = path
        self.role = role
        self.descriptor = descriptor
    }

    deinit {
        // Closing the only descriptor of the open file description releases the flock.
        close(descriptor)
    }

    /// Takes the lock of `dataDirectory` (created if missing) for `role`, without waiting.
    ///
    /// The descriptor is close-on-exec, so helper programs (smartctl…) never inherit it.
    /// - Throws: `JournalError` `.ownedByAnotherProcess` (with the holder's PID and role when
    ///   the file names them) if another process holds it; `.dataDirectoryNotWritable` /
    ///   `.dataDirectoryNotADirectory` if the lock file cannot be created.
    public static func acquire(dataDirectory: String, role: Role) throws -> JournalOwnerLock {
        try DataDirectory.prepare(dataDirectory)
        let path = (dataDirectory as NSString).appendingPathComponent(fileName)
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else {
            let code = errno
            throw JournalError(code: .dataDirectoryNotWritable, message: LocalizedText(
                fr: "Impossible de créer le verrou du journal ; vérifiez les droits du répertoire de données.",
                en: "Cannot create the journal's lock file; check the data directory's permissions."), path: path, errno: code)
        }
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            guard code == EWOULDBLOCK else {
                close(descriptor)
                throw JournalError(code: .dataDirectoryNotWritable, message: LocalizedText(
                    fr: "Impossible de verrouiller le journal.", en: "Cannot lock the journal."), path: path, errno: code)
            }
            let holder = readHolder(descriptor)
            close(descriptor)
            throw ownedError(path: path, holder: holder, requester: role)
        }
        // Ours now: replace whatever a previous (dead) holder wrote.
        let line = Array("\(getpid()) \(role.rawValue)\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = line.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        return JournalOwnerLock(dataDirectory: dataDirectory, path: path, role: role, descriptor: descriptor)
    }

    /// Who holds the lock of `dataDirectory` now, if anyone (nil when it is free). Does not
    /// keep the lock: it is taken shared for an instant and released.
    public static func holder(dataDirectory: String) -> Holder? {
        let path = (dataDirectory as NSString).appendingPathComponent(fileName)
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        if flock(descriptor, LOCK_SH | LOCK_NB) == 0 {
            flock(descriptor, LOCK_UN)
            return nil
        }
        return readHolder(descriptor) ?? Holder(pid: nil, role: nil)
    }

    /// The process named in the lock file.
    public struct Holder: Sendable, Equatable {
        public var pid: Int32?
        public var role: Role?
        public init(pid: Int32?, role: Role?) { self.pid = pid; self.role = role }
    }

    /// The holder writes its line right after taking the lock: retry briefly on an empty file.
    private static func readHolder(_ descriptor: Int32) -> Holder? {
        for attempt in 0..<20 {
            var buffer = [UInt8](repeating: 0, count: 64)
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                let fields = String(decoding: buffer.prefix(count), as: UTF8.self)
                    .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")
                if let first = fields.first, let pid = Int32(first) {
                    return Holder(pid: pid, role: fields.dropFirst().first.flatMap { Role(rawValue: String($0)) })
                }
            }
            if attempt < 19 { usleep(10_000) }
        }
        return nil
    }

    private static func ownedError(path: String, holder: Holder?, requester: Role) -> JournalError {
        let pid = holder?.pid.map(String.init) ?? "?"
        let who = holder?.role?.label ?? LocalizedText(fr: "un autre processus Ardoise", en: "another Ardoise process")
        let advice: LocalizedText
        switch (requester, holder?.role) {
        case (.daemon, _):
            advice = LocalizedText(fr: "Un seul démon par répertoire de données : arrêtez l'autre ou choisissez un autre répertoire de données.",
                                   en: "One daemon per data directory: stop the other one or choose another data directory.")
        case (_, .daemon?):
            advice = LocalizedText(fr: "Rien n'a été écrit. Confiez l'effacement au démon (« ardoise start DEV ») ou arrêtez-le d'abord.",
                                   en: "Nothing was written. Let the daemon erase the drive ('ardoise start DEV') or stop it first.")
        default:
            advice = LocalizedText(fr: "Rien n'a été écrit. Attendez la fin de ce processus ou choisissez un autre --data-dir.",
                                   en: "Nothing was written. Wait for that process to end or choose another --data-dir.")
        }
        return JournalError(code: .ownedByAnotherProcess, message: LocalizedText(
            fr: "Le journal de ce répertoire de données appartient à \(who.french) (PID \(pid)). " + advice.french,
            en: "This data directory's journal belongs to \(who.english) (PID \(pid)). " + advice.english),
            path: path, holderPID: holder?.pid)
    }
}
