import Foundation
import Testing
@testable import Certificates
@testable import TraceStore

/// The donor's summary by access code and the yearly figures (HTML and CSV), over HTTP.
@Suite("Access codes and figures")
struct FiguresAndAccessTests {
    @Test("access codes: forgiving to type, strict to guess")
    func codes() {
        let code = AccessCode.generate()
        #expect(code.count == 14)
        #expect(AccessCode.normalize(code.lowercased().replacingOccurrences(of: "-", with: " ")) == code.replacingOccurrences(of: "-", with: ""))
        #expect(AccessCode.normalize("ABCD-EFGH-JKOI") == "ABCDEFGHJK01")
        #expect(AccessCode.normalize("ABCD-EFGH-JKU0") == nil)   // U is not in Crockford's alphabet
        #expect(AccessCode.normalize("ABCD") == nil)
        #expect(AccessCode.generate() != AccessCode.generate())
    }

    @Test("a lot's access code opens that lot's summary only; a wrong code opens nothing", arguments: Backend.available)
    func lotSummary(backend: Backend) async throws {
        let database = try await TestDatabase.make(backend)
        let storage = try database.open()
        try await storage.migrate()
        let service = TraceStoreService(storage: storage)
        let (_, token) = try await service.enrol(name: "Atelier de Rennes", organisation: "Ordi Grand Ouest", publicJWK: StoreFixture.key.publicJWK)
        let store = try await RunningStore.start(storage: storage)
        for serial in ["LOT42-A", "LOT42-B"] {
            #expect(try await HTTP.push(store.baseURL, token: token, body: try StoreFixture.certificate(serial: serial, lot: "LOT-42")).status == 201)
        }
        #expect(try await HTTP.push(store.baseURL, token: token, body: try StoreFixture.certificate(serial: "OTHER-LOT", lot: "LOT-43")).status == 201)
        let code = try await service.createAccessCode(scope: .lot, value: "LOT-42")

        let form = try await HTTP.get(store.baseURL.appendingPathComponent("acces"))
        #expect(form.status == 200 && form.text.contains("<form method=\"get\""))
        let summary = try await HTTP.get(URL(string: "\(store.baseURL.absoluteString)/acces?code=\(code.lowercased())")!)
        #expect(summary.status == 200)
        #expect(summary.text.contains("Lot LOT-42"))
        #expect(summary.text.contains("LOT42-A") && summary.text.contains("LOT42-B"))
        #expect(!summary.text.contains("OTHER-LOT"))
        #expect(summary.text.contains("/c/"))
        let wrong = try await HTTP.get(URL(string: "\(store.baseURL.absoluteString)/acces?code=\(AccessCode.generate())&lang=fr")!)
        #expect(wrong.status == 404)
        #expect(wrong.text.contains("pas reconnu"))
        #expect(!wrong.text.contains("LOT42-A"))
        // The code itself is not in the database, only its hash.
        #expect(try await storage.accessGrant(codeSHA256: code) == nil)
        #expect(try await storage.accessGrant(codeSHA256: AccessCode.hash(code)!)?.value == "LOT-42")
        await store.stop()
        await storage.close()
        await database.remove()
    }

    @Test("yearly figures: reuse vs destroyed from health verdicts, laptops vs desktops from inventories, CO2e with its source", arguments: Backend.available)
    func yearlyFigures(backend: Backend) async throws {
        let database = try await TestDatabase.make(backend)
        let storage = try database.open()
        try await storage.migrate()
        let service = TraceStoreService(storage: storage)
        let (_, token) = try await service.enrol(name: "Atelier de Rennes", organisation: "Ordi Grand Ouest", publicJWK: StoreFixture.key.publicJWK)
        let settings = FiguresSettings(laptopKgCO2e: 100, desktopKgCO2e: 200, driveKgCO2e: nil, source: "Étude de test, 2026")
        let store = try await RunningStore.start(storage: storage, figures: settings)
        let bodies = [
            try StoreFixture.certificate(healthVerdict: "reuse"), try StoreFixture.certificate(healthVerdict: "reuse"),
            try StoreFixture.certificate(healthVerdict: "discard"), try StoreFixture.certificate(),
            try StoreFixture.inventory(chassis: "laptop"), try StoreFixture.inventory(chassis: "laptop"),
            try StoreFixture.inventory(chassis: "desktop"),
        ]
        for body in bodies { #expect(try await HTTP.push(store.baseURL, token: token, body: body).status == 201) }

        let csv = try await HTTP.get(store.baseURL.appendingPathComponent("figures/2026.csv"))
        #expect(csv.status == 200)
        #expect(csv.headers["content-type"]?.hasPrefix("text/csv") == true)
        let rows = Dictionary(uniqueKeysWithValues: csv.text.split(separator: "\r\n").dropFirst().map { line -> (String, String) in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            return (String(fields[1]), String(fields.last!))
        })
        #expect(rows["devices_received"] == "3")
        #expect(rows["laptops"] == "2")
        #expect(rows["desktops"] == "1")
        #expect(rows["drives_certified"] == "4")
        #expect(rows["drives_erased"] == "4")
        #expect(rows["drives_reused"] == "2")
        #expect(rows["drives_destroyed"] == "1")
        #expect(rows["drives_health_unknown"] == "1")
        #expect(rows["kg_co2e_avoided"] == "400")
        #expect(csv.text.contains("Étude de test, 2026"))

        let page = try await HTTP.get(URL(string: "\(store.baseURL.absoluteString)/figures/2026?lang=fr")!)
        #expect(page.status == 200)
        #expect(page.text.contains("kg CO2e évités"))
        #expect(page.text.contains("Facteurs d&#39;émission : Étude de test, 2026") || page.text.contains("Facteurs d'émission : Étude de test, 2026"))
        let empty = try await HTTP.get(store.baseURL.appendingPathComponent("figures/2025.csv"))
        #expect(empty.text.contains("2025,devices_received,"))
        await store.stop()
        await storage.close()
        await database.remove()
    }
}
