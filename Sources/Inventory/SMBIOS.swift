import Foundation

/// The SMBIOS table as Linux exposes it (`/sys/firmware/dmi/tables/smbios_entry_point` and
/// `DMI`), split into structures per DMTF DSP0134. Decoding of the structures Ardoise uses is
/// in `SMBIOSDecoder`. Pure parsing over bytes: no I/O.
public struct SMBIOSTable: Sendable, Equatable {
    /// The SMBIOS version the entry point announces (e.g. 3.2).
    public var majorVersion: Int
    public var minorVersion: Int
    /// `"2.1"` for the 32-bit `_SM_` entry point, `"3.0"` for the 64-bit `_SM3_` one.
    public var entryPointKind: EntryPointKind
    public var structures: [SMBIOSStructure]

    public enum EntryPointKind: String, Sendable, Equatable, Codable {
        case smbios2 = "smbios2"
        case smbios3 = "smbios3"
    }

    /// Why a table could not be parsed; the stable code is kept in the inventory's warnings.
    public enum ParseError: Error, Sendable, Equatable {
        case noEntryPoint
        case entryPointChecksum
        case truncatedTable

        public var code: String {
            switch self {
            case .noEntryPoint: "smbios_no_entry_point"
            case .entryPointChecksum: "smbios_entry_point_checksum"
            case .truncatedTable: "smbios_truncated_table"
            }
        }
    }

    /// Version as `major.minor`.
    public var version: String { "\(majorVersion).\(minorVersion)" }

    /// Whether the version is at least `major.minor`.
    public func isAtLeast(_ major: Int, _ minor: Int) -> Bool {
        (majorVersion, minorVersion) >= (major, minor)
    }

    public init(majorVersion: Int, minorVersion: Int, entryPointKind: EntryPointKind, structures: [SMBIOSStructure]) {
        self.majorVersion = majorVersion
        self.minorVersion = minorVersion
        self.entryPointKind = entryPointKind
        self.structures = structures
    }

    /// Parses the entry point and the structure table that follows it in Linux's layout
    /// (the table is its own file, so the entry point's table address is ignored).
    ///
    /// DSP0134 §5.2.1 (2.1, 32-bit): anchor `_SM_` at 00h, checksum over the entry point length
    /// at 05h, version 06h/07h, `_DMI_` at 10h, table length WORD at 16h, structure count at 1Ch.
    /// §5.2.2 (3.0, 64-bit): anchor `_SM3_` at 00h, length at 06h, version 07h/08h, maximum
    /// table size DWORD at 0Ch; the table ends at the end-of-table structure (type 127).
    public static func parse(entryPoint: [UInt8], table: [UInt8]) throws(ParseError) -> SMBIOSTable {
        if entryPoint.count >= 0x18, Array(entryPoint[0..<5]) == Array("_SM3_".utf8) {
            let length = Int(entryPoint[6])
            guard length >= 0x18, entryPoint.count >= length else { throw .noEntryPoint }
            guard checksumIsZero(entryPoint[0..<length]) else { throw .entryPointChecksum }
            let maximum = Int(readUInt32(entryPoint, 0x0C))
            let limit = min(maximum, table.count)
            return SMBIOSTable(majorVersion: Int(entryPoint[7]), minorVersion: Int(entryPoint[8]), entryPointKind: .smbios3,
                               structures: try splitStructures(Array(table[0..<limit]), count: nil))
        }
        if entryPoint.count >= 0x1F, Array(entryPoint[0..<4]) == Array("_SM_".utf8) {
            let length = Int(entryPoint[5])
            guard length >= 0x1E, entryPoint.count >= length else { throw .noEntryPoint }
            // Both checksums: the whole entry point, then the intermediate (_DMI_) part 10h–1Eh.
            guard checksumIsZero(entryPoint[0..<length]), checksumIsZero(entryPoint[0x10..<0x1F]) else { throw .entryPointChecksum }
            let tableLength = Int(readUInt16(entryPoint, 0x16))
            let count = Int(readUInt16(entryPoint, 0x1C))
            guard table.count >= tableLength else { throw .truncatedTable }
            return SMBIOSTable(majorVersion: Int(entryPoint[6]), minorVersion: Int(entryPoint[7]), entryPointKind: .smbios2,
                               structures: try splitStructures(Array(table[0..<tableLength]), count: count))
        }
        throw .noEntryPoint
    }

    /// Splits the table into structures: a 4-byte header (type 00h, length 01h, handle 02h
    /// WORD), the formatted area of `length` bytes, then the string set, each string
    /// NUL-terminated and the set ending with a second NUL (a structure without strings has
    /// two NULs). DSP0134 §6.1.2–6.1.3. Stops at type 127 (end-of-table) or after `count`.
    static func splitStructures(_ bytes: [UInt8], count: Int?) throws(ParseError) -> [SMBIOSStructure] {
        var structures: [SMBIOSStructure] = []
        var offset = 0
        while offset + 4 <= bytes.count {
            if let count, structures.count >= count { break }
            let type = bytes[offset]
            let length = Int(bytes[offset + 1])
            guard length >= 4, offset + length <= bytes.count else { throw .truncatedTable }
            let formatted = Array(bytes[offset..<(offset + length)])
            var cursor = offset + length
            var strings: [String] = []
            var current: [UInt8] = []
            // The string set ends at the first double NUL.
            while cursor < bytes.count {
                let byte = bytes[cursor]
                cursor += 1
                if byte == 0 {
                    if current.isEmpty {
                        if strings.isEmpty, cursor < bytes.count, bytes[cursor] == 0 { cursor += 1 }
                        break
                    }
                    strings.append(String(decoding: current, as: UTF8.self))
                    current = []
                } else {
                    current.append(byte)
                }
            }
            if !current.isEmpty { throw .truncatedTable }
            structures.append(SMBIOSStructure(type: type, handle: readUInt16(formatted, 2), formatted: formatted, strings: strings))
            offset = cursor
            if type == 127 { break }
        }
        return structures
    }

    static func checksumIsZero(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.reduce(UInt8(0), &+) == 0
    }

    static func readUInt16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
        guard offset + 2 <= bytes.count else { return 0 }
        return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    static func readUInt32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        guard offset + 4 <= bytes.count else { return 0 }
        return (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
    }

    /// Every structure of a type, in table order.
    public func structures(ofType type: UInt8) -> [SMBIOSStructure] {
        structures.filter { $0.type == type }
    }
}

/// One structure: the formatted area (header included) and its strings.
public struct SMBIOSStructure: Sendable, Equatable {
    public var type: UInt8
    public var handle: UInt16
    /// The formatted area, from the type byte (offset 00h) to `length - 1`.
    public var formatted: [UInt8]
    public var strings: [String]

    public var length: Int { formatted.count }

    /// The byte at `offset`, nil when the structure is too short to hold it (older versions).
    public func byte(_ offset: Int) -> UInt8? {
        offset < formatted.count ? formatted[offset] : nil
    }

    public func word(_ offset: Int) -> UInt16? {
        offset + 2 <= formatted.count ? SMBIOSTable.readUInt16(formatted, offset) : nil
    }

    public func dword(_ offset: Int) -> UInt32? {
        offset + 4 <= formatted.count ? SMBIOSTable.readUInt32(formatted, offset) : nil
    }

    /// The string a string-number field at `offset` refers to (1-based; 0 means none),
    /// trimmed; nil when absent, empty, or one of the placeholders firmware leaves in.
    public func string(_ offset: Int) -> String? {
        guard let number = byte(offset), number > 0, Int(number) <= strings.count else { return nil }
        return SMBIOSDecoder.meaningful(strings[Int(number) - 1])
    }

    /// The raw string (no placeholder filtering), as dmidecode prints it.
    public func rawString(_ offset: Int) -> String? {
        guard let number = byte(offset), number > 0, Int(number) <= strings.count else { return nil }
        return strings[Int(number) - 1].trimmingCharacters(in: .whitespaces)
    }
}
