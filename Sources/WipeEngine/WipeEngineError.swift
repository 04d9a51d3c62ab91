import ArdoiseSupport

/// The wipe engine's one domain error, shaped like swift-subprocess's `SubprocessError`:
/// a code, the underlying `errno` when there is one, the context (file, line, field, target,
/// offset) and a readable message in French and English.
public struct WipeEngineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, stable across languages so callers and tests can match on it.
    public struct Code: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A profile file is malformed or inconsistent (`file`, `line`, `field` say where).
        public static let invalidProfile = Code(rawValue: "invalid-profile")
        /// Two profile files declare the same name.
        public static let duplicateProfile = Code(rawValue: "duplicate-profile")
        /// No profile has the requested name.
        public static let profileNotFound = Code(rawValue: "profile-not-found")
        /// No directory holding the built-in profiles was found.
        public static let profilesDirectoryNotFound = Code(rawValue: "profiles-directory-not-found")
        /// A directory or file could not be read.
        public static let unreadable = Code(rawValue: "unreadable")
        /// The target has no bytes: nothing to wipe, nothing to certify.
        public static let emptyTarget = Code(rawValue: "empty-target")
        /// The target's geometry cannot be driven (size or sector size inconsistent).
        public static let invalidTarget = Code(rawValue: "invalid-target")
        /// The job options are out of range (buffer size, seed…).
        public static let invalidOptions = Code(rawValue: "invalid-options")
        /// Opening or sizing an image file failed.
        public static let io = Code(rawValue: "io")
    }

    public let code: Code
    /// The `errno` behind the failure, if a system call failed.
    public let underlyingErrno: Int32?
    /// The file concerned (profile file, image path, directory).
    public let file: String?
    /// 1-based line in `file`, for profile errors.
    public let line: Int?
    /// The profile field at fault (`pass[3].byte`, `title.fr`…).
    public let field: String?
    /// What happened and what to do, in both languages.
    public let message: LocalizedText

    public init(
        code: Code, message: LocalizedText, file: String? = nil, line: Int? = nil,
        field: String? = nil, underlyingErrno: Int32? = nil
    ) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        self.underlyingErrno = underlyingErrno
    }

    /// `FILE:LINE: field 'x': message`, in the chosen language; parts that are unknown are left out.
    public func text(in language: Language) -> String {
        var text = message.located(file: file, line: line, field: field, in: language)
        if let underlyingErrno {
            text += " (errno \(underlyingErrno))"
        }
        return text
    }

    public var description: String { text(in: CurrentLanguage.value) }
}
