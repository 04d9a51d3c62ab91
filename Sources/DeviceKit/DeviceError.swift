import ArdoiseSupport
import SystemPackage

/// Every way DeviceKit refuses or fails, with what a technician needs to read.
///
/// Shaped like swift-subprocess's `SubprocessError`: a stable `code`, the underlying `Errno`
/// when there is one, and the device path as context. Each code has its own process exit
/// status (see docs/exit-codes.md) so automation can tell them apart.
public struct DeviceError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        case notFound
        case isDirectory
        case isRegularFile
        case isCharacterDevice
        case notABlockDevice
        /// A partition was given; the payload is its whole disk (`/dev/sdb`).
        case isPartition(disk: String)
        /// The safety classification refused the drive; every reason is listed.
        case protected(reasons: [ProtectionReason])
        /// The kernel refused the exclusive open: mounted, claimed by another program.
        case inUse
        /// The device disappeared between listing and opening, or during the job.
        case vanished
        case needsRoot
        /// The node now holds a different medium than the one the job was bound to.
        case identityChanged(detail: String)
        case ioFailed(operation: String)
    }

    public let code: Code
    public let path: String
    public let underlying: Errno?

    public init(_ code: Code, path: String, underlying: Errno? = nil) {
        self.code = code
        self.path = path
        self.underlying = underlying
    }

    /// The process exit status for this error; documented in docs/exit-codes.md.
    public var exitCode: Int32 {
        switch code {
        case .notFound: 10
        case .isDirectory, .isRegularFile, .isCharacterDevice, .notABlockDevice: 11
        case .isPartition: 12
        case .protected: 13
        case .inUse: 14
        case .vanished: 15
        case .needsRoot: 16
        case .identityChanged: 17
        case .ioFailed: 18
        }
    }

    public var message: LocalizedText {
        switch code {
        case .notFound:
            return LocalizedText(fr: "\(path) : aucun périphérique à ce nom. Vérifiez le nom avec « ardoise list ».",
                                 en: "\(path): no such device. Check the name with `ardoise list`.")
        case .isDirectory:
            return LocalizedText(fr: "\(path) est un dossier, pas un disque.", en: "\(path) is a directory, not a drive.")
        case .isRegularFile:
            return LocalizedText(fr: "\(path) est un fichier, pas un disque. Pour effacer une image disque, ajoutez --image.",
                                 en: "\(path) is a regular file, not a drive. To erase a disk image, add --image.")
        case .isCharacterDevice:
            return LocalizedText(fr: "\(path) est un périphérique caractère, pas un disque.",
                                 en: "\(path) is a character device, not a drive.")
        case .notABlockDevice:
            return LocalizedText(fr: "\(path) n'est pas un disque.", en: "\(path) is not a drive.")
        case .isPartition(let disk):
            return LocalizedText(fr: "\(path) est une partition. Ardoise efface des disques entiers : le disque est \(disk).",
                                 en: "\(path) is a partition. Ardoise erases whole drives: its drive is \(disk).")
        case .protected(let reasons):
            let fr = reasons.map { $0.message.french }.joined(separator: " ; ")
            let en = reasons.map { $0.message.english }.joined(separator: "; ")
            return LocalizedText(fr: "\(path) est protégé, il ne sera pas effacé : \(fr).",
                                 en: "\(path) is protected and will not be erased: \(en).")
        case .inUse:
            return LocalizedText(fr: "\(path) est utilisé (monté ou ouvert par un autre programme). Démontez-le d'abord.",
                                 en: "\(path) is in use (mounted or opened by another program). Unmount it first.")
        case .vanished:
            return LocalizedText(fr: "\(path) a disparu (débranché ?). Rien n'a été écrit après sa disparition.",
                                 en: "\(path) disappeared (unplugged?). Nothing was written after it vanished.")
        case .needsRoot:
            return LocalizedText(fr: "Il faut les droits administrateur (root) pour accéder à \(path). Relancez avec sudo.",
                                 en: "Root privileges are needed to access \(path). Run again with sudo.")
        case .identityChanged(let detail):
            return LocalizedText(fr: "\(path) n'est plus le même disque (\(detail)). Le travail est arrêté, rien n'est écrit.",
                                 en: "\(path) is no longer the same drive (\(detail)). The job stops; nothing is written.")
        case .ioFailed(let operation):
            let why = underlying.map { " (\($0))" } ?? ""
            return LocalizedText(fr: "\(path) : échec de \(operation)\(why).", en: "\(path): \(operation) failed\(why).")
        }
    }

    public var description: String { message.text(in: CurrentLanguage.value) }
}
