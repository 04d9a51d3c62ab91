import ArdoiseSupport

/// The diagnostics module's one domain error: a stable code, where (file, line, field for a
/// policy file) and what to do, in French and English.
///
/// A drive whose SMART cannot be read is not an error: it gets the `unknown` verdict. This
/// error is for what stops `ardoise health` itself (a bad policy file, a bad argument).
public struct DiagnosticsError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Codable {
        /// A policy file is malformed or inconsistent (`file`, `line`, `field` say where).
        case invalidPolicy = "invalid_policy"
        /// A policy file could not be read (or the built-in one was not found).
        case policyUnreadable = "policy_unreadable"
    }

    public let code: Code
    public let message: LocalizedText
    public let file: String?
    public let line: Int?
    public let field: String?

    public init(code: Code, message: LocalizedText, file: String? = nil, line: Int? = nil, field: String? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.field = field
    }

    /// `FILE:LINE: field 'x': message`, in the chosen language.
    public func text(in language: Language) -> String {
        message.located(file: file, line: line, field: field, in: language)
    }

    public var description: String { text(in: CurrentLanguage.value) }

    /// The documented exit status (docs/exit-codes.md, 85–88 range).
    public var exitCode: Int32 { 88 }
}
