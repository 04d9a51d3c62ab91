import ArdoiseSupport

/// Why a drive must not be erased. A drive is `wipeable` only when it has none.
public enum ProtectionReason: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Holds the running root filesystem.
    case rootFilesystem
    /// Holds `/boot`, `/boot/efi` or another boot mount.
    case bootFilesystem(mountPoint: String)
    /// Holds the live system the bench booted from (`/run/live/medium`…).
    case liveMedium(mountPoint: String)
    /// Named by the kernel command line (`root=`, `boot=`…).
    case kernelCommandLine(parameter: String)
    /// A partition (or the disk itself) is mounted here.
    case mounted(mountPoints: [String])
    /// A partition (or the disk) is active swap.
    case swap(device: String)
    /// Claimed by device-mapper, md or LVM (`holders/`).
    case heldBy(holders: [String])
    case readOnly
    case sizeZero
    /// Holds Ardoise's own data directory (journal, keys).
    case dataDirectory(path: String)
    /// A virtual device (loop, ram, zram, dm, md, nbd), refused unless explicitly allowed.
    case virtual(kind: String)
    /// An optical drive: nothing to overwrite.
    case optical
    /// A loop device whose backing file is outside the directory the bench was told to use.
    case foreignLoop(backingFile: String)

    /// A stable machine key for JSON and tests.
    public var key: String {
        switch self {
        case .rootFilesystem: "root"
        case .bootFilesystem: "boot"
        case .liveMedium: "live-medium"
        case .kernelCommandLine: "kernel-cmdline"
        case .mounted: "mounted"
        case .swap: "swap"
        case .heldBy: "held"
        case .readOnly: "read-only"
        case .sizeZero: "size-zero"
        case .dataDirectory: "data-directory"
        case .virtual: "virtual"
        case .optical: "optical"
        case .foreignLoop: "foreign-loop"
        }
    }

    public var message: LocalizedText {
        switch self {
        case .rootFilesystem:
            LocalizedText(fr: "disque système (contient /)", en: "system disk (holds /)")
        case .bootFilesystem(let mountPoint):
            LocalizedText(fr: "disque de démarrage (\(mountPoint))", en: "boot disk (\(mountPoint))")
        case .liveMedium(let mountPoint):
            LocalizedText(fr: "clé de démarrage du banc (\(mountPoint))", en: "the bench's boot medium (\(mountPoint))")
        case .kernelCommandLine(let parameter):
            LocalizedText(fr: "désigné au démarrage (\(parameter))", en: "named at boot (\(parameter))")
        case .mounted(let mountPoints):
            LocalizedText(fr: "monté sur \(mountPoints.joined(separator: ", "))", en: "mounted on \(mountPoints.joined(separator: ", "))")
        case .swap(let device):
            LocalizedText(fr: "mémoire d'échange active (\(device))", en: "active swap (\(device))")
        case .heldBy(let holders):
            LocalizedText(fr: "utilisé par \(holders.joined(separator: ", ")) (LVM, RAID ou chiffrement)",
                          en: "held by \(holders.joined(separator: ", ")) (LVM, RAID or encryption)")
        case .readOnly:
            LocalizedText(fr: "en lecture seule", en: "read-only")
        case .sizeZero:
            LocalizedText(fr: "taille nulle (pas de support ?)", en: "size zero (no medium?)")
        case .dataDirectory(let path):
            LocalizedText(fr: "contient les données d'Ardoise (\(path))", en: "holds Ardoise's data (\(path))")
        case .virtual(let kind):
            LocalizedText(fr: "périphérique virtuel (\(kind))", en: "virtual device (\(kind))")
        case .optical:
            LocalizedText(fr: "lecteur optique", en: "optical drive")
        case .foreignLoop(let backingFile):
            LocalizedText(fr: "périphérique loop d'un autre programme (\(backingFile))",
                          en: "loop device of another program (\(backingFile))")
        }
    }

    public var description: String { message.text(in: CurrentLanguage.value) }
}

/// The outcome of the safety classification.
public enum SafetyVerdict: Sendable, Hashable {
    case wipeable
    case protected([ProtectionReason])

    public var isWipeable: Bool {
        if case .wipeable = self { return true }
        return false
    }

    public var reasons: [ProtectionReason] {
        if case .protected(let reasons) = self { return reasons }
        return []
    }

    public var word: String { isWipeable ? "wipeable" : "protected" }
}
