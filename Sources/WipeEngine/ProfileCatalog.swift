import ArdoiseSupport

/// Text for people about profiles: the `ardoise profiles` table and the `profiles show` lines.
/// Kept here so the CLI stays a thin caller and the wording is tested with the engine.
public enum ProfileCatalog {
    /// One row per profile: name, title, passes, NIST category, verification.
    public static func table(_ library: ProfileLibrary, language: Language) -> String {
        let header = language == .french
            ? ["NOM", "TITRE", "PASSES", "NIST", "VÉRIFICATION"]
            : ["NAME", "TITLE", "PASSES", "NIST", "VERIFICATION"]
        let rows = library.profiles.map { profile in
            [profile.name, profile.title.text(in: language), String(profile.passes.count),
             profile.nistCategory.rawValue, profile.verificationSummary(in: language)]
        }
        return render([header] + rows, rightAligned: [2])
    }

    /// The profile's header lines then one line per pass.
    public static func details(_ profile: WipeProfile, language: Language) -> [String] {
        let fr = language == .french
        var lines = [
            "\(profile.name) — \(profile.title.text(in: language))",
            (fr ? "Norme : " : "Standard: ") + profile.standard,
        ]
        if let reading = profile.reading { lines.append((fr ? "Lecture : " : "Reading: ") + reading) }
        lines.append((fr ? "Catégorie NIST : " : "NIST category: ") + profile.nistCategory.rawValue)
        lines.append((fr ? "En cas d'erreur : " : "On error: ")
            + (profile.onError == .abort ? (fr ? "arrêt" : "abort") : (fr ? "continuer (terminé avec exceptions)" : "continue (completed with exceptions)")))
        if let path = profile.sourcePath { lines.append((fr ? "Fichier : " : "File: ") + path) }
        if let firmware = profile.firmware {
            let method = firmware.method == "auto"
                ? (fr ? "la plus forte purge prise en charge par le disque (auto)" : "the strongest purge the drive supports (auto)")
                : firmware.method
            lines.append((fr ? "Firmware : " : "Firmware: ") + method + ", " + verificationText(firmware.verification, language: language)
                + (fr ? " sur échantillons marqués avant l'effacement" : " on samples seeded before the erase"))
            if firmware.restoreHiddenArea { lines.append(fr ? "  zones cachées (HPA, DCO) ouvertes avant l'effacement" : "  hidden areas (HPA, DCO) opened before the erase") }
            lines.append(firmware.finalOverwrite
                ? (fr ? "  puis les passes ci-dessous" : "  then the passes below")
                : (fr ? "  passes ci-dessous : seulement pour un disque dur sans purge firmware (alors NIST Clear)" : "  passes below: only for a hard disk without firmware purge (then NIST Clear)"))
        }
        lines.append(fr ? "Passes :" : "Passes:")
        let width = String(profile.passes.count).count
        for (index, pass) in profile.passes.enumerated() {
            let number = String(index + 1)
            let padded = String(repeating: " ", count: width - number.count) + number
            lines.append("  \(padded). " + passLine(pass, language: language))
        }
        return lines
    }

    /// `constant 0x00, verify full` / `octet constant 0x00, vérification complète`.
    public static func passLine(_ pass: PassSpecification, language: Language) -> String {
        let fr = language == .french
        var text: String
        switch pass.pattern {
        case .constant(let byte):
            text = (fr ? "octet constant " : "constant byte ") + hex([byte])
        case .pattern(let bytes):
            text = (fr ? "motif " : "pattern ") + hex(bytes)
        case .complement:
            text = fr ? "complément de la passe précédente" : "complement of the previous pass"
        case .randomByte:
            text = fr ? "octet aléatoire (tiré par tâche)" : "random byte (drawn per job)"
        case .prng(let algorithm):
            text = (fr ? "flux pseudo-aléatoire " : "pseudo-random stream ") + algorithm.rawValue
        }
        if pass.isFinalBlank { text = (fr ? "effacement final : " : "final blanking: ") + text }
        if !pass.writes { text += fr ? " (lecture seule : contrôle)" : " (read-only: check)" }
        if pass.shuffled { text += fr ? " [ordre tiré au hasard]" : " [order shuffled]" }
        text += ", " + verificationText(pass.verification, language: language)
        return text
    }

    public static func verificationText(_ mode: VerificationMode, language: Language) -> String {
        let fr = language == .french
        switch mode {
        case .none: return fr ? "sans vérification" : "not verified"
        case .full: return fr ? "vérification complète" : "full verification"
        case .nistSample: return fr ? "vérification par échantillons NIST 800-88" : "NIST 800-88 sampled verification"
        case .samplePercent(let percent):
            let value = VerificationMode.formatPercent(percent)
            return fr ? "vérification par échantillons (\(value) %)" : "sampled verification (\(value)%)"
        }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        // Upper case on the profile screens, as the profile files write them ("0x55 0xAA").
        bytes.map { "0x" + Hex.byte($0).uppercased() }.joined(separator: " ")
    }

    static func render(_ rows: [[String]], rightAligned: Set<Int>) -> String {
        guard let columns = rows.first?.count else { return "" }
        let widths = (0..<columns).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                if column == columns - 1 { return rightAligned.contains(column) ? padding + cell : cell }
                return rightAligned.contains(column) ? padding + cell : cell + padding
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
