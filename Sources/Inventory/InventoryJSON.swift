import Foundation

/// The one JSON form of an inventory (`ardoise inventory --json`, the signed payload): sorted
/// keys, no escaped slashes, RFC 3339 dates.
public enum InventoryJSON {
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    public static func encode(_ inventory: HostInventory, pretty: Bool = false) throws -> Data {
        try encoder(pretty: pretty).encode(inventory)
    }
}
