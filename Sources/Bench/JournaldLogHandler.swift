import Foundation
import Logging

/// One line per event on standard error, in the form journald reads from a service's
/// output: `<N>` (the syslog priority of the level, sd-daemon(3)), the logger's label, a
/// stable message, then the metadata as `key=value` pairs in key order (values with spaces
/// or quotes are quoted). Line breaks inside a message or value are escaped, so one event is
/// always one line.
///
///     <6>ardoise-daemon: slot arrived device=/dev/sdb diskseq=12 serial=S3Z9 state=waiting
public struct JournaldLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: @Sendable (String) -> Void

    /// Writes to standard error (what systemd gives to the journal).
    public init(label: String) {
        // One write(2) per line: lines from several threads never interleave.
        self.init(label: label) { line in FileHandle.standardError.write(Data(line.utf8)) }
    }

    /// Writes each formatted line (with its newline) through `write` (tests).
    public init(label: String, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        write(Self.line(label: label, level: event.level, message: event.message.description, metadata: all))
    }

    /// The syslog priority journald gives the line: debug 7, info 6, notice 5, warning 4,
    /// error 3, critical 2 (trace is debug).
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    public static func line(label: String, level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        var text = "<\(priority(level))>\(label): \(escape(message))"
        for key in metadata.keys.sorted() {
            text += " \(key)=\(quote(metadata[key].map(flatten) ?? ""))"
        }
        return text + "\n"
    }

    static func flatten(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let string): string
        case .stringConvertible(let value): value.description
        case .array(let values): values.map(flatten).joined(separator: ",")
        case .dictionary(let values): values.keys.sorted().map { "\($0):\(values[$0].map(flatten) ?? "")" }.joined(separator: ",")
        }
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
            .replacingOccurrences(of: "\r", with: "\\r")
    }

    static func quote(_ value: String) -> String {
        let escaped = escape(value)
        guard escaped.isEmpty || escaped.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) else { return escaped }
        return "\"" + escaped.replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
