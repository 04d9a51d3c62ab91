import Foundation
import Hummingbird
import Logging
import Synchronization
import Testing
@testable import Certificates
@testable import TraceStore

/// The DeviceHub forwarder: snapshots in the format devicehub-django's current parser reads
/// (docs: /work/shared/reference/devicehub-snapshot.md), sent to a stand-in DeviceHub that
/// answers as the real one does (200 success with a dhid, 409 for a uuid it has).
@Suite("DeviceHub forwarder")
struct DeviceHubTests {
    /// An inventory with the members of the inventory helper's schema (docs/inventory.md).
    static func inventory(id: UUID = UUID(), serial: String?, macs: [(String, String, String)], lot: String = "LOT-DH") throws -> Data {
        var system: [String: Any] = ["manufacturer": "LENOVO", "product": "20L5CTO1WW", "version": "ThinkPad T480"]
        if let serial { system["serial"] = serial }
        let object: [String: Any] = [
            "schema": RecordIntake.inventorySchemaURI, "schemaVersion": 1, "id": id.uuidString.lowercased(),
            "issuedAt": "2026-09-21T10:00:00Z", "benchID": "atelier-1", "lot": lot, "tool": ["name": "ardoise", "version": "0.1.0"],
            "system": system, "chassis": ["type": "laptop", "smbiosTypeName": "Notebook"],
            "cpus": [["model": "Intel(R) Core(TM) i5-8350U CPU @ 1.70GHz", "cores": 4, "threads": 8]],
            "memory": ["usableBytes": 8_000_000_000, "installedBytes": 8_589_934_592,
                       "modules": [["installed": true, "sizeBytes": 8_589_934_592, "type": "ddr4", "locator": "ChannelA-DIMM0",
                                    "manufacturer": "Samsung", "serial": "12345678", "partNumber": "M471A1K43CB1-CTD"]]],
            "batteries": [["model": "01AV430", "serial": "BAT123", "healthPercent": 78, "cycleCount": 312]],
            "networkInterfaces": macs.map { ["name": $0.0, "macAddress": $0.1, "kind": $0.2, "bus": $0.2 == "wifi" ? "pci" : "pci",
                                             "vendor": "Intel Corporation", "model": "Ethernet Connection I219-V", "driver": "e1000e"] },
        ]
        let bytes = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return try CertificateSigner.signRaw(payload: Array(bytes), with: StoreFixture.key).serialized()
    }

    static func record(_ body: Data, kind: RecordKind, lot: String = "LOT-DH") throws -> StoredRecord {
        let accepted = try RecordIntake.check(body, from: StorageTests.bench())
        var record = accepted.record
        record.lot = lot
        #expect(record.kind == kind)
        return record
    }

    /// Certificate of a drive that came from the PC with serial `host`.
    static func certificate(host: String) throws -> Data {
        let input = StoreFixture.input(lot: "LOT-DH")
        var payload = try JSONSerialization.jsonObject(with: {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            return try encoder.encode(CertificatePayload(input: input, issuedAt: StoreFixture.start))
        }()) as! [String: Any]
        payload["sourceHost"] = ["vendor": "LENOVO", "model": "ThinkPad T480", "serial": host]
        let bytes = try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys, .withoutEscapingSlashes])
        return try CertificateSigner.signRaw(payload: Array(bytes), with: StoreFixture.key).serialized()
    }

    static func section(_ inxi: [[String: Any]], _ name: String) -> [[String: Any]] {
        inxi.first { $0.keys.contains { $0.contains(name) } }.flatMap { $0.values.first as? [[String: Any]] } ?? []
    }

    /// devicehub-django's lookup: the first key whose text after the last `#` is `name`.
    static func value(_ entry: [String: Any], _ name: String) -> String? {
        entry.first { $0.key.split(separator: "#").last.map(String.init) == name }?.value as? String
    }

    @Test("the snapshot carries what DeviceHub's parser reads: identity in data.inxi, MAC after the port entry, erasures with their pages")
    func snapshotShape() throws {
        let inventory = try Self.record(Self.inventory(serial: "PF1ABCDE", macs: [("wlp3s0", "aa:bb:cc:00:00:02", "wifi"), ("enp0s31f6", "aa:bb:cc:00:00:01", "ethernet")]),
                                        kind: .inventory)
        let mine = try Self.record(Self.certificate(host: "PF1ABCDE"), kind: .certificate)
        let other = try Self.record(Self.certificate(host: "OTHERPC"), kind: .certificate)
        let snapshot = try DeviceHubSnapshot.make(inventory: inventory, certificates: [mine, other], publicURL: "https://store.example.org")
        #expect(snapshot["type"] as? String == "Snapshot")
        #expect(snapshot["software"] as? String == "workbench-script")
        #expect(snapshot["uuid"] as? String == inventory.id)
        #expect(snapshot["timestamp"] as? String == "2026-09-21T10:00:00Z")
        let data = try #require(snapshot["data"] as? [String: Any])
        #expect(data["dmidecode"] as? String == "")
        let inxi = try #require(data["inxi"] as? [[String: Any]])
        let machine = try #require(Self.section(inxi, "Machine").first)
        #expect(Self.value(machine, "System") == "LENOVO")
        #expect(Self.value(machine, "product") == "20L5CTO1WW")
        #expect(Self.value(machine, "serial") == "PF1ABCDE")
        #expect(Self.value(machine, "Type") == "Laptop")
        // get_mac: pairs (device, interface); the first device with `port` gives the MAC: the wired one.
        let network = Self.section(inxi, "Network")
        #expect(network.count == 4)
        #expect(Self.value(network[0], "port") != nil)
        #expect(Self.value(network[1], "mac") == "aa:bb:cc:00:00:01")
        #expect(Self.value(network[2], "port") == nil)
        let erase = try #require(snapshot["erase"] as? [[String: Any]])
        #expect(erase.count == 1)
        #expect(erase[0]["certificateID"] as? String == mine.id)
        #expect((erase[0]["certificateURL"] as? String)?.hasPrefix("https://store.example.org/c/\(mine.id)?h=") == true)
        #expect(JSONSerialization.isValidJSONObject(snapshot))
    }

    @Test("no serial and no MAC: not sent (DeviceHub would merge it with other PCs)")
    func noIdentity() throws {
        let inventory = try Self.record(Self.inventory(serial: nil, macs: []), kind: .inventory)
        #expect(throws: DeviceHubError.self) { try DeviceHubSnapshot.make(inventory: inventory, certificates: [], publicURL: "https://s") }
    }

    final class FakeDeviceHub: Sendable {
        let seen = Mutex<[String: Int]>([:])
        let authorizations = Mutex<[String]>([])
    }

    @Test("forwarding a lot: sent with the bearer token to /api/v1/snapshot/, again → already there, no identity → refused")
    func forwardLot() async throws {
        let database = try await TestDatabase.make(.sqlite)
        let storage = try database.open()
        try await storage.migrate()
        let service = TraceStoreService(storage: storage)
        let (_, token) = try await service.enrol(name: "Atelier", organisation: "Réseau", publicJWK: StoreFixture.key.publicJWK)
        for body in [try Self.inventory(serial: "PF1", macs: [("eth0", "aa:bb:cc:00:00:01", "ethernet")]),
                     try Self.inventory(serial: nil, macs: []), try Self.certificate(host: "PF1")] {
            _ = try await service.push(authorization: "Bearer \(token)", body: body)
        }

        let hub = FakeDeviceHub()
        let router = Router()
        router.post("/api/v1/snapshot/") { request, _ -> Response in
            hub.authorizations.withLock { $0.append(request.headers[.authorization] ?? "") }
            let body = try await request.body.collect(upTo: 1 << 20)
            let object = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] ?? [:]
            let uuid = object["uuid"] as? String ?? ""
            let count = hub.seen.withLock { seen -> Int in seen[uuid, default: 0] += 1; return seen[uuid]! }
            let status: HTTPResponse.Status = count == 1 ? .ok : .conflict
            let reply = count == 1 ? #"{"status":"success","dhid":"BC814A"}"# : #"{"error":"exists"}"#
            return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: .init(string: reply)))
        }
        var logger = Logger(label: "fake-devicehub")
        logger.logLevel = .critical
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { continuation.yield($0.localAddress!.port!) }, logger: logger)
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var ports = stream.makeAsyncIterator()
        let port = try #require(await ports.next())

        let forwarder = DeviceHubForwarder(baseURL: URL(string: "http://127.0.0.1:\(port)")!, token: "0b7a-token", publicURL: "https://store.example.org")
        let first = try await forwarder.forward(lot: "LOT-DH", storage: storage)
        #expect(first.count == 2)
        #expect(first.filter { $0.outcome == .sent(dhid: "BC814A") }.count == 1)
        #expect(first.filter { if case .refused = $0.outcome { return true } else { return false } }.count == 1)
        let second = try await forwarder.forward(lot: "LOT-DH", storage: storage)
        #expect(second.filter { $0.outcome == .alreadyThere }.count == 1)
        #expect(hub.authorizations.withLock { $0 }.allSatisfy { $0 == "Bearer 0b7a-token" })
        #expect(hub.seen.withLock { $0.count } == 1)   // the PC without identity was never sent

        task.cancel()
        _ = try? await task.value
        await storage.close()
        await database.remove()
    }
}
