import ArdoiseSupport
import Foundation

/// The certificate as labelled lines in one language: the single source of what the PDF page
/// and `cert show` print, so both say the same thing.
public struct CertificateSummary: Sendable {
    public struct Section: Sendable {
        public var title: String
        public var rows: [(label: String, value: String)]
    }

    public let language: Language
    public let title: String
    public let statusLabel: String
    public let sections: [Section]

    public init(payload p: CertificatePayload, keyID: String?, sha256: String?, language: Language) {
        self.language = language
        func t(_ fr: String, _ en: String) -> String { language == .french ? fr : en }
        title = t("Certificat d'effacement de données", "Data erasure certificate")
        statusLabel = Self.statusLabel(p.result.status, language: language)

        var sections: [Section] = []
        sections.append(Section(title: t("Organisation", "Organisation"), rows: Self.compact([
            (t("Nom", "Name"), p.organisation.name),
            (t("Adresse", "Address"), p.organisation.address),
            (t("Contact", "Contact"), p.organisation.contact),
        ])))
        sections.append(Section(title: t("Donateur et lot", "Donor and lot"), rows: Self.compact([
            (t("Donateur", "Donor"), p.donor),
            (t("Lot", "Lot"), p.lot),
            (t("Destination", "Destination"), Self.destination(p.destination, language)),
        ])))
        let m = p.media
        // A drive that was not erased is not headed "erased medium".
        let mediumTitle = p.result.status == .notErased ? t("Support", "Medium") : t("Support effacé", "Erased medium")
        sections.append(Section(title: mediumTitle, rows: Self.compact([
            (t("Fabricant", "Manufacturer"), m.manufacturer),
            (t("Modèle", "Model"), m.model),
            (t("N° de série", "Serial number"), m.serial),
            ("WWN", m.wwn),
            (t("Micrologiciel", "Firmware"), m.firmware),
            (t("N° d'inventaire", "Asset tag"), m.assetTag),
            (t("Type", "Type"), Self.mediaType(m.type, language)),
            (t("Capacité", "Capacity"), Self.bytes(m.capacityBytes, language)),
            (t("Interface", "Transport"), m.transport),
            (t("Secteurs logique / physique", "Logical / physical sector"), "\(m.logicalSectorSize) / \(m.physicalSectorSize) " + t("octets", "bytes")),
            (t("Ordinateur d'origine", "Source computer"), p.sourceHost.map { host in
                [host.vendor, host.model, host.serial.map { t("n° ", "s/n ") + $0 }].compactMap { $0 }.joined(separator: " ") }),
            (t("Zones cachées (HPA/DCO)", "Hidden areas (HPA/DCO)"), p.hiddenAreas.map { hidden in
                guard hidden.detected else { return t("aucune détectée", "none detected") }
                let kinds = hidden.kinds.joined(separator: ", ").uppercased()
                let state = hidden.erased == true ? t("effacées", "erased") : t("NON effacées", "NOT erased")
                return "\(kinds) " + t("détectées, ", "detected, ") + state }),
        ])))
        let s = p.sanitization
        var method: [(String, String?)] = [
            (t("Catégorie NIST SP 800-88", "NIST SP 800-88 category"), s.category == .clear ? t("Clear (effacement)", "Clear") : t("Purge (purge)", "Purge")),
            (t("Méthode", "Method"), Self.method(s.method, language)),
            (t("Profil", "Profile"), s.profile),
            (t("Outil", "Tool"), "\(p.tool.name) \(p.tool.version)"),
        ]
        for pass in s.passes {
            var parts: [String] = []
            switch pass.kind {
            case .pattern: parts.append(t("motif 0x", "pattern 0x") + (pass.pattern ?? "?"))
            case .random: parts.append(t("aléatoire ", "random ") + "(\(pass.prngAlgorithm ?? "PRNG"))")
            }
            parts.append(Self.bytes(pass.bytesWritten, language))
            parts.append(Self.duration(pass.durationSeconds, language))
            parts.append(Self.rate(pass.throughputBytesPerSecond))
            if pass.unwrittenBytes > 0 || pass.ioErrors > 0 {
                parts.append(t("\(pass.ioErrors) erreur(s), \(pass.unwrittenBytes) octets non écrits",
                               "\(pass.ioErrors) error(s), \(pass.unwrittenBytes) bytes unwritten"))
            }
            parts.append(t("vérification : ", "verification: ") + (pass.verification.map { Self.verification($0.mode, $0.samples, $0.result, language) } ?? t("aucune", "none")))
            method.append((t("Passe \(pass.index + 1)", "Pass \(pass.index + 1)"), parts.joined(separator: " · ")))
        }
        for operation in s.firmwareOperations ?? [] {
            var text = operation.command + " : " + (operation.succeeded ? t("réussie", "succeeded") : t("ÉCHEC", "FAILED"))
            if let duration = operation.durationSeconds { text += " · " + Self.duration(duration, language) }
            if let detail = operation.detail { text += " · " + detail }
            method.append((t("Commande du disque", "Drive command"), text))
        }
        sections.append(Section(title: t("Méthode d'effacement", "Sanitization method"), rows: Self.compact(method)))
        sections.append(Section(title: t("Vérification", "Verification"), rows: [
            (t("Vérification finale", "Final verification"), Self.verification(p.verification.method, p.verification.samples, p.verification.result, language)),
        ]))
        var result: [(String, String?)] = [(t("Statut", "Status"), statusLabel)]
        for exception in p.result.exceptions {
            result.append((t("Exception", "Exception"), Self.exception(exception, payload: p, language: language)))
        }
        sections.append(Section(title: t("Résultat", "Result"), rows: Self.compact(result)))
        if let health = p.health {
            let reasons = health.reasons.map { reason -> String in
                var text = reason.code
                if let value = reason.value { text += " = \(Self.figure(value))" }
                if let threshold = reason.threshold { text += " (\(t("seuil", "threshold")) \(Self.figure(threshold)))" }
                return text
            }
            sections.append(Section(title: t("Santé du disque (avant effacement)", "Drive health (before erasure)"), rows: Self.compact([
                (t("Verdict", "Verdict"), "\(Self.healthLabel(health.verdict, language)) (\(health.verdict))"),
                (t("Raisons", "Reasons"), reasons.isEmpty ? nil : reasons.joined(separator: " · ")),
                (t("Heures de fonctionnement", "Power-on hours"), health.powerOnHours.map(String.init)),
                (t("Politique", "Policy"), health.policyVersion),
            ])))
        }
        sections.append(Section(title: t("Dates et volumes", "Dates and volume"), rows: [
            (t("Début", "Started"), Self.date(p.timing.startedAt)),
            (t("Fin", "Ended"), Self.date(p.timing.endedAt)),
            (t("Durée", "Duration"), Self.duration(p.timing.durationSeconds, language)),
            (t("Octets écrits", "Bytes written"), Self.bytes(p.timing.bytesWritten, language)),
            (t("Débit moyen", "Average throughput"), Self.rate(p.timing.throughputBytesPerSecond)),
        ]))
        sections.append(Section(title: t("Intervenants", "People"), rows: Self.compact([
            (t("Technicien", "Technician"), [p.technician.name, p.technician.title].compactMap { $0 }.joined(separator: ", ")),
            (t("Validé par", "Validated by"), p.validator.map { [$0.name, $0.title].compactMap { $0 }.joined(separator: ", ") }),
        ])))
        sections.append(Section(title: t("Preuve", "Proof"), rows: Self.compact([
            (t("Certificat n°", "Certificate id"), p.id),
            (t("Émis le", "Issued"), Self.date(p.issuedAt)),
            (t("Banc", "Bench"), p.benchID),
            (t("Clé du banc (RFC 7638)", "Bench key (RFC 7638)"), keyID),
            (t("SHA-256 du JSON signé", "SHA-256 of the signed JSON"), sha256),
            (t("Schéma", "Schema"), "\(p.schema) v\(p.schemaVersion)"),
        ])))
        self.sections = sections
    }

    private static func compact(_ rows: [(String, String?)]) -> [(label: String, value: String)] {
        rows.compactMap { row in row.1.flatMap { $0.isEmpty ? nil : (label: row.0, value: $0) } }
    }

    /// Plain text, as `cert show` prints it.
    public var text: String {
        var out = "\(title)\n\(String(repeating: "=", count: title.count))\n\(statusLabel)\n"
        for section in sections {
            out += "\n\(section.title)\n"
            let width = section.rows.map(\.label.count).max() ?? 0
            for row in section.rows {
                out += "  " + row.label.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + row.value + "\n"
            }
        }
        return out
    }

    // MARK: Formatting (locale-independent: the PDF must render identically everywhere)

    /// The health verdict in words, as the dashboard says it.
    static func healthLabel(_ verdict: String, _ language: Language) -> String {
        let fr = language == .french
        switch verdict {
        case "reuse": return fr ? "réemploi" : "reuse"
        case "caution": return fr ? "à surveiller" : "caution"
        case "discard": return fr ? "à détruire" : "discard"
        case "unknown": return fr ? "santé inconnue" : "health unknown"
        default: return verdict
        }
    }

    static func figure(_ figure: DriveHealth.Figure) -> String {
        switch figure {
        case .number(let value): String(value)
        case .text(let value): value
        }
    }

    public static func statusLabel(_ status: ErasureStatus, language: Language) -> String {
        switch (status, language) {
        case (.erased, .french): "EFFACÉ"
        case (.erased, .english): "ERASED"
        case (.erasedWithExceptions, .french): "EFFACÉ AVEC RÉSERVES"
        case (.erasedWithExceptions, .english): "ERASED WITH EXCEPTIONS"
        case (.notErased, .french): "NON EFFACÉ"
        case (.notErased, .english): "NOT ERASED"
        }
    }

    /// An exception in the reader's language, passes counted from 1. Built from the signed
    /// structured members (kind, pass, bytes); the recorded `detail` (English, technical) is
    /// shown only where nothing structured says the same (a job's stop reason, a drive
    /// command's answer, a resumption).
    public static func exception(_ exception: ErasureException, payload p: CertificatePayload, language: Language) -> String {
        let french = language == .french
        func t(_ fr: String, _ en: String) -> String { french ? fr : en }
        let pass = exception.passIndex.map { $0 + 1 }
        let capacity = p.media.capacityBytes
        switch exception.kind {
        case .incompleteCoverage:
            guard let pass else { return t("aucune passe ni commande du disque n'a couvert tout le support",
                                           "no pass or drive command covered the whole medium") }
            let covered = capacity - min(capacity, exception.bytes ?? 0)
            return t("la passe \(pass) n'a couvert que ", "pass \(pass) covered only ") + bytes(covered, language)
                + t(" sur ", " of ") + bytes(capacity, language)
        case .unwrittenSectors:
            let errors = p.sanitization.passes.first { $0.index == exception.passIndex }?.ioErrors ?? 0
            return t("passe \(pass ?? 0) : \(errors) erreur(s) d'entrée-sortie, ", "pass \(pass ?? 0): \(errors) I/O error(s), ")
                + bytes(exception.bytes ?? 0, language) + t(" non écrits", " unwritten")
        case .verificationFailed:
            return pass.map { t("la vérification de la passe \($0) a échoué", "verification of pass \($0) failed") }
                ?? t("la vérification finale a échoué", "the final verification failed")
        case .verificationNotPerformed:
            return t("aucune vérification finale", "no final verification")
        case .hiddenAreaNotErased:
            return t("zone cachée (HPA/DCO) non effacée", "hidden area (HPA/DCO) not erased")
                + (exception.bytes.map { " · " + bytes($0, language) } ?? "")
        case .driveRemoved:
            return t("disque retiré pendant le travail", "drive removed during the job")
        case .jobInterrupted:
            return t("travail interrompu", "job interrupted") + " — " + exception.detail
        case .jobFailed:
            return t("travail en échec", "job failed") + " — " + exception.detail
        case .firmwareCommandFailed:
            return t("commande du disque en échec", "drive command failed") + " — " + exception.detail
        case .other:
            return exception.detail
        }
    }

    static func destination(_ destination: Destination, _ language: Language) -> String {
        let french = language == .french
        return switch destination {
        case .internalReuse: french ? "réemploi interne" : "internal reuse"
        case .externalReuse: french ? "réemploi externe" : "external reuse"
        case .recycling: french ? "recyclage" : "recycling"
        case .manufacturer: french ? "retour fabricant" : "manufacturer"
        case .other: french ? "autre" : "other"
        }
    }

    static func mediaType(_ type: MediaType, _ language: Language) -> String {
        let french = language == .french
        return switch type {
        case .magnetic: french ? "magnétique (disque dur)" : "magnetic (hard disk)"
        case .flash: french ? "flash (SSD, clé, carte)" : "flash (SSD, stick, card)"
        case .hybrid: french ? "hybride (SSHD)" : "hybrid (SSHD)"
        case .unknown: french ? "inconnu" : "unknown"
        }
    }

    static func method(_ method: SanitizationMethod, _ language: Language) -> String {
        let french = language == .french
        return switch method {
        case .overwrite: french ? "réécriture" : "overwrite"
        case .firmware: french ? "commande d'effacement du disque" : "drive erase command"
        case .firmwareAndOverwrite: french ? "commande du disque puis réécriture" : "drive command then overwrite"
        case .none: french ? "aucune menée à terme" : "none completed"
        }
    }

    static func verification(_ mode: VerificationMode, _ samples: UInt64?, _ result: VerificationOutcome, _ language: Language) -> String {
        let french = language == .french
        let modeText = switch mode {
        case .full: french ? "relecture complète" : "full read-back"
        case .sampled: (french ? "échantillonnage" : "sampling") + (samples.map { " (\($0) " + (french ? "échantillons)" : "samples)") } ?? "")
        case .none: french ? "aucune" : "none"
        }
        let resultText = switch result {
        case .passed: french ? "réussie" : "passed"
        case .failed: french ? "ÉCHEC" : "FAILED"
        case .notPerformed: french ? "non effectuée" : "not performed"
        }
        return mode == .none ? resultText : "\(modeText), \(resultText)"
    }

    /// Exact bytes with thin grouping, then the decimal size: "500 107 862 016 octets (500.1 GB)".
    static func bytes(_ count: UInt64, _ language: Language) -> String {
        let digits = Array(String(count))
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { grouped += " " }
            grouped.append(digit)
        }
        let units = language == .french ? ["o", "ko", "Mo", "Go", "To", "Po"] : ["B", "kB", "MB", "GB", "TB", "PB"]
        var value = Double(count)
        var unit = 0
        while value >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
        let human = unit == 0 ? "" : " (" + String(format: "%.1f", value) + " \(units[unit]))"
        return grouped + (language == .french ? " octets" : " bytes") + human
    }

    static func rate(_ bytesPerSecond: Double) -> String {
        String(format: "%.1f MB/s", bytesPerSecond / 1_000_000)
    }

    static func duration(_ seconds: Double, _ language: Language) -> String {
        let total = Int(seconds.rounded())
        let hours = total / 3600, minutes = total % 3600 / 60, secs = total % 60
        if hours > 0 { return String(format: "%d h %02d min %02d s", hours, minutes, secs) }
        if minutes > 0 { return String(format: "%d min %02d s", minutes, secs) }
        return seconds < 10 && seconds != seconds.rounded() ? String(format: "%.2f s", seconds) : "\(secs) s"
    }

    /// RFC 3339 in UTC, whatever the bench's time zone.
    static func date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d UTC", c.year ?? 0, c.month ?? 0, c.day ?? 0,
                      c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }
}
