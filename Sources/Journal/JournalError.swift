import ArdoiseSupport
import Foundation

/// The one error of the Journal module, shaped like swift-subprocess's `SubprocessError`:
/// a stable `code`, the underlying errno or SQLite result when there is one, the path, and a
/// readable description in French and English that says what to do.
public struct JournalError: Error, Sendable, CustomStringConvertible {
    /// Stable codes; the CLI maps them to exit statuses (`exitStatus`).
    public struct Code: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        /// The journal file exists but does not start with the SQLite header.
        public static let notADatabase = Code(rawValue: 1)
        /// SQLite opened the file but its content is damaged (`SQLITE_CORRUPT`, failed quick_check).
        public static let corrupt = Code(rawValue: 2)
        /// The data directory cannot be created or written.
        public static let dataDirectoryNotWritable = Code(rawValue: 3)
        /// The data directory path names something that is not a directory.
        public static let dataDirectoryNotADirectory = Code(rawValue: 4)
        /// Any other SQLite failure (disk full, locked for too long, I/O error…).
        public static let database = Code(rawValue: 5)
        /// A record the caller named (job, certificate…) does not exist.
        public static let notFound = Code(rawValue: 6)
        /// The journal was written by a newer Ardoise (unknown migration).
        public static let newerSchema = Code(rawValue: 7)
        /// A record with this id is already queued with other content. (8 is left to the
        /// owner-lock work of issue 11, `.ownedByAnotherProcess`.)
        public static let conflict = Code(rawValue: 9)

        public var description: String {
            switch self {
            case .notADatabase: "notADatabase"
            case .corrupt: "corrupt"
            case .dataDirectoryNotWritable: "dataDirectoryNotWritable"
            case .dataDirectoryNotADirectory: "dataDirectoryNotADirectory"
            case .database: "database"
            case .notFound: "notFound"
            case .newerSchema: "newerSchema"
            case .conflict: "conflict"
            default: "code\(rawValue)"
            }
        }
    }

    public let code: Code
    /// The errno behind a file-system failure, if any.
    public let underlyingErrno: Int32?
    /// The SQLite primary result code behind a database failure, if any.
    public let sqliteResultCode: Int32?
    /// The file or directory concerned.
    public let path: String?
    public let message: LocalizedText

    public init(code: Code, message: LocalizedText, path: String? = nil, errno: Int32? = nil, sqliteResultCode: Int32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.underlyingErrno = errno
        self.sqliteResultCode = sqliteResultCode
    }

    /// Exit status for the CLI: 10 + code, so each journal failure is distinct and none
    /// collides with `cert verify`'s 0–5.
    public var exitStatus: Int32 { Int32(50 + code.rawValue) }

    public func text(in language: Language) -> String {
        var parts = [message.text(in: language)]
        if let path { parts.append("(\(path))") }
        if let underlyingErrno { parts.append("[errno \(underlyingErrno): \(String(cString: strerror(underlyingErrno)))]") }
        if let sqliteResultCode { parts.append("[SQLite \(sqliteResultCode)]") }
        return parts.joined(separator: " ")
    }

    public var description: String { "JournalError.\(code): " + text(in: CurrentLanguage.value) }
}
