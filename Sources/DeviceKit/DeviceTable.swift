import ArdoiseSupport

/// The columns of `ardoise list`, declared once (as util-linux's lsblk does) so the text
/// table and the JSON agree: header (JSON key in lower case), help, JSON type, and the value.
///
/// JSON carries stable codes whatever the language (docs/json-codes.md): a column whose text
/// is localized gives JSON its code (`jsonValues`), or is a label whose JSON key ends in
/// `-label` / `-labels`.
public struct DeviceColumn: Sendable {
    public enum JSONType: Sendable {
        case string, number, boolean, arrayOfStrings
    }

    public let header: String
    public let help: String
    public let jsonType: JSONType
    /// The header in JSON (its lower case is the key), when it differs from the text header.
    public let jsonHeader: String
    /// Values; arrays are split into elements for JSON and joined with ", " for text.
    let values: @Sendable (BlockDeviceInfo, Language) -> [String]
    /// Values in JSON, when they differ from the text (a stable code instead of a word).
    let jsonValues: (@Sendable (BlockDeviceInfo) -> [String])?
    /// Only in JSON: in the text table the same words are already in another column.
    public let jsonOnly: Bool

    init(_ header: String, _ help: String, _ jsonType: JSONType, jsonHeader: String? = nil, jsonOnly: Bool = false,
         json jsonValues: (@Sendable (BlockDeviceInfo) -> [String])? = nil,
         _ values: @escaping @Sendable (BlockDeviceInfo, Language) -> [String]) {
        self.header = header
        self.help = help
        self.jsonType = jsonType
        self.jsonHeader = jsonHeader ?? header
        self.values = values
        self.jsonValues = jsonValues
        self.jsonOnly = jsonOnly
    }

    /// The JSON key: the JSON header in lower case, as libsmartcols writes it.
    public var key: String { jsonHeader.lowercased() }

    /// What a cell holds: in JSON the stable code when the column has one, else the text.
    func cell(_ device: BlockDeviceInfo, json: Bool, language: Language) -> [String] {
        if json, let jsonValues { return jsonValues(device) }
        return values(device, language)
    }

    static func one(_ value: String?) -> [String] { value.map { [$0] } ?? [] }
    static func flag(_ value: Bool) -> [String] { [value ? "1" : "0"] }

    /// Every column, in display order.
    public static let all: [DeviceColumn] = [
        DeviceColumn("NAME", "kernel name", .string) { device, _ in [device.name] },
        DeviceColumn("PATH", "device node", .string) { device, _ in [device.path] },
        DeviceColumn("MAJ:MIN", "device number", .string) { device, _ in [device.deviceNumber.description] },
        DeviceColumn("SIZE", "size in bytes", .number) { device, _ in [String(device.sizeInBytes)] },
        DeviceColumn("HSIZE", "size, human readable", .string) { device, _ in [ByteCountFormatter.human(device.sizeInBytes)] },
        DeviceColumn("TRAN", "transport", .string) { device, _ in [device.transport.rawValue] },
        DeviceColumn("ROTA", "rotational (hard disk)", .boolean) { device, _ in flag(device.rotational) },
        DeviceColumn("VENDOR", "vendor", .string) { device, _ in one(device.vendor) },
        DeviceColumn("MODEL", "model", .string) { device, _ in one(device.model) },
        DeviceColumn("SERIAL", "serial number", .string) { device, _ in one(device.serial) },
        DeviceColumn("WWN", "world wide name", .string) { device, _ in one(device.wwn) },
        DeviceColumn("REV", "firmware revision", .string) { device, _ in one(device.firmwareRevision) },
        DeviceColumn("LOG-SEC", "logical sector size", .number) { device, _ in [String(device.logicalSectorSize)] },
        DeviceColumn("PHY-SEC", "physical sector size", .number) { device, _ in [String(device.physicalSectorSize)] },
        DeviceColumn("DISKSEQ", "kernel disk sequence number", .number) { device, _ in one(device.diskSequence.map(String.init)) },
        DeviceColumn("RM", "removable", .boolean) { device, _ in flag(device.removable) },
        DeviceColumn("RO", "read-only", .boolean) { device, _ in flag(device.readOnly) },
        DeviceColumn("PTTYPE", "partition table type", .string) { device, _ in one(device.partitionTableType) },
        DeviceColumn("PARTITIONS", "partitions", .arrayOfStrings) { device, _ in device.partitions.map(\.name) },
        DeviceColumn("FSTYPES", "signatures found by libblkid", .arrayOfStrings) { device, _ in device.signatures },
        DeviceColumn("MOUNTPOINTS", "mount points in use", .arrayOfStrings) { device, _ in device.mountPoints },
        DeviceColumn("BACKING-FILE", "file behind a loop device", .string) { device, _ in one(device.backingFile) },
        DeviceColumn("VERDICT", "wipeable or protected (JSON: the code)", .string, json: { [$0.verdict.word] }) { device, language in
            [verdictLabel(device.verdict, language)]
        },
        DeviceColumn("VERDICT-LABEL", "the verdict in the reader's language (JSON only)", .string, jsonOnly: true) { device, language in
            [verdictLabel(device.verdict, language)]
        },
        DeviceColumn("REASONS", "why the drive is protected (JSON key: reason-labels)", .arrayOfStrings, jsonHeader: "REASON-LABELS") { device, language in
            device.verdict.reasons.map { $0.message.text(in: language) }
        },
        DeviceColumn("REASON-CODES", "stable codes of the reasons", .arrayOfStrings) { device, _ in
            device.verdict.reasons.map(\.key)
        },
    ]

    /// The verdict as a person reads it (`effaçable`/`protégé`, `wipeable`/`protected`).
    public static func verdictLabel(_ verdict: SafetyVerdict, _ language: Language) -> String {
        language == .english ? verdict.word : verdict.isWipeable ? "effaçable" : "protégé"
    }

    /// Shown by `ardoise list` without `--output`.
    public static let defaultHeaders = ["NAME", "HSIZE", "TRAN", "ROTA", "MODEL", "SERIAL", "DISKSEQ", "PTTYPE", "FSTYPES", "MOUNTPOINTS", "VERDICT", "REASONS"]

    /// Columns by header (case-insensitive); `all` for every column. Nil names the unknown one.
    public static func select(_ headers: [String]) -> Result<[DeviceColumn], DeviceTableError> {
        if headers.count == 1, headers[0].lowercased() == "all" { return .success(all) }
        var columns: [DeviceColumn] = []
        for header in headers {
            guard let column = all.first(where: { $0.header.caseInsensitiveCompare(header) == .orderedSame }) else {
                return .failure(DeviceTableError(unknownColumn: header))
            }
            columns.append(column)
        }
        return .success(columns)
    }
}

public struct DeviceTableError: Error, Sendable, CustomStringConvertible {
    public let unknownColumn: String
    public var description: String {
        LocalizedText(fr: "colonne inconnue : \(unknownColumn) (colonnes : \(DeviceColumn.all.map(\.header).joined(separator: ", ")))",
                      en: "unknown column: \(unknownColumn) (columns: \(DeviceColumn.all.map(\.header).joined(separator: ", ")))")
            .text(in: CurrentLanguage.value)
    }
}

import Foundation
