import ArdoiseSupport
import CSmartcols
import Foundation

/// Renders devices with libsmartcols, the library behind lsblk's output.
public enum DeviceTableRenderer {
    /// A text table, or lsblk-style JSON (`{"blockdevices": [...]}`) when `json` is true.
    /// `width` fixes the terminal width (nil: no truncation, as when piped).
    public static func render(_ devices: [BlockDeviceInfo], columns: [DeviceColumn], json: Bool,
                              language: Language, width: Int? = nil) -> String {
        enableUTF8Output()
        let columns = json ? columns : columns.filter { !$0.jsonOnly }
        guard let table = scols_new_table() else { return "" }
        defer { scols_unref_table(table) }
        scols_table_set_name(table, "blockdevices")
        scols_table_enable_json(table, json ? 1 : 0)
        if let width {
            scols_table_set_termforce(table, Int32(SCOLS_TERMFORCE_ALWAYS))
            scols_table_set_termwidth(table, width)
        } else {
            scols_table_set_termforce(table, Int32(SCOLS_TERMFORCE_NEVER))
        }
        for column in columns {
            var flags: Int32 = column.jsonType == .number ? Int32(SCOLS_FL_RIGHT) : 0
            if json, column.jsonType == .arrayOfStrings { flags |= Int32(SCOLS_FL_WRAP) }
            guard let handle = scols_table_new_column(table, json ? column.jsonHeader : column.header, 0, flags) else { continue }
            scols_column_set_json_type(handle, jsonType(column.jsonType))
            if json, column.jsonType == .arrayOfStrings {
                // lsblk's MOUNTPOINTS: one array element per line of the cell.
                scols_column_set_wrapfunc(handle, scols_wrapnl_chunksize, scols_wrapnl_nextchunk, nil)
            }
        }
        for device in devices {
            guard let line = scols_table_new_line(table, nil) else { continue }
            for (index, column) in columns.enumerated() {
                let values = column.cell(device, json: json, language: language)
                // libsmartcols splits ARRAY_STRING cells on newlines in JSON.
                let cell = values.joined(separator: json && column.jsonType == .arrayOfStrings ? "\n" : ", ")
                if !cell.isEmpty { scols_line_set_data(line, index, cell) }
            }
        }
        var output: UnsafeMutablePointer<CChar>?
        guard scols_print_table_to_string(table, &output) == 0, let output else { return "" }
        defer { free(output) }
        return String(cString: output)
    }

    private static func jsonType(_ type: DeviceColumn.JSONType) -> Int32 {
        switch type {
        case .string: Int32(SCOLS_JSON_STRING)
        case .number: Int32(SCOLS_JSON_NUMBER)
        case .boolean: Int32(SCOLS_JSON_BOOLEAN)
        case .arrayOfStrings: Int32(SCOLS_JSON_ARRAY_STRING)
        }
    }
}

/// libsmartcols escapes every byte the C locale calls unprintable (`\xc3\xa9` for "é"); our
/// text is UTF-8, so make sure the character type locale is a UTF-8 one.
private func enableUTF8Output() {
    setlocale(LC_ALL, "")
    let current = setlocale(LC_CTYPE, nil).map { String(cString: $0) } ?? "C"
    if !current.uppercased().contains("UTF-8"), !current.uppercased().contains("UTF8") {
        setlocale(LC_CTYPE, "C.UTF-8")
    }
}
