import ArdoiseSupport
import Certificates
import Crypto
import Foundation
import Mustache

/// The pages people read: server-rendered HTML from Mustache templates, French first, no
/// JavaScript, one column that fits a phone. The templates are compiled into the binary
/// (`PageTemplates`), so an installed `ardoise-store` needs no resource directory.
public struct StorePages: Sendable {
    private let library: MustacheLibrary

    public init() {
        var templates: [String: MustacheTemplate] = [:]
        for (name, text) in PageTemplates.all {
            // The templates are constants of this file: a syntax error is a programmer error.
            templates[name] = try! MustacheTemplate(string: text)
        }
        library = MustacheLibrary(templates: templates)
    }

    func render(_ context: [String: Any], template: String) -> String {
        library.render(context, withTemplate: template) ?? ""
    }

    /// What `/c/{id}` says about one certificate.
    public struct CertificateCheck: Sendable {
        public enum State: String, Sendable { case valid, invalid, unknown }
        public var state: State
        public var reasons: [LocalizedText]
        public var payload: CertificatePayload?
        public var record: StoredRecord?
        public var bench: EnrolledBench?
        /// The document shown (its hash) is not the stored one: the facts below are the stored
        /// certificate's, not the paper's.
        public var paperMismatch = false
    }

    /// Checks a certificate as the donor page shows it: the stored bytes must verify against
    /// the enrolled key of the bench that pushed it, and, when the QR code or the paper's hash
    /// is given (`expectedSHA256`), must be exactly those bytes.
    public static func check(id: String, storage: any RecordStorage, expectedSHA256: String?) async throws -> CertificateCheck {
        let normalized = id.lowercased()
        guard UUID(uuidString: normalized) != nil, let record = try await storage.record(id: normalized), record.kind == .certificate else {
            return CertificateCheck(state: .unknown, reasons: [LocalizedText(
                fr: "Aucun certificat portant cet identifiant n'a été reçu par ce registre. Un certificat authentique y est envoyé par l'atelier ; s'il vient d'être émis, réessayez plus tard, sinon ce document n'est pas reconnu.",
                en: "No certificate with this id has reached this store. A genuine certificate is sent here by the workshop; if it was just issued, try again later, otherwise this document is not recognised.")],
                payload: nil, record: nil, bench: nil)
        }
        let bench = try await storage.bench(id: record.benchID)
        var reasons: [LocalizedText] = []
        guard let bench, let jwk = try? JSONDecoder().decode(PublicJWK.self, from: Data(bench.publicJWK.utf8)) else {
            return CertificateCheck(state: .invalid, reasons: [LocalizedText(
                fr: "Le banc qui a envoyé ce certificat n'est pas enregistré.", en: "The bench that sent this certificate is not enrolled.")],
                payload: nil, record: record, bench: nil)
        }
        let report = CertificateVerifier.verifySignedJSON(record.body, trusting: TrustedKeys([jwk]))
        var state: CertificateCheck.State = report.verdict == .valid ? .valid : .invalid
        if report.verdict == .valid {
            reasons.append(LocalizedText(
                fr: "Signature vérifiée avec la clé du banc « \(bench.name) » (\(bench.organisation)), enregistrée dans ce registre.",
                en: "Signature checked with the key of bench '\(bench.name)' (\(bench.organisation)), enrolled in this store."))
        } else {
            reasons.append(contentsOf: report.reasons)
        }
        if Hex.encode(SHA256.hash(data: record.body)) != record.sha256 {
            state = .invalid
            reasons.append(LocalizedText(fr: "Le contenu enregistré a été altéré depuis sa réception.",
                                         en: "The stored content was altered after it was received."))
        }
        if let expected = expectedSHA256?.lowercased(), !expected.isEmpty {
            if expected == record.sha256 {
                reasons.append(LocalizedText(fr: "Le document présenté est identique à celui reçu (empreinte SHA-256 identique).",
                                             en: "The document shown is identical to the one received (same SHA-256)."))
            } else {
                state = .invalid
                reasons.insert(LocalizedText(
                    fr: "Le document présenté (empreinte \(expected.prefix(16))…) n'est pas celui qu'a reçu le registre (\(record.sha256.prefix(16))…) : il a été modifié ou contrefait.",
                    en: "The document shown (hash \(expected.prefix(16))…) is not the one the store received (\(record.sha256.prefix(16))…): it was altered or forged."),
                    at: 0)
                var check = CertificateCheck(state: state, reasons: reasons, payload: report.payload, record: record, bench: bench)
                check.paperMismatch = true
                return check
            }
        }
        if let revoked = bench.revokedAt {
            reasons.append(LocalizedText(
                fr: "Note : le banc a été retiré du réseau le \(Self.day(revoked, .french)), après réception de ce certificat.",
                en: "Note: the bench was withdrawn from the network on \(Self.day(revoked, .english)), after this certificate was received."))
        }
        return CertificateCheck(state: state, reasons: reasons, payload: report.payload, record: record, bench: bench)
    }

    /// The HTML of `/c/{id}`.
    public func certificatePage(_ check: CertificateCheck, id: String, language: Language) -> String {
        func t(_ fr: String, _ en: String) -> String { language == .french ? fr : en }
        var context: [String: Any] = [
            "lang": language.rawValue,
            "title": t("Vérification d'un certificat d'effacement", "Erasure certificate check"),
            "id": id,
            "otherLanguageLink": "?lang=\(language == .french ? "en" : "fr")",
            "otherLanguageLabel": language == .french ? "English" : "Français",
            "reasons": check.reasons.map { $0.text(in: language) },
            "reasonsTitle": t("Pourquoi", "Why"),
            "footer": t("Registre de traçabilité Ardoise — cette page n'utilise ni JavaScript ni cookies.",
                        "Ardoise traceability store — this page uses no JavaScript and no cookies."),
        ]
        switch check.state {
        case .valid:
            context["stateClass"] = "valid"
            context["verdict"] = t("✔ Certificat valide", "✔ Valid certificate")
        case .invalid:
            context["stateClass"] = "invalid"
            context["verdict"] = t("✘ Certificat NON valide", "✘ Certificate NOT valid")
        case .unknown:
            context["stateClass"] = "unknown"
            context["verdict"] = t("? Certificat inconnu", "? Unknown certificate")
        }
        if let payload = check.payload {
            let status = CertificateSummary.statusLabel(payload.result.status, language: language)
            var facts: [[String: String]] = [
                ["label": t("Résultat", "Result"), "value": status],
                ["label": t("Support effacé", "Erased medium"),
                 "value": [payload.media.manufacturer, payload.media.model].compactMap { $0 }.joined(separator: " ")
                    + " — " + t("n° de série ", "serial ") + payload.media.serial],
                ["label": t("Méthode", "Method"),
                 "value": "\(payload.sanitization.profile) (NIST SP 800-88 \(payload.sanitization.category.rawValue.capitalized)), "
                    + t("\(payload.sanitization.passes.count) passe(s), vérification ", "\(payload.sanitization.passes.count) pass(es), verification ")
                    + Self.verification(payload.verification.result, language)],
                ["label": t("Quand", "When"),
                 "value": t("du ", "from ") + Self.minute(payload.timing.startedAt, language) + t(" au ", " to ") + Self.minute(payload.timing.endedAt, language)],
                ["label": t("Par", "By"), "value": payload.organisation.name + (check.bench.map { t(", banc « \($0.name) »", ", bench '\($0.name)'") } ?? "")],
            ]
            if let lot = payload.lot { facts.append(["label": t("Lot", "Lot"), "value": lot]) }
            if !payload.result.exceptions.isEmpty {
                facts.append(["label": t("Exceptions", "Exceptions"),
                              "value": payload.result.exceptions.map { "\($0.kind.rawValue): \($0.detail)" }.joined(separator: " ; ")])
            }
            context["facts"] = facts
            context["hasFacts"] = true
            if check.paperMismatch {
                context["factsTitle"] = t("Le certificat authentique enregistré sous cet identifiant dit :",
                                          "The genuine certificate stored under this id says:")
            }
            context["hasSections"] = true
            let summary = CertificateSummary(payload: payload, keyID: check.record?.keyID, sha256: check.record?.sha256, language: language)
            context["sections"] = summary.sections.map { section in
                ["title": section.title, "rows": section.rows.map { ["label": $0.label, "value": $0.value] }] as [String: Any]
            }
            context["detailsTitle"] = t("Détails du certificat", "Certificate details")
        }
        if let record = check.record {
            context["proof"] = [
                ["label": t("Empreinte SHA-256 du document signé", "SHA-256 of the signed document"), "value": record.sha256],
                ["label": t("Reçu par le registre le", "Received by the store on"), "value": Self.minute(record.receivedAt, language)],
            ]
            context["hasProof"] = true
            context["downloadLabel"] = t("Télécharger le certificat signé (JSON)", "Download the signed certificate (JSON)")
            context["downloadLink"] = "/api/v1/certificates/\(record.id)"
        }
        return render(context, template: "certificate")
    }

    /// A plain page for errors (404 and the like).
    public func messagePage(title: LocalizedText, message: LocalizedText, language: Language) -> String {
        render(["lang": language.rawValue, "title": title.text(in: language), "message": message.text(in: language)], template: "message")
    }

    static func verification(_ outcome: VerificationOutcome, _ language: Language) -> String {
        switch outcome {
        case .passed: language == .french ? "réussie" : "passed"
        case .failed: language == .french ? "ÉCHOUÉE" : "FAILED"
        case .notPerformed: language == .french ? "non effectuée" : "not performed"
        }
    }

    static func minute(_ date: Date, _ language: Language) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: language == .french ? "fr_FR" : "en_GB")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = language == .french ? "d/MM/yyyy 'à' HH:mm 'UTC'" : "d MMM yyyy, HH:mm 'UTC'"
        return formatter.string(from: date)
    }

    static func day(_ date: Date, _ language: Language) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: language == .french ? "fr_FR" : "en_GB")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = language == .french ? "d/MM/yyyy" : "d MMM yyyy"
        return formatter.string(from: date)
    }
}

/// The Mustache templates. `{{x}}` escapes HTML; nothing here uses `{{{x}}}`.
enum PageTemplates {
    /// The start of every page, up to `</head>`: language, phone viewport, title, style.
    static let head = """
        <!DOCTYPE html>
        <html lang="{{lang}}">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}}</title>
        \(style)
        </head>
        """

    static let style = """
        <style>
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;padding:1rem;max-width:44rem;margin:auto;line-height:1.45;color:#1b1b1b;background:#fafafa}
        h1{font-size:1.35rem;margin:.2rem 0 1rem}
        h2{font-size:1.1rem;margin:1.4rem 0 .4rem}
        .verdict{font-size:1.5rem;font-weight:700;padding:1rem;border-radius:.5rem;margin:0 0 1rem}
        .valid{background:#dff5e1;color:#0b5d1e;border:2px solid #0b5d1e}
        .invalid{background:#fde2e1;color:#8a1010;border:2px solid #8a1010}
        .unknown{background:#fff3cd;color:#664d03;border:2px solid #664d03}
        dl{display:grid;grid-template-columns:minmax(7rem,max-content) 1fr;gap:.25rem .8rem;margin:0}
        dt{font-weight:600}
        dd{margin:0;overflow-wrap:anywhere}
        ul{padding-left:1.2rem}
        .lang{float:right;font-size:.9rem}
        footer{margin-top:2rem;font-size:.8rem;color:#555}
        @media (max-width:30rem){dl{grid-template-columns:1fr}dt{margin-top:.4rem}}
        </style>
        """

    static let certificate = """
        \(head)
        <body>
        <a class="lang" href="{{otherLanguageLink}}">{{otherLanguageLabel}}</a>
        <h1>{{title}}</h1>
        <p class="verdict {{stateClass}}" id="verdict">{{verdict}}</p>
        <p>{{id}}</p>
        <h2>{{reasonsTitle}}</h2>
        <ul id="reasons">
        {{#reasons}}<li>{{.}}</li>
        {{/reasons}}
        </ul>
        {{#factsTitle}}<h2 id="facts-title">{{factsTitle}}</h2>{{/factsTitle}}
        {{#hasFacts}}<dl id="facts">{{#facts}}<dt>{{label}}</dt><dd>{{value}}</dd>
        {{/facts}}</dl>{{/hasFacts}}
        {{#hasSections}}<h2>{{detailsTitle}}</h2>{{/hasSections}}
        {{#sections}}
        <h3>{{title}}</h3>
        <dl>{{#rows}}<dt>{{label}}</dt><dd>{{value}}</dd>{{/rows}}</dl>
        {{/sections}}
        {{#hasProof}}<h2>SHA-256</h2><dl id="proof">{{#proof}}<dt>{{label}}</dt><dd>{{value}}</dd>{{/proof}}</dl>{{/hasProof}}
        {{#downloadLink}}<p><a href="{{downloadLink}}">{{downloadLabel}}</a></p>{{/downloadLink}}
        <footer>{{footer}}</footer>
        </body>
        </html>
        """

    static let message = """
        \(head)
        <body>
        <h1>{{title}}</h1>
        <p>{{message}}</p>
        </body>
        </html>
        """

    static var all: [String: String] { ["certificate": certificate, "message": message, "figures": figures, "access": access] }
}
