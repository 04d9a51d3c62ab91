import ArdoiseSupport
import Crypto
import Foundation

/// The hashed encoding of an event row and the chain check.
///
/// hash = SHA-256( "ardoise.event.v1" ‖ id (8 bytes BE) ‖ time ms (8 bytes BE)
///                 ‖ field(kind) ‖ field(jobID) ‖ field(payload) ‖ prevHash (32 bytes) )
/// where field(nil) = 0xFF and field(s) = 0x00 ‖ UTF-8 length (8 bytes BE) ‖ UTF-8 bytes.
/// Length prefixes make the encoding injective: no two different rows hash the same input.
/// The id is hashed, so deleting a row breaks the next one twice over (prev hash and id gap).
public enum EventChain {
    /// The previous hash of the very first row: 32 zero bytes.
    public static let genesisHash = String(repeating: "0", count: 64)

    public static func hash(id: Int64, timeMilliseconds: Int64, kind: String, jobID: String?, payload: String,
                            prevHash: String) -> String {
        var bytes = Array("ardoise.event.v1".utf8)
        appendBigEndian(UInt64(bitPattern: id), to: &bytes)
        appendBigEndian(UInt64(bitPattern: timeMilliseconds), to: &bytes)
        for field in [kind, jobID, payload] {
            guard let field else { bytes.append(0xFF); continue }
            bytes.append(0x00)
            let utf8 = Array(field.utf8)
            appendBigEndian(UInt64(utf8.count), to: &bytes)
            bytes.append(contentsOf: utf8)
        }
        // A malformed stored prev hash cannot be decoded; hashing its text instead still makes
        // the row fail verification because the stored hash was computed from valid bytes.
        bytes.append(contentsOf: Hex.decode(prevHash) ?? Array(prevHash.utf8))
        return Hex.encode(SHA256.hash(data: bytes))
    }

    static func hash(of event: EventRecord) -> String {
        hash(id: event.id, timeMilliseconds: event.timeMilliseconds, kind: event.kind, jobID: event.jobID,
             payload: event.payload, prevHash: event.prevHash)
    }

    private static func appendBigEndian(_ value: UInt64, to bytes: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
}

/// The outcome of `JournalDatabase.verifyChain()`.
public enum ChainVerification: Sendable, Equatable {
    /// Every row links to the previous one and the head matches; `count` rows checked.
    case intact(count: Int)
    /// The first row that does not verify, and why.
    case broken(eventID: Int64, reason: ChainBreak)

    public var isIntact: Bool { if case .intact = self { true } else { false } }
}

public enum ChainBreak: String, Sendable, Equatable {
    /// The row's content does not match its own hash: it was edited.
    case contentEdited = "content_edited"
    /// The row's prev hash is not the previous row's hash, or ids are not consecutive: a row
    /// before it was deleted, edited together with its hash, or rows were reordered.
    case linkBroken = "link_broken"
    /// The last row is not the head recorded in `journal_head`: rows were removed at the end.
    case headMismatch = "head_mismatch"
}

