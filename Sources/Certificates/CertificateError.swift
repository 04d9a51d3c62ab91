import ArdoiseSupport
import Foundation

/// The one error of the Certificates module (keys, issuing, rendering), shaped like
/// swift-subprocess's `SubprocessError`. Verification never throws for a bad document: it
/// returns a `VerificationReport` whose verdict says what is wrong.
public struct CertificateError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        /// The key file is readable by others than its owner (mode must be 0600).
        public static let keyFileInsecure = Code(rawValue: 1)
        /// The key file is not a valid Ed25519 private JWK.
        public static let keyFileInvalid = Code(rawValue: 2)
        /// Reading or writing a file failed (key, certificate, PDF, output directory).
        public static let fileSystem = Code(rawValue: 3)
        /// A trusted-keys or `--key` file is not a JWK or JWK Set of Ed25519 keys.
        public static let trustedKeysInvalid = Code(rawValue: 4)
        /// libharu or libqrencode failed to build the PDF.
        public static let rendering = Code(rawValue: 5)
        /// The input cannot make a certificate (e.g. no drive serial).
        public static let invalidInput = Code(rawValue: 6)

        public var description: String {
            switch self {
            case .keyFileInsecure: "keyFileInsecure"
            case .keyFileInvalid: "keyFileInvalid"
            case .fileSystem: "fileSystem"
            case .trustedKeysInvalid: "trustedKeysInvalid"
            case .rendering: "rendering"
            case .invalidInput: "invalidInput"
            default: "code\(rawValue)"
            }
        }
    }

    public let code: Code
    public let underlyingErrno: Int32?
    public let path: String?
    public let message: LocalizedText

    public init(code: Code, message: LocalizedText, path: String? = nil, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.underlyingErrno = errno
    }

    /// Exit status for the CLI: 20 + code (journal errors use 10–19, verdicts 0–5).
    public var exitStatus: Int32 { Int32(20 + code.rawValue) }

    public func text(in language: Language) -> String {
        var parts = [message.text(in: language)]
        if let path { parts.append("(\(path))") }
        if let underlyingErrno { parts.append("[errno \(underlyingErrno): \(String(cString: strerror(underlyingErrno)))]") }
        return parts.joined(separator: " ")
    }

    public var description: String { "CertificateError.\(code): " + text(in: CurrentLanguage.value) }
}
