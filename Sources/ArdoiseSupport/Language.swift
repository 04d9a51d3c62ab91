import Foundation

/// The language of every message a person reads. French is the default: the benches are
/// run by French-speaking technicians; English is chosen with `--lang en` or `LANG=en*`.
public enum Language: String, Sendable, CaseIterable, Codable {
    case french = "fr"
    case english = "en"

    /// The language named by `LC_ALL`, `LC_MESSAGES` or `LANG` (first one set), French otherwise.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Language {
        for key in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            guard let value = environment[key], !value.isEmpty else { continue }
            return value.lowercased().hasPrefix("en") ? .english : .french
        }
        return .french
    }

    /// Parses `fr`/`en` (also `fr_FR.UTF-8`, `en-GB`…); nil for anything else.
    public init?(code: String) {
        let lower = code.lowercased()
        if lower.hasPrefix("fr") { self = .french } else if lower.hasPrefix("en") { self = .english } else { return nil }
    }
}

/// A sentence in both languages; the reader's language is picked at the last moment.
public struct LocalizedText: Sendable, Hashable, Codable, CustomStringConvertible {
    public var french: String
    public var english: String

    public init(fr french: String, en english: String) {
        self.french = french
        self.english = english
    }

    public func text(in language: Language) -> String {
        language == .french ? french : english
    }

    /// French, the default language.
    public var description: String { french }
}

/// The process-wide language choice, set once by the CLI from `--lang` or the environment.
public enum CurrentLanguage {
    private static let storage = LanguageBox()

    public static var value: Language {
        get { storage.get() }
        set { storage.set(newValue) }
    }
}

private final class LanguageBox: @unchecked Sendable {
    // Guarded by `lock`; written once at start-up by the CLI, read by message formatting.
    private let lock = NSLock()
    private var language = Language.fromEnvironment()
    func get() -> Language { lock.withLock { language } }
    func set(_ value: Language) { lock.withLock { language = value } }
}

extension LocalizedText {
    /// `FILE:LINE: field 'x': message` in `language`, the form every file-reading error takes
    /// (profiles, health policies); parts that are unknown are left out.
    public func located(file: String?, line: Int?, field: String?, in language: Language) -> String {
        var prefix = ""
        if let file {
            prefix += file
            if let line { prefix += ":\(line)" }
            prefix += ": "
        }
        if let field {
            prefix += language == .french ? "champ '\(field)' : " : "field '\(field)': "
        }
        return prefix + text(in: language)
    }
}
