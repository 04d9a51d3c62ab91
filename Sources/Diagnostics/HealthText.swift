import ArdoiseSupport
import Foundation

extension HealthReason {
    /// Words for a technician; the JSON keeps `code`.
    public static let labels: [String: LocalizedText] = [
        "smartctl_not_found": LocalizedText(fr: "smartctl absent (paquet smartmontools)", en: "smartctl missing (smartmontools package)"),
        "smartctl_failed": LocalizedText(fr: "smartctl n'a pas pu être lancé", en: "smartctl could not be run"),
        "smartctl_command_line_error": LocalizedText(fr: "smartctl a refusé la ligne de commande (type -d ?)", en: "smartctl refused the command line (-d type?)"),
        "smart_device_open_failed": LocalizedText(fr: "le disque ou son pont USB ne répond pas à SMART", en: "the drive or its USB bridge does not answer SMART"),
        "smart_unavailable": LocalizedText(fr: "aucune donnée SMART", en: "no SMART data"),
        "smart_not_supported": LocalizedText(fr: "le disque n'a pas SMART", en: "the drive has no SMART"),
        "smart_disabled": LocalizedText(fr: "SMART désactivé sur le disque (smartctl -s on l'active)", en: "SMART switched off on the drive (smartctl -s on enables it)"),
        "smart_file_unreadable": LocalizedText(fr: "fichier SMART illisible", en: "SMART file unreadable"),
        "smart_output_invalid": LocalizedText(fr: "sortie de smartctl illisible", en: "unreadable smartctl output"),
        "smart_status_failed": LocalizedText(fr: "le disque se déclare défaillant (SMART FAILED)", en: "the drive reports itself failing (SMART FAILED)"),
        "smart_status_unavailable": LocalizedText(fr: "état SMART global indisponible", en: "overall SMART status unavailable"),
        "ata_attribute_failing_now": LocalizedText(fr: "attribut sous son seuil en ce moment", en: "attribute below its threshold now"),
        "ata_attribute_failed_in_past": LocalizedText(fr: "attribut passé sous son seuil autrefois", en: "attribute below its threshold in the past"),
        "ata_reallocated_sectors": LocalizedText(fr: "secteurs réalloués", en: "reallocated sectors"),
        "ata_reported_uncorrectable": LocalizedText(fr: "erreurs non corrigibles signalées", en: "reported uncorrectable errors"),
        "ata_command_timeouts": LocalizedText(fr: "commandes expirées", en: "command timeouts"),
        "ata_pending_sectors": LocalizedText(fr: "secteurs en attente de réallocation", en: "pending sectors"),
        "ata_offline_uncorrectable": LocalizedText(fr: "secteurs non corrigibles (hors ligne)", en: "offline uncorrectable sectors"),
        "ata_interface_crc_errors": LocalizedText(fr: "erreurs CRC d'interface (câble ou pont, pas le disque)", en: "interface CRC errors (cable or bridge, not the drive)"),
        "nvme_spare_below_threshold": LocalizedText(fr: "réserve NVMe sous son seuil", en: "NVMe spare below its threshold"),
        "nvme_temperature_warning": LocalizedText(fr: "alerte de température NVMe", en: "NVMe temperature warning"),
        "nvme_reliability_degraded": LocalizedText(fr: "fiabilité NVMe dégradée", en: "NVMe reliability degraded"),
        "nvme_read_only": LocalizedText(fr: "NVMe passé en lecture seule", en: "NVMe media read-only"),
        "nvme_volatile_backup_failed": LocalizedText(fr: "sauvegarde de mémoire volatile NVMe en panne", en: "NVMe volatile memory backup failed"),
        "nvme_persistent_memory_read_only": LocalizedText(fr: "mémoire persistante NVMe en lecture seule", en: "NVMe persistent memory region read-only"),
        "nvme_percentage_used": LocalizedText(fr: "usure NVMe (% de la durée de vie)", en: "NVMe wear (% of rated life)"),
        "nvme_media_errors": LocalizedText(fr: "erreurs de support NVMe", en: "NVMe media errors"),
        "scsi_grown_defects": LocalizedText(fr: "défauts apparus (liste « grown »)", en: "grown defects"),
        "scsi_uncorrected_errors": LocalizedText(fr: "erreurs non corrigées (SCSI)", en: "uncorrected errors (SCSI)"),
        "self_test_failed": LocalizedText(fr: "dernier autotest échoué", en: "latest self-test failed"),
        "self_test_failed_in_past": LocalizedText(fr: "un autotest ancien a échoué", en: "an older self-test failed"),
        "surface_unreadable": LocalizedText(fr: "secteurs illisibles (lecture de surface)", en: "unreadable sectors (surface scan)"),
        "surface_slow_500ms": LocalizedText(fr: "blocs lus en plus de 500 ms", en: "blocks slower than 500 ms"),
        "surface_slow_150ms": LocalizedText(fr: "blocs lus en plus de 150 ms", en: "blocks slower than 150 ms"),
        "surface_slow_50ms": LocalizedText(fr: "blocs lus en plus de 50 ms", en: "blocks slower than 50 ms"),
        "surface_scan_incomplete": LocalizedText(fr: "lecture de surface interrompue", en: "surface scan stopped early"),
        "temperature_high": LocalizedText(fr: "température élevée (°C)", en: "high temperature (°C)"),
        "power_on_hours_high": LocalizedText(fr: "heures de fonctionnement", en: "power-on hours"),
    ]

    /// One line: label, what was read, the threshold.
    public func text(in language: Language) -> String {
        var line = Self.labels[code]?.text(in: language) ?? code
        if let attribute { line += " (ATA \(attribute))" }
        if let value, value != .flag(false), value != .flag(true) {
            line += " : \(value)"
            if let threshold { line += language == .french ? " (seuil \(threshold))" : " (threshold \(threshold))" }
        }
        if let detail { line += " — \(detail)" }
        return language == .english ? line.replacingOccurrences(of: " : ", with: ": ") : line
    }
}

extension HealthReport {
    /// The report as a technician reads it, in `language`.
    public func text(in language: Language, colour: Bool = false) -> String {
        let fr = language == .french
        var lines: [String] = []
        var head = source.path
        if let model = facts.model { head += "  \(model)" }
        if let serial = facts.serial { head += "  \(fr ? "n° de série" : "serial") \(serial)" }
        if let bytes = facts.capacityBytes { head += "  \(ByteCountFormatter.human(bytes))" }
        if facts.mediaType != "unknown" { head += "  \(facts.mediaType.uppercased())" }
        lines.append(head)
        let word = verdict.label.text(in: language)
        let painted = colour ? "\(verdict.ansiColour)\(word)\u{1B}[0m" : word
        lines.append("\(fr ? "Verdict" : "Verdict")\(fr ? " : " : ": ")\(painted)")
        for reason in reasons {
            let mark = reason.severity == "discard" ? "✗" : reason.severity == "caution" ? "!" : "?"
            lines.append("  \(mark) \(reason.text(in: language))")
        }
        var known: [String] = []
        if let hours = facts.powerOnHours { known.append(fr ? "\(hours) h de fonctionnement" : "\(hours) power-on hours") }
        if let temperature = facts.temperatureCelsius { known.append("\(temperature) °C") }
        if let firmware = facts.firmware { known.append("firmware \(firmware)") }
        if !known.isEmpty { lines.append("  " + known.joined(separator: " · ")) }
        if let surface {
            let bad = surface.unreadableRanges.isEmpty ? (fr ? "aucun" : "none")
                : surface.unreadableRanges.map(\.description).joined(separator: " ")
            lines.append(fr
                ? "  Surface (\(surface.mode)) : \(ByteCountFormatter.human(surface.bytesRead)) lus, blocs > 50 ms : \(surface.histogram.slowerThan50ms), > 150 ms : \(surface.histogram.slowerThan150ms), > 500 ms : \(surface.histogram.slowerThan500ms) ; illisibles : \(bad)"
                : "  Surface (\(surface.mode)): \(ByteCountFormatter.human(surface.bytesRead)) read, blocks > 50 ms: \(surface.histogram.slowerThan50ms), > 150 ms: \(surface.histogram.slowerThan150ms), > 500 ms: \(surface.histogram.slowerThan500ms); unreadable: \(bad)")
        }
        if let selfTest {
            let words: [String: LocalizedText] = [
                "passed": LocalizedText(fr: "réussi", en: "passed"), "failed": LocalizedText(fr: "échoué", en: "failed"),
                "aborted": LocalizedText(fr: "interrompu", en: "aborted"),
                "not_supported": LocalizedText(fr: "impossible sur ce disque", en: "not possible on this drive"),
                "timed_out": LocalizedText(fr: "trop long, arrêté", en: "too long, stopped"),
            ]
            let result = words[selfTest.result]?.text(in: language) ?? selfTest.result
            lines.append(fr ? "  Autotest \(selfTest.kind) : \(result)" : "  \(selfTest.kind.capitalized) self-test: \(result)")
        }
        lines.append("  \(fr ? "Politique" : "Policy") \(policyName) \(policyVersion)")
        return lines.joined(separator: "\n")
    }
}

extension HealthVerdict {
    /// Terminal colour: green, yellow, red, grey.
    public var ansiColour: String {
        switch self {
        case .reuse: "\u{1B}[32m"
        case .caution: "\u{1B}[33m"
        case .discard: "\u{1B}[1;31m"
        case .unknown: "\u{1B}[90m"
        }
    }
}
