import CUdev
import Foundation

/// Properties from the udev database, when udevd runs (`/run/udev/control` exists).
///
/// udev's `ata_id`/`scsi_id`/`usb_id` read the drive itself (ATA IDENTIFY, VPD pages), so
/// its model and serial are better than sysfs's; without udevd the database is empty and
/// the sysfs values stand.
enum UdevProperties {
    struct Values: Sendable {
        var model: String?
        var serial: String?
        var wwn: String?
        var revision: String?
        var bus: String?
    }

    static var isDatabaseAvailable: Bool {
        FileManager.default.fileExists(atPath: "/run/udev/control")
    }

    /// Reads the properties of every named disk with one udev context.
    static func values(for names: [String]) -> [String: Values] {
        guard isDatabaseAvailable, let udev = udev_new() else { return [:] }
        defer { udev_unref(udev) }
        var result: [String: Values] = [:]
        for name in names {
            guard let device = udev_device_new_from_subsystem_sysname(udev, "block", name) else { continue }
            defer { udev_device_unref(device) }
            func property(_ key: String) -> String? {
                guard let value = udev_device_get_property_value(device, key) else { return nil }
                let text = String(cString: value).trimmingCharacters(in: .whitespaces)
                return text.isEmpty ? nil : text
            }
            let model = property("ID_MODEL_ENC").map(decodeHexEscapes) ?? property("ID_MODEL")?.replacingOccurrences(of: "_", with: " ")
            result[name] = Values(
                model: model?.trimmingCharacters(in: .whitespaces),
                serial: property("ID_SERIAL_SHORT"),
                wwn: property("ID_WWN_WITH_EXTENSION") ?? property("ID_WWN"),
                revision: property("ID_REVISION"),
                bus: property("ID_BUS"))
        }
        return result
    }

    /// udev writes spaces in `ID_MODEL_ENC` as `\x20`.
    static func decodeHexEscapes(_ text: String) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.first == UInt8(ascii: "x"), utf8.count >= 3,
               let value = UInt8(String(decoding: utf8.dropFirst().prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
