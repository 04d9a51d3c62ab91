import ArdoiseSupport
import Certificates
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Why a record cannot be forwarded to DeviceHub (stable codes).
public struct DeviceHubError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// Neither a serial number nor a MAC address: DeviceHub would merge this PC with every
        /// other of the same model (or, with nothing at all, with every PC: dhid A7FFC6).
        case noIdentity = "no_identity"
        case notAnInventory = "not_an_inventory"
    }
    public var code: Code
    public var message: LocalizedText
    public var description: String { message.text(in: CurrentLanguage.value) }
}

/// eReuse DeviceHub snapshots from the store's inventories, in the format devicehub-django's
/// current parser reads (facts in /work/shared/reference/devicehub-snapshot.md, checked against
/// `evidence/normal_parse.py`): `software` must be exactly `workbench-script`, every device fact
/// comes from `data.inxi` (a list of one-key sections whose entries are objects with
/// `NNN#N#N#name` keys), `data.dmidecode` must exist, and `erase` is kept verbatim.
public enum DeviceHubSnapshot {
    /// inxi chassis names for the inventory's stable chassis codes.
    static let chassisNames = ["laptop": "Laptop", "desktop": "Desktop", "all_in_one": "All In One", "tablet": "Tablet",
                               "server": "Server", "other": "Other", "unknown": ""]

    /// The snapshot of one inventory record, with the erasure facts of the certificates of
    /// drives that came from the same computer (matched on the system serial number) and a link
    /// to each certificate's page. The snapshot's `uuid` is the inventory's id, so sending it
    /// again is answered 409 by DeviceHub instead of adding a second evidence.
    public static func make(inventory: StoredRecord, certificates: [StoredRecord], publicURL: String) throws(DeviceHubError) -> [String: Any] {
        guard inventory.kind == .inventory, let payload = payloadObject(inventory.body) else {
            throw DeviceHubError(code: .notAnInventory, message: LocalizedText(
                fr: "L'enregistrement \(inventory.id) n'est pas un inventaire lisible.", en: "Record \(inventory.id) is not a readable inventory."))
        }
        let system = payload["system"] as? [String: Any] ?? [:]
        let chassis = payload["chassis"] as? [String: Any] ?? [:]
        func text(_ object: [String: Any], _ key: String) -> String { (object[key] as? String) ?? "" }
        let serial = text(system, "serial")
        let nics = (payload["networkInterfaces"] as? [[String: Any]]) ?? []
        // The integrated wired NIC gives DeviceHub's identity its MAC: the first Ethernet
        // interface on PCI, else the first interface with a MAC.
        let identityNIC = nics.first { text($0, "kind") == "ethernet" && text($0, "bus") == "pci" && !text($0, "macAddress").isEmpty }
            ?? nics.first { !text($0, "macAddress").isEmpty }
        guard !serial.isEmpty || identityNIC != nil else {
            throw DeviceHubError(code: .noIdentity, message: LocalizedText(
                fr: "Inventaire \(inventory.id) : ni numéro de série ni adresse MAC ; DeviceHub le confondrait avec d'autres PC. Non envoyé.",
                en: "Inventory \(inventory.id): neither a serial number nor a MAC address; DeviceHub would merge it with other PCs. Not sent."))
        }

        var counter = 0
        func field(_ name: String) -> String {
            counter += 1
            return String(format: "%03d#1#1#", counter) + name
        }
        var sections: [[String: Any]] = []
        var machine: [String: Any] = [field("Type"): chassisNames[text(chassis, "type")] ?? "", field("System"): text(system, "manufacturer"),
                                      field("product"): text(system, "product"), field("serial"): serial]
        if !text(system, "version").isEmpty { machine[field("v")] = text(system, "version") }
        sections.append(["000#1#0#Machine": [machine]])

        var network: [[String: Any]] = []
        let ordered = [identityNIC].compactMap { $0 } + nics.filter { text($0, "macAddress") != text(identityNIC ?? [:], "macAddress") }
        for (index, nic) in ordered.enumerated() {
            var device: [String: Any] = [field("Device"): text(nic, "model").isEmpty ? text(nic, "name") : text(nic, "model"),
                                         field("vendor"): text(nic, "vendor"), field("driver"): text(nic, "driver")]
            // `port` marks the integrated interface whose MAC names the device.
            if index == 0, identityNIC != nil { device[field("port")] = "integrated" }
            network.append(device)
            network.append([field("IF"): text(nic, "name"), field("mac"): text(nic, "macAddress")])
        }
        if !network.isEmpty { sections.append(["010#1#0#Network": network]) }

        if let cpus = payload["cpus"] as? [[String: Any]], !cpus.isEmpty {
            sections.append(["020#1#0#CPU": cpus.map { cpu -> [String: Any] in
                [field("model"): text(cpu, "model"), field("cores"): "\(cpu["cores"] ?? "")", field("threads"): "\(cpu["threads"] ?? "")"]
            }])
        }
        if let memory = payload["memory"] as? [String: Any] {
            let bytes = (memory["installedBytes"] as? Int) ?? (memory["usableBytes"] as? Int) ?? 0
            var entries: [[String: Any]] = [[field("total"): String(format: "%.1f GiB", Double(bytes) / 1_073_741_824)]]
            for module in (memory["modules"] as? [[String: Any]]) ?? [] where (module["installed"] as? Bool) == true {
                entries.append([field("Device"): text(module, "locator"), field("manufacturer"): text(module, "manufacturer"),
                                field("part-no"): text(module, "partNumber"), field("serial"): text(module, "serial"),
                                field("size"): String(format: "%.0f GiB", Double((module["sizeBytes"] as? Int) ?? 0) / 1_073_741_824),
                                field("type"): text(module, "type").uppercased()])
            }
            sections.append(["030#1#0#Memory": entries])
        }
        if let batteries = payload["batteries"] as? [[String: Any]], !batteries.isEmpty {
            sections.append(["040#1#0#Battery": batteries.map { battery -> [String: Any] in
                [field("model"): text(battery, "model"), field("serial"): text(battery, "serial"),
                 field("condition"): (battery["healthPercent"] as? Int).map { "\($0)%" } ?? "",
                 field("cycles"): (battery["cycleCount"] as? Int).map(String.init) ?? ""]
            }])
        }
        // Drives are not listed in `inxi`: DeviceHub keeps a drive only when a SMART entry with
        // power cycles follows it, which the inventory does not have. Their facts travel in
        // `erase`, with the certificate that proves the erasure.

        let erase: [[String: Any]] = certificates.compactMap { record in
            guard record.kind == .certificate, let certificate = payloadObject(record.body),
                  let host = certificate["sourceHost"] as? [String: Any], !serial.isEmpty, text(host, "serial") == serial else { return nil }
            let media = certificate["media"] as? [String: Any] ?? [:]
            let sanitization = certificate["sanitization"] as? [String: Any] ?? [:]
            let result = certificate["result"] as? [String: Any] ?? [:]
            let timing = certificate["timing"] as? [String: Any] ?? [:]
            return ["model": text(media, "model"), "serial": text(media, "serial"), "capacityBytes": media["capacityBytes"] ?? 0,
                    "standard": text(sanitization, "profile"), "category": text(sanitization, "category"),
                    "method": text(sanitization, "method"), "status": text(result, "status"),
                    "startedAt": text(timing, "startedAt"), "endedAt": text(timing, "endedAt"),
                    "certificateID": record.id, "certificateSHA256": record.sha256,
                    "certificateURL": "\(publicURL)/c/\(record.id)?h=\(record.sha256)"]
        }
        let tool = payload["tool"] as? [String: Any] ?? [:]
        return [
            "type": "Snapshot",
            "uuid": inventory.id,
            "software": "workbench-script",
            "version": "ardoise \(text(tool, "version"))",
            "timestamp": inventory.issuedAt,
            "data": [
                "dmidecode": "",
                "inxi": sections,
                "smartctl": [] as [Any],
                // The signed inventory itself, so DeviceHub keeps the original evidence.
                "ardoise_inventory": String(decoding: inventory.body, as: UTF8.self),
            ] as [String: Any],
            "erase": erase,
        ]
    }

    static func payloadObject(_ body: Data) -> [String: Any]? {
        guard let jws = try? JSONDecoder().decode(FlattenedJWS.self, from: body), let bytes = Base64URL.decode(jws.payload) else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }
}

/// Sends a lot's inventories to DeviceHub's `POST /api/v1/snapshot/`.
public struct DeviceHubForwarder: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// 200 with `status: success`: the device's DeviceHub id.
        case sent(dhid: String)
        /// 409: this snapshot's uuid is already there.
        case alreadyThere
        /// Not sent (no identity) or refused by DeviceHub (4xx, or a 200 that is not a success).
        case refused(String)
        /// 5xx or no answer: DeviceHub may or may not have stored it (it has no transactions).
        case uncertain(String)
    }

    public var baseURL: URL
    public var token: String
    public var publicURL: String

    public init(baseURL: URL, token: String, publicURL: String) {
        self.baseURL = baseURL
        self.token = token
        self.publicURL = publicURL
    }

    /// Every inventory of `lot`, in order; `dryRun` builds the snapshots without sending them.
    public func forward(lot: String, storage: any RecordStorage, dryRun: Bool = false) async throws -> [(id: String, outcome: Outcome, snapshot: Data?)] {
        let records = try await storage.records(lot: lot)
        let certificates = records.filter { $0.kind == .certificate }
        var results: [(String, Outcome, Data?)] = []
        for inventory in records where inventory.kind == .inventory {
            let snapshot: [String: Any]
            do {
                snapshot = try DeviceHubSnapshot.make(inventory: inventory, certificates: certificates, publicURL: publicURL)
            } catch {
                results.append((inventory.id, .refused(error.message.text(in: CurrentLanguage.value)), nil))
                continue
            }
            let body = try JSONSerialization.data(withJSONObject: snapshot, options: [.sortedKeys, .withoutEscapingSlashes])
            if dryRun {
                results.append((inventory.id, .refused("dry-run"), body))
                continue
            }
            results.append((inventory.id, await post(body), body))
        }
        return results
    }

    func post(_ body: Data) async -> Outcome {
        // The trailing slash matters: without it DeviceHub answers 301.
        var request = URLRequest(url: baseURL.appendingPathComponent("api/v1/snapshot/"))
        request.httpMethod = "POST"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = body
        request.timeoutInterval = 60
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            switch status {
            case 200:
                // DeviceHub answers 200 to snapshots it could not use: only `success` with a dhid counts.
                if object?["status"] as? String == "success", let dhid = object?["dhid"] as? String, !dhid.isEmpty {
                    return .sent(dhid: dhid)
                }
                return .refused("200 without success: \(String(decoding: data.prefix(200), as: UTF8.self))")
            case 409: return .alreadyThere
            case 500...599: return .uncertain("HTTP \(status)")
            default: return .refused("HTTP \(status): \(String(decoding: data.prefix(200), as: UTF8.self))")
            }
        } catch {
            return .uncertain("\(error)")
        }
    }
}
