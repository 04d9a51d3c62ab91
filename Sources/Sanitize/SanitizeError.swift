import ArdoiseSupport
import DeviceKit

/// The one domain error of the Sanitize module (shaped like swift-subprocess's
/// `SubprocessError`): a code, an optional errno, the context, and a message for the technician
/// in French and English that says what happened and what to do.
public struct SanitizeError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Codable {
        /// The drive does not implement the requested method.
        case unsupported
        /// Security or sanitize freeze lock is set (BIOS/firmware froze the drive at boot).
        case frozen
        /// The drive is locked by an unknown password.
        case locked
        /// Too many wrong passwords: the drive needs a power cycle (ACS-3 §4.18, word 128 bit 4).
        case countExpired
        /// A command did not complete in time.
        case timedOut
        /// The drive rejected a command or reported a failed erase.
        case commandFailed
        /// The erase ran but the post-conditions do not hold.
        case verificationFailed
        /// A data structure (IDENTIFY dump, log page, sense) is malformed.
        case malformedData
        /// The transport failed (open, ioctl, bridge without pass-through).
        case transport
        /// No temporary password is recorded for this drive.
        case noRecordedPassword
        /// The secret store could not record the temporary password.
        case secretStore
        /// The arguments do not fit the drive (wrong device type for the method…).
        case invalidRequest
    }

    public var code: Code
    public var errno: Int32?
    /// Device and operation, e.g. "ata-security-erase on WDC WD5000 (serial WX1…)".
    public var context: String
    public var message: LocalizedText

    public init(_ code: Code, context: String = "", errno: Int32? = nil, message: LocalizedText) {
        self.code = code
        self.context = context
        self.errno = errno
        self.message = message
    }

    public var description: String {
        var text = "SanitizeError.\(code.rawValue)"
        if !context.isEmpty { text += " [\(context)]" }
        text += ": \(message.text(in: CurrentLanguage.value))"
        if let errno { text += " (errno \(errno))" }
        return text
    }

    /// The process exit status the CLI uses for this error (docs/firmware-erase.md).
    public var exitCode: Int32 {
        switch code {
        case .unsupported: return 73
        case .frozen: return 74
        case .locked, .countExpired, .noRecordedPassword: return 75
        case .timedOut: return 76
        case .commandFailed, .verificationFailed: return 77
        case .malformedData, .invalidRequest: return 78
        case .transport, .secretStore: return 79
        }
    }

    static func malformed(_ what: String, _ detail: String) -> SanitizeError {
        SanitizeError(.malformedData, context: what,
                      message: LocalizedText(fr: "données \(what) invalides : \(detail)", en: "malformed \(what): \(detail)"))
    }

    static func wrapping(_ error: PassthroughError) -> SanitizeError {
        let code: Code = error.code == .timedOut ? .timedOut : .transport
        return SanitizeError(code, context: error.context, errno: error.errno, message: error.message)
    }

    /// The plain-words advice for a frozen drive (ACS-3 §4.18.5: only a power cycle or a
    /// hardware reset leaves the frozen state).
    static let frozenAdvice = LocalizedText(
        fr: "Le disque est gelé (freeze lock posé par le BIOS au démarrage). Débranchez puis rebranchez le câble d'alimentation/données du disque à chaud, ou mettez le banc en veille puis réveillez-le (`ardoise sanitize --unfreeze`), puis relancez.",
        en: "The drive is frozen (freeze lock set by the BIOS at boot). Unplug and re-plug the drive's power/data cable while running, or suspend and resume the bench (`ardoise sanitize --unfreeze`), then try again.")
}
