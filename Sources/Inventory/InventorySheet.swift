import ArdoiseSupport
import Certificates
import Foundation
import Journal

/// The PC's printed sheet: French first, then English, each part headed by the one-line
/// summary; the signed inventory is embedded when there is one.
public enum InventorySheet {
    /// - Parameter driveNotes: a line per drive name (its erasure status from the journal).
    /// - Throws: `CertificateError` from the PDF library.
    public static func render(_ inventory: HostInventory, signed: SignedInventory? = nil,
                              driveNotes: [String: LocalizedText] = [:]) throws -> Data {
        let parts = [Language.french, .english].map { language in
            let french = language == .french
            var sections = InventoryText.sections(inventory, language: language, driveNotes: driveNotes).map {
                SheetPDF.Section(title: $0.title, rows: $0.rows.map { ($0.label, $0.value) })
            }
            if let signed {
                sections.append(SheetPDF.Section(title: french ? "Inventaire signé" : "Signed inventory", rows: [
                    (french ? "N° d'inventaire" : "Inventory id", signed.payload.id),
                    (french ? "Banc" : "Bench", signed.payload.benchID),
                    (french ? "Date" : "Date", ISO8601DateFormatter().string(from: signed.payload.issuedAt)),
                    (french ? "Clé (kid)" : "Key (kid)", signed.document.keyID),
                    ("SHA-256", signed.document.sha256),
                ]))
            }
            return SheetPDF.Part(title: french ? "Fiche du PC" : "PC sheet",
                                 headline: InventoryText.summary(inventory, language: language), sections: sections)
        }
        let identity = [inventory.system.manufacturer, inventory.system.product, inventory.system.serial].compactMap { $0 }
        return try SheetPDF.render(
            parts: parts, documentTitle: "Fiche du PC / PC sheet " + identity.joined(separator: " "),
            keywords: signed.map { "ARDOISE-INVENTORY1;\($0.payload.id);\($0.document.sha256)" } ?? "ARDOISE-INVENTORY1",
            footer: "Ardoise · " + (identity.isEmpty ? "PC" : identity.joined(separator: " ")) + " · page",
            attachment: signed.map { ("inventory-\($0.payload.id).json", $0.document.signedJSON) })
    }

    /// Each drive's latest erasure on this bench, from the journal (certificate status).
    public static func erasureNotes(_ drives: [DriveInfo], journal: JournalDatabase) -> [String: LocalizedText] {
        var notes: [String: LocalizedText] = [:]
        for drive in drives {
            guard let serial = drive.serial, let model = drive.model,
                  let jobs = try? journal.jobs(driveSerial: serial, model: model, sizeInBytes: Int64(drive.sizeBytes), wwn: drive.wwn),
                  let job = jobs.last else {
                notes[drive.name] = LocalizedText(fr: "pas d'effacement enregistré", en: "no erasure recorded")
                continue
            }
            if let certificate = (try? journal.certificates(jobID: job.id))?.last {
                let status: LocalizedText = switch certificate.status {
                case "erased": .init(fr: "effacé", en: "erased")
                case "erased_with_exceptions": .init(fr: "effacé avec exceptions", en: "erased with exceptions")
                default: .init(fr: "non effacé", en: "not erased")
                }
                let id = certificate.id.uuidString.lowercased()
                notes[drive.name] = LocalizedText(fr: "\(status.french) (certificat \(id))", en: "\(status.english) (certificate \(id))")
            } else {
                notes[drive.name] = LocalizedText(fr: "effacement sans certificat (\(job.status.rawValue))",
                                                  en: "erasure without certificate (\(job.status.rawValue))")
            }
        }
        return notes
    }
}
