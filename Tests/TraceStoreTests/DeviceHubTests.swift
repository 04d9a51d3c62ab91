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

    /// A smartctl `--json` output of the diagnostics fixtures (real outputs, serials changed).
    static func smartctl(_ name: String) throws -> [String: Any] {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("DiagnosticsTests/Fixtures/\(name)").path
        return try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    /// A full inventory (every section DeviceHub reads): two internal drives, one of them with
    /// the smartctl output its health came from, a USB stick, a screen, a GPU, two NICs.
    static func fullInventory(id: UUID = UUID(), lot: String = "LOT-DH") throws -> Data {
        let hdd = try smartctl("ata-hdd-healthy.json")
        let object: [String: Any] = [
            "schema": RecordIntake.inventorySchemaURI, "schemaVersion": 1, "id": id.uuidString.lowercased(),
            "issuedAt": "2026-09-21T10:00:00Z", "benchID": "atelier-1", "lot": lot, "tool": ["name": "ardoise", "version": "0.1.0"],
            "system": ["manufacturer": "LENOVO", "product": "20L5CTO1WW", "version": "ThinkPad T480", "serial": "PF1FULL",
                       "uuid": "4c4c4544-0042-3510-8051-b7c04f4d4e32", "sku": "LENOVO_MT_20L5"],
            "chassis": ["type": "laptop", "smbiosTypeName": "Notebook"],
            "baseboard": ["manufacturer": "LENOVO", "product": "20L5CTO1WW", "serial": "L1HF8AB0123"],
            "bios": ["vendor": "LENOVO", "version": "N24ET76W (1.51 )", "releaseDate": "08/14/2023"],
            "cpus": [["model": "Intel(R) Core(TM) i5-8350U CPU @ 1.70GHz", "cores": 4, "threads": 8, "maxSpeedMHz": 3600]],
            "memory": ["usableBytes": 16_000_000_000, "installedBytes": 17_179_869_184, "slotCount": 2, "emptySlots": 0,
                       "modules": [["installed": true, "sizeBytes": 8_589_934_592, "type": "ddr4", "locator": "ChannelA-DIMM0", "speedMTs": 2400,
                                    "manufacturer": "Samsung", "serial": "12345678", "partNumber": "M471A1K43CB1-CTD"],
                                   ["installed": true, "sizeBytes": 8_589_934_592, "type": "ddr4", "locator": "ChannelB-DIMM0", "speedMTs": 2400,
                                    "manufacturer": "Samsung", "serial": "87654321", "partNumber": "M471A1K43CB1-CTD"]]],
            "drives": [
                ["name": "sda", "model": "WDC WD10EZEX-08WN4A0", "serial": "WD-WCC6Y3KX1234", "sizeBytes": 1_000_204_886_016,
                 "transport": "sata", "media": "hdd", "removable": false,
                 "health": ["verdict": "reuse", "reasons": [], "powerOnHours": 18234, "checkedAt": "2026-09-21T09:50:00Z"],
                 "smartctl": hdd],
                ["name": "nvme0n1", "model": "SAMSUNG MZVLB256HBHQ-000L7", "serial": "S4ELNX0N999999", "sizeBytes": 256_060_514_304,
                 "transport": "nvme", "media": "ssd", "removable": false,
                 "health": ["verdict": "caution", "reasons": [["code": "nvme_percentage_used"]], "powerOnHours": 5120, "checkedAt": "2026-09-21T09:50:00Z"]],
                ["name": "sdb", "model": "Ultra Fit", "serial": "4C530001230918113204", "sizeBytes": 30_765_219_840,
                 "transport": "usb", "media": "ssd", "removable": true],
            ],
            "batteries": [["name": "BAT0", "model": "01AV430", "serial": "BAT123", "healthPercent": 78, "cycleCount": 312]],
            "screens": [["connector": "card0-eDP-1", "builtIn": true, "manufacturerID": "AUO", "manufacturerName": "AU Optronics",
                         "model": "B140HAN04.0", "serial": "0", "manufactureYear": 2017, "widthCm": 31, "heightCm": 17,
                         "diagonalInches": 14.0, "nativeWidth": 1920, "nativeHeight": 1080]],
            "gpus": [["address": "0000:00:02.0", "vendorID": "8086", "deviceID": "5917", "driver": "i915",
                      "vendor": "Intel Corporation", "model": "UHD Graphics 620"]],
            "networkInterfaces": [
                ["name": "wlp3s0", "macAddress": "aa:bb:cc:00:00:02", "kind": "wifi", "bus": "pci", "vendor": "Intel Corporation",
                 "model": "Wireless 8265 / 8275", "driver": "iwlwifi"],
                ["name": "enp0s31f6", "macAddress": "aa:bb:cc:00:00:01", "kind": "ethernet", "bus": "pci", "vendor": "Intel Corporation",
                 "model": "Ethernet Connection (4) I219-V", "driver": "e1000e"],
            ],
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

    /// Certificate of a drive that came from the PC with serial `host` (optionally with the
    /// health member and the smartctl output it was judged from).
    static func certificate(host: String, serial: String = "WD-WCC4N7KZ1234", smartctl: [String: Any]? = nil) throws -> Data {
        let input = StoreFixture.input(serial: serial, lot: "LOT-DH")
        var payload = try JSONSerialization.jsonObject(with: {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            return try encoder.encode(CertificatePayload(input: input, issuedAt: StoreFixture.start))
        }()) as! [String: Any]
        payload["sourceHost"] = ["vendor": "LENOVO", "model": "ThinkPad T480", "serial": host]
        if let smartctl {
            payload["health"] = ["verdict": "reuse", "reasons": [] as [Any], "powerOnHours": 3120, "checkedAt": "2026-09-21T09:00:00Z",
                                 "smartctl": smartctl]
        }
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

    @Test("devicehub-django's parser finds the PC, its parts, and the drives whose SMART entry carries power cycles")
    func whatTheParserReads() throws {
        let inventory = try Self.record(Self.fullInventory(), kind: .inventory)
        // A drive of this PC erased on the bench (not in the inventory any more), with the smartctl output of its health check.
        let erased = try Self.record(Self.certificate(host: "PF1FULL", serial: "S4EVNX0N123456A", smartctl: Self.smartctl("nvme-healthy.json")),
                                     kind: .certificate)
        let snapshot = try DeviceHubSnapshot.make(inventory: inventory, certificates: [erased], publicURL: "https://store.example.org")
        let parsed = try #require(DeviceHubParser.parse(snapshot))
        // Kept for a check with devicehub-django's own parser (make test prints the directory).
        if let artifacts = ProcessInfo.processInfo.environment["ARDOISE_TEST_ARTIFACTS"], !artifacts.isEmpty {
            try FileManager.default.createDirectory(atPath: artifacts + "/store-devicehub", withIntermediateDirectories: true)
            try JSONSerialization.data(withJSONObject: snapshot, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
                .write(to: URL(fileURLWithPath: artifacts + "/store-devicehub/snapshot-full.json"))
        }

        #expect(parsed.device["manufacturer"] == "LENOVO")
        #expect(parsed.device["model"] == "20L5CTO1WW")
        #expect(parsed.device["serialNumber"] == "PF1FULL")
        #expect(parsed.device["type"] == "Laptop")
        #expect(parsed.device["version"] == "ThinkPad T480")
        #expect(parsed.device["system_uuid"] == "4c4c4544-0042-3510-8051-b7c04f4d4e32")
        #expect(parsed.device["sku"] == "LENOVO_MT_20L5")
        #expect(parsed.mac == "aa:bb:cc:00:00:01", "the wired NIC names the PC")

        func components(_ type: String) -> [[String: String]] { parsed.components.filter { $0["type"] == type } }
        #expect(components("Processor").first?["model"] == "Intel(R) Core(TM) i5-8350U CPU @ 1.70GHz")
        let ram = components("RamModule")
        #expect(ram.map { $0["serialNumber"] } == ["12345678", "87654321"])
        #expect(ram.first?["model"] == "M471A1K43CB1-CTD" && ram.first?["speed"] == "2400 MT/s" && ram.first?["interface"] == "DDR4")
        #expect(components("GraphicCard").first?["model"] == "UHD Graphics 620")
        #expect(components("GraphicCard").first?["manufacturer"] == "Intel Corporation")
        let display = try #require(components("Display").first)
        #expect(display["model"] == "B140HAN04.0" && display["manufacturer"] == "AU Optronics" && display["resolution"] == "1920x1080")
        #expect(display["diagonal"] == "14.0\"" && display["date"] == "2017")
        let nics = components("NetworkAdapter")
        #expect(nics.map { $0["serialNumber"] } == ["aa:bb:cc:00:00:01", "aa:bb:cc:00:00:02"])
        #expect(nics.first?["manufacturer"] == "Intel Corporation" && nics.first?["interface"] == "Integrated")
        #expect(components("Battery").first?["cycles"] == "312")

        // Drives: the HDD (its smartctl output rides with the inventory) and the erased NVMe
        // (with its certificate's health) are kept with their SMART figures; the NVMe drive of
        // the inventory has power-on hours only, no power-cycle count: DeviceHub drops it. The
        // USB stick is never sent.
        let storage = components("Storage")
        #expect(storage.map { $0["serialNumber"] } == ["WD-WCC6Y3KX1234", "S4EVNX0N123456A"])
        #expect(storage[0]["cycles"] == "412" && storage[0]["health"] == "PASSED" && storage[0]["time of used"] == "18234 hrs")
        #expect(storage[0]["model"] == "WDC WD10EZEX-08WN4A0" && storage[0]["interface"] == "HDD" && storage[0]["size"] == "1000.2 GB")
        #expect(storage[1]["cycles"] == "1532" && storage[1]["time of used"] == "3120 hrs")
        #expect(storage[1]["model"] == "WDC WD5000AAKX-00ERMA0", "the erased medium as its certificate names it")
        #expect(storage[1]["read used"] != nil && storage[1]["read used"] != "")
        let data = try #require(snapshot["data"] as? [String: Any])
        #expect((data["smartctl"] as? [[String: Any]])?.count == 2, "the smartctl outputs travel in data.smartctl")
        let inxi = try #require(data["inxi"] as? [[String: Any]])
        let drives = Self.section(inxi, "Drives")
        #expect(drives.contains { Self.value($0, "serial") == "S4ELNX0N999999" }, "sent, even if DeviceHub keeps no component for it")
        #expect(!drives.contains { Self.value($0, "serial") == "4C530001230918113204" })
        // Nothing would make the parser fail: no BIOS `date` without dmidecode text.
        #expect(!inxi.contains { section in (section.values.first as? [[String: Any]] ?? []).contains { Self.value($0, "date") != nil } })
    }

    final class FakeDeviceHub: Sendable {
        let seen = Mutex<[String: Int]>([:])
        let authorizations = Mutex<[String]>([])
        let parsed = Mutex<[DeviceHubParser.Result]>([])
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
            // As DeviceHub: 422 without uuid, data, or dmidecode/inxi; the parser's identity decides the rest.
            guard !uuid.isEmpty, let data = object["data"] as? [String: Any], data["dmidecode"] != nil || data["inxi"] != nil,
                  let parsed = DeviceHubParser.parse(object) else {
                return Response(status: .unprocessableContent, headers: [.contentType: "application/json"], body: .init(byteBuffer: .init(string: #"{"error":"invalid"}"#)))
            }
            hub.parsed.withLock { $0.append(parsed) }
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
        let parsed = try #require(hub.parsed.withLock { $0.first })
        #expect(parsed.device["serialNumber"] == "PF1" && parsed.mac == "aa:bb:cc:00:00:01")

        task.cancel()
        _ = try? await task.value
        await storage.close()
        await database.remove()
    }
}

/// What devicehub-django's current parser takes from a snapshot (`evidence/normal_parse.py`,
/// `normal_parse_details.py` at de950dc), restated for the stand-in DeviceHub: only the
/// `workbench-script` parser, `data.inxi` sections found by substring, fields by the text after
/// the last `#`, network device/interface pairs, a drive kept only when the next entry has
/// `cycles`.
enum DeviceHubParser {
    struct Result: Sendable {
        var device: [String: String]
        var mac: String
        var components: [[String: String]]
    }

    static func section(_ inxi: [[String: Any]], _ name: String) -> [[String: Any]] {
        for section in inxi {
            for (key, value) in section where key.contains(name) { return value as? [[String: Any]] ?? [] }
        }
        return []
    }

    static func value(_ entry: [String: Any], _ name: String) -> String {
        for (key, value) in entry where key.split(separator: "#", omittingEmptySubsequences: false).last.map(String.init) == name {
            return value as? String ?? "\(value)"
        }
        return ""
    }

    static func parse(_ snapshot: [String: Any]) -> Result? {
        guard snapshot["software"] as? String == "workbench-script", let data = snapshot["data"] as? [String: Any] else { return nil }
        let inxi: [[String: Any]]
        if let text = data["inxi"] as? String {
            inxi = ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [[String: Any]]) ?? []
        } else {
            inxi = data["inxi"] as? [[String: Any]] ?? []
        }
        var device: [String: String] = [:]
        for entry in section(inxi, "Machine") {
            if !value(entry, "System").isEmpty {
                device["manufacturer"] = value(entry, "System")
                device["model"] = value(entry, "product")
                device["serialNumber"] = value(entry, "serial")
                device["version"] = value(entry, "v")
            } else {
                device["manufacturer"] = device["manufacturer"].flatMap { $0.isEmpty ? nil : $0 } ?? value(entry, "Mobo")
                device["model"] = device["model"].flatMap { $0.isEmpty ? nil : $0 } ?? value(entry, "model")
                device["serialNumber"] = device["serialNumber"].flatMap { $0.isEmpty ? nil : $0 } ?? value(entry, "serial")
                device["system_uuid"] = value(entry, "uuid")
                device["sku"] = value(entry, "part-nu")
            }
            device["type"] = device["type"].flatMap { $0.isEmpty ? nil : $0 } ?? value(entry, "Type")
        }
        let nets = section(inxi, "Network")
        var mac = ""
        for index in stride(from: 0, to: max(0, nets.count - 1), by: 2) where !value(nets[index], "port").isEmpty {
            mac = value(nets[index + 1], "mac")
            break
        }
        var components: [[String: String]] = []
        for entry in section(inxi, "CPU") where !value(entry, "model").isEmpty {
            components.append(["type": "Processor", "model": value(entry, "model")])
        }
        for entry in section(inxi, "Memory") where !value(entry, "Device").isEmpty {
            components.append(["type": "RamModule", "manufacturer": value(entry, "manufacturer"), "model": value(entry, "part-no"),
                               "serialNumber": value(entry, "serial"), "size": value(entry, "size"), "speed": value(entry, "speed"),
                               "interface": value(entry, "type")])
        }
        let graphics = section(inxi, "Graphics")
        for entry in graphics where !value(entry, "Device").isEmpty && !value(entry, "vendor").isEmpty {
            components.append(["type": "GraphicCard", "model": value(entry, "Device"), "manufacturer": value(entry, "vendor")])
        }
        for entry in graphics where !value(entry, "Monitor").isEmpty {
            components.append(["type": "Display", "model": value(entry, "model"), "manufacturer": value(entry, "vendor"),
                               "serialNumber": value(entry, "serial"), "size": value(entry, "size"), "diagonal": value(entry, "diag"),
                               "resolution": value(entry, "res"), "date": value(entry, "built")])
        }
        for index in 0..<max(0, nets.count - 1) where !value(nets[index], "Device").isEmpty {
            let keys = nets[index].keys
            let interface = keys.contains { $0.contains("port") } ? "Integrated" : (value(nets[index], "type") == "USB" ? "USB" : "")
            components.append(["type": "NetworkAdapter", "model": value(nets[index], "Device"), "manufacturer": value(nets[index], "manufacturer"),
                               "serialNumber": value(nets[index + 1], "mac"), "interface": interface])
        }
        var drive: [String: String]?
        for entry in section(inxi, "Drives") {
            if value(entry, "type") == "USB" { continue }
            if !value(entry, "serial").isEmpty {
                drive = ["type": "Storage", "manufacturer": value(entry, "vendor"), "model": value(entry, "model"),
                         "serialNumber": value(entry, "serial"), "size": value(entry, "size"), "interface": value(entry, "tech")]
                continue
            }
            if !value(entry, "cycles").isEmpty {
                // DeviceHub's parser fails here when no drive came first; ours must never send that.
                guard var current = drive else { return nil }
                current["cycles"] = value(entry, "cycles")
                current["health"] = value(entry, "health")
                current["time of used"] = value(entry, "on")
                current["read used"] = value(entry, "read-units")
                current["written used"] = value(entry, "written-units")
                components.append(current)
            }
        }
        for entry in section(inxi, "Battery") {
            components.append(["type": "Battery", "model": value(entry, "model"), "serialNumber": value(entry, "serial"),
                               "condition": value(entry, "condition"), "cycles": value(entry, "cycles")])
        }
        return Result(device: device, mac: mac, components: components)
    }
}
