import ArdoiseSupport
import Certificates
import Crypto
import Foundation

/// Donor access codes: 12 characters of Crockford's base32 (60 random bits), printed as
/// `XXXX-XXXX-XXXX` on the lot certificate or the donor's letter. Typing is forgiving (case,
/// spaces and dashes ignored; O read as 0, I and L as 1); only the SHA-256 of the normalized
/// code is stored.
public enum AccessCode {
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<12).map { _ in alphabet[Int.random(in: 0..<32, using: &generator)] }
        return String(characters[0..<4]) + "-" + String(characters[4..<8]) + "-" + String(characters[8..<12])
    }

    /// The canonical 12 characters, or nil when `text` cannot be a code.
    public static func normalize(_ text: String) -> String? {
        var out = ""
        for character in text.uppercased() where character != "-" && character != " " {
            let mapped: Character
            switch character {
            case "O": mapped = "0"
            case "I", "L": mapped = "1"
            default: mapped = character
            }
            guard alphabet.contains(mapped) else { return nil }
            out.append(mapped)
        }
        return out.count == 12 ? out : nil
    }

    public static func hash(_ text: String) -> String? {
        normalize(text).map { Hex.encode(SHA256.hash(data: Data($0.utf8))) }
    }
}

extension TraceStoreService {
    /// Creates an access code for a lot or a donor; returns the code (shown once).
    public func createAccessCode(scope: AccessGrant.Scope, value: String, at date: Date = Date()) async throws -> String {
        let code = AccessCode.generate()
        try await storage.addAccessGrant(AccessGrant(codeSHA256: AccessCode.hash(code)!, scope: scope, value: value, createdAt: date))
        return code
    }
}

extension StorePages {
    /// The page of `/acces`: a form (plain GET, no script) or, with a valid code, the summary of
    /// the lot or the donor: every certificate with its result and a link to its own page.
    public func accessPage(code: String?, grant: AccessGrant?, records: [StoredRecord], language: Language) -> String {
        func t(_ fr: String, _ en: String) -> String { language == .french ? fr : en }
        var context: [String: Any] = [
            "lang": language.rawValue,
            "formTitle": t("Suivre mes dons", "Follow my donations"),
            "formLabel": t("Code d'accès (imprimé sur le certificat de lot)", "Access code (printed on the lot certificate)"),
            "formButton": t("Afficher", "Show"),
            "otherLanguageLink": "?lang=\(language == .french ? "en" : "fr")" + (code.map { "&code=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" } ?? ""),
            "otherLanguageLabel": language == .french ? "English" : "Français",
            "langValue": language.rawValue,
        ]
        guard let grant else {
            context["title"] = t("Suivre mes dons", "Follow my donations")
            if code != nil {
                context["error"] = t("Ce code d'accès n'est pas reconnu. Vérifiez-le sur le certificat de lot.",
                                     "This access code is not recognised. Check it on the lot certificate.")
            }
            return render(context, template: "access")
        }
        context["title"] = grant.scope == .lot ? t("Lot \(grant.value)", "Lot \(grant.value)") : t("Dons de \(grant.value)", "Donations from \(grant.value)")
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        var certificates: [[String: String]] = []
        var erased = 0, notErased = 0
        for record in records where record.kind == .certificate {
            guard let jws = try? JSONDecoder().decode(FlattenedJWS.self, from: record.body),
                  let bytes = Base64URL.decode(jws.payload),
                  let payload = try? decoder.decode(CertificatePayload.self, from: Data(bytes)) else { continue }
            if payload.result.status == .notErased { notErased += 1 } else { erased += 1 }
            certificates.append([
                "link": "/c/\(record.id)?lang=\(language.rawValue)",
                "date": Self.day(payload.timing.endedAt, language),
                "medium": [payload.media.manufacturer, payload.media.model].compactMap { $0 }.joined(separator: " "),
                "serial": payload.media.serial,
                "status": CertificateSummary.statusLabel(payload.result.status, language: language),
            ])
        }
        let inventories = records.filter { $0.kind == .inventory }.count
        context["summary"] = [
            ["label": t("Disques certifiés", "Drives certified"), "value": "\(certificates.count)"],
            ["label": t("dont effacés", "of which erased"), "value": "\(erased)"],
            ["label": t("dont non effacés (à détruire)", "of which not erased (to destroy)"), "value": "\(notErased)"],
            ["label": t("Ordinateurs inventoriés", "Computers inventoried"), "value": "\(inventories)"],
        ]
        context["hasGrant"] = true
        context["certificates"] = certificates
        context["hasCertificates"] = !certificates.isEmpty
        context["checkLabel"] = t("vérifier", "check")
        context["listTitle"] = t("Certificats", "Certificates")
        return render(context, template: "access")
    }
}

extension PageTemplates {
    static let access = """
        \(head)
        <body>
        <a class="lang" href="{{otherLanguageLink}}">{{otherLanguageLabel}}</a>
        <h1>{{title}}</h1>
        {{#error}}<p class="verdict unknown" id="error">{{error}}</p>{{/error}}
        {{^hasGrant}}
        <form method="get" action="/acces">
        <p><label for="code">{{formLabel}}</label></p>
        <p><input id="code" name="code" autocomplete="off" autocapitalize="characters" size="16" required>
        <input type="hidden" name="lang" value="{{langValue}}">
        <button type="submit">{{formButton}}</button></p>
        </form>
        {{/hasGrant}}
        {{#hasGrant}}<dl id="summary">{{#summary}}<dt>{{label}}</dt><dd>{{value}}</dd>{{/summary}}</dl>{{/hasGrant}}
        {{#hasCertificates}}<h2>{{listTitle}}</h2>
        <ul id="certificates">
        {{#certificates}}<li>{{date}} — {{medium}} ({{serial}}) : {{status}} — <a href="{{link}}">{{checkLabel}}</a></li>
        {{/certificates}}
        </ul>{{/hasCertificates}}
        </body>
        </html>
        """
}
