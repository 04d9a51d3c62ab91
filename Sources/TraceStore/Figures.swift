import ArdoiseSupport
import Foundation

/// Emission factors for "kg CO2e avoided by reuse", from the configuration (`[figures]`).
/// There is no built-in number: a network chooses the factors of a published study and names
/// it, and the page prints that source beside the figure. Without factors the figure is not
/// computed.
public struct FiguresSettings: Sendable, Equatable {
    /// kg CO2e avoided per reused laptop.
    public var laptopKgCO2e: Double?
    /// kg CO2e avoided per reused desktop (all-in-ones included).
    public var desktopKgCO2e: Double?
    /// kg CO2e avoided per reused drive (a certificate whose health verdict is reuse or caution).
    public var driveKgCO2e: Double?
    /// The published source of the factors (title, publisher, year, URL).
    public var source: String?

    public init(laptopKgCO2e: Double? = nil, desktopKgCO2e: Double? = nil, driveKgCO2e: Double? = nil, source: String? = nil) {
        self.laptopKgCO2e = laptopKgCO2e
        self.desktopKgCO2e = desktopKgCO2e
        self.driveKgCO2e = driveKgCO2e
        self.source = source
    }
}

/// One year of the network's figures.
public struct YearFigures: Sendable {
    public var year: Int
    public var counts: YearCounts
    public var settings: FiguresSettings

    /// Devices received: inventories (one per computer); drives certified without an inventory
    /// are counted under `drivesCertified`.
    public var devicesReceived: Int { counts.inventories }
    public var drivesCertified: Int { counts.certificates }
    public var drivesErased: Int { counts.erased + counts.erasedWithExceptions }
    /// Drives whose health verdict allows reuse (reuse, caution).
    public var drivesReused: Int { counts.verdictReuse + counts.verdictCaution }
    /// Drives whose health verdict is discard (to be destroyed).
    public var drivesDestroyed: Int { counts.verdictDiscard }

    /// kg CO2e avoided: laptops and desktops inventoried this year times their factor, plus
    /// reused drives times theirs; nil when no factor is configured.
    public var kgCO2eAvoided: Double? {
        guard settings.laptopKgCO2e != nil || settings.desktopKgCO2e != nil || settings.driveKgCO2e != nil else { return nil }
        return Double(counts.laptops) * (settings.laptopKgCO2e ?? 0) + Double(counts.desktops) * (settings.desktopKgCO2e ?? 0)
            + Double(drivesReused) * (settings.driveKgCO2e ?? 0)
    }

    /// The rows of the page and of the CSV: stable code, French and English labels, value.
    public var rows: [(code: String, label: LocalizedText, value: String)] {
        var rows: [(String, LocalizedText, String)] = [
            ("devices_received", LocalizedText(fr: "Ordinateurs reçus (inventoriés)", en: "Computers received (inventoried)"), "\(devicesReceived)"),
            ("laptops", LocalizedText(fr: "dont portables", en: "of which laptops"), "\(counts.laptops)"),
            ("desktops", LocalizedText(fr: "dont fixes (tours, tout-en-un)", en: "of which desktops (towers, all-in-ones)"), "\(counts.desktops)"),
            ("other_chassis", LocalizedText(fr: "dont autres ou inconnus", en: "of which other or unknown"), "\(counts.otherChassis)"),
            ("drives_certified", LocalizedText(fr: "Disques certifiés", en: "Drives certified"), "\(drivesCertified)"),
            ("drives_erased", LocalizedText(fr: "Disques effacés", en: "Drives erased"), "\(drivesErased)"),
            ("drives_not_erased", LocalizedText(fr: "Disques non effacés", en: "Drives not erased"), "\(counts.notErased)"),
            ("drives_reused", LocalizedText(fr: "Disques réemployés (santé : réemploi ou prudence)", en: "Drives reused (health: reuse or caution)"), "\(drivesReused)"),
            ("drives_destroyed", LocalizedText(fr: "Disques à détruire (santé : rebut)", en: "Drives to destroy (health: discard)"), "\(drivesDestroyed)"),
            ("drives_health_unknown", LocalizedText(fr: "Disques sans verdict de santé", en: "Drives without a health verdict"), "\(counts.verdictUnknown)"),
        ]
        if let avoided = kgCO2eAvoided {
            rows.append(("kg_co2e_avoided", LocalizedText(fr: "kg CO2e évités par le réemploi", en: "kg CO2e avoided by reuse"),
                         String(format: "%.0f", avoided)))
        }
        return rows
    }

    /// RFC 4180 CSV: `year,code,label_fr,label_en,value`, then the factors' source as a row.
    public func csv() -> String {
        func field(_ text: String) -> String {
            text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"\(text.replacingOccurrences(of: "\"", with: "\"\""))\"" : text
        }
        var lines = ["year,code,label_fr,label_en,value"]
        for row in rows {
            lines.append([String(year), row.code, field(row.label.french), field(row.label.english), row.value].joined(separator: ","))
        }
        if kgCO2eAvoided != nil, let source = settings.source {
            lines.append([String(year), "co2e_factors_source", "Source des facteurs", "Source of the factors", field(source)].joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}

extension StorePages {
    /// The HTML of `/figures/{year}`.
    public func figuresPage(_ figures: YearFigures, language: Language) -> String {
        func t(_ fr: String, _ en: String) -> String { language == .french ? fr : en }
        var context: [String: Any] = [
            "lang": language.rawValue,
            "title": t("Chiffres du réseau — \(figures.year)", "Network figures — \(figures.year)"),
            "rows": figures.rows.map { ["label": $0.label.text(in: language), "value": $0.value] },
            "csvLink": "/figures/\(figures.year).csv",
            "csvLabel": t("Télécharger en CSV", "Download as CSV"),
            "otherLanguageLink": "?lang=\(language == .french ? "en" : "fr")",
            "otherLanguageLabel": language == .french ? "English" : "Français",
        ]
        if figures.kgCO2eAvoided != nil {
            context["source"] = t("Facteurs d'émission : ", "Emission factors: ") + (figures.settings.source ?? t("source non indiquée", "source not given"))
        } else {
            context["source"] = t("Aucun facteur d'émission n'est configuré : les kg CO2e évités ne sont pas calculés (section [figures] de la configuration).",
                                  "No emission factor is configured: kg CO2e avoided is not computed ([figures] section of the configuration).")
        }
        return render(context, template: "figures")
    }
}

extension PageTemplates {
    static let figures = """
        \(head)
        <body>
        <a class="lang" href="{{otherLanguageLink}}">{{otherLanguageLabel}}</a>
        <h1>{{title}}</h1>
        <dl id="figures">{{#rows}}<dt>{{label}}</dt><dd>{{value}}</dd>
        {{/rows}}</dl>
        <p id="source">{{source}}</p>
        <p><a href="{{csvLink}}">{{csvLabel}}</a></p>
        </body>
        </html>
        """
}
