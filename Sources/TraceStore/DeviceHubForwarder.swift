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
/// `evidence/normal_parse.py` and `evidence/normal_parse_details.py` at de950dc, and by running
/// that parser on our snapshots): `software` must be exactly `workbench-script`, every device
/// fact comes from `data.inxi` (a list of one-key sections whose entries are objects with
/// `NNN#N#N#name` keys; a section matches when its key contains the name, a field when the part
/// after the last `#` equals it), `data.dmidecode` must exist, and `erase` is kept verbatim.
///
/// What DeviceHub's parser drops, and why (docs/store.md):
/// - CPU cores, threads and speeds: it reads them only from inxi's cache line (`L1` set) and
///   its `bogomips` line, which the inventory has no value for; only `model` is read.
/// - motherboard and BIOS: read only from an entry with a BIOS `date`, together with the BIOS
///   revision from raw dmidecode text, which the store does not have (an entry with `date` and an
///   empty `dmidecode` makes the parser fail). The system UUID and SKU are sent and read.
/// - a drive without a power-cycle count: a drive is kept only when a SMART entry with `cycles`
///   follows it. Ardoise's health member carries power-on hours, not power cycles; the count
///   comes from a smartctl JSON (`power_cycle_count`, NVMe `power_cycles`) when a record carries
///   one (`smartctl` beside a drive or inside its `health`). USB and removable drives are not
///   sent (DeviceHub skips `type: USB` drives, and a stick is not part of the PC).
public enum DeviceHubSnapshot {
    /// inxi chassis names for the inventory's stable chassis codes.
    static let chassisNames = ["laptop": "Laptop", "desktop": "Desktop", "all_in_one": "All In One", "tablet": "Tablet",
                               "server": "Server", "other": "Other", "unknown": ""]

    /// One drive as DeviceHub's `Drives` section describes it, from an inventory drive or an
    /// erased medium, with its SMART figures when known.
    struct Drive {
        var vendor = ""
        var model = ""
        var serial = ""
        var sizeBytes: Int?
        var tech = ""
        var powerCycles: Int?
        var powerOnHours: Int?
        /// `PASSED` / `FAILED` from smartctl's `smart_status`, else the health verdict.
        var health = ""
        var readUnits: Int?
        var writtenUnits: Int?
        var smartctl: [String: Any]?
    }

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
        // Certificates of drives that came out of this PC.
        let erased: [(record: StoredRecord, payload: [String: Any])] = certificates.compactMap { record in
            guard record.kind == .certificate, !serial.isEmpty, let certificate = payloadObject(record.body),
                  let host = certificate["sourceHost"] as? [String: Any], text(host, "serial") == serial else { return nil }
            return (record, certificate)
        }

        var counter = 0
        func field(_ name: String) -> String {
            counter += 1
            return String(format: "%03d#1#1#", counter) + name
        }
        var sections: [[String: Any]] = []

        // Machine: the System entry (manufacturer, model, serial, version, chassis); a second
        // entry without System gives the system UUID and SKU (no `date`: see above).
        var machine: [[String: Any]] = [[field("Type"): chassisNames[text(chassis, "type")] ?? "", field("System"): text(system, "manufacturer"),
                                         field("product"): text(system, "product"), field("v"): text(system, "version"), field("serial"): serial]]
        let baseboard = payload["baseboard"] as? [String: Any] ?? [:]
        if !text(system, "uuid").isEmpty || !text(system, "sku").isEmpty || !baseboard.isEmpty {
            machine.append([field("Mobo"): text(baseboard, "manufacturer"), field("model"): text(baseboard, "product"),
                            field("v"): text(baseboard, "version"), field("serial"): text(baseboard, "serial"),
                            field("part-nu"): text(system, "sku"), field("uuid"): text(system, "uuid")])
        }
        sections.append(["000#1#0#Machine": machine])

        if let cpus = payload["cpus"] as? [[String: Any]], !cpus.isEmpty {
            var entries: [[String: Any]] = []
            for cpu in cpus {
                entries.append([field("Info"): "", field("model"): text(cpu, "model")])
                // inxi's topology line; DeviceHub reads cores and threads only beside cache sizes.
                entries.append([field("Topology"): "", field("cores"): number(cpu["cores"]), field("threads"): number(cpu["threads"])])
                if let speed = cpu["maxSpeedMHz"] as? Int { entries.append([field("Speed"): "", field("min/max"): "\(speed) MHz"]) }
            }
            sections.append(["020#1#0#CPU": entries])
        }

        if let memory = payload["memory"] as? [String: Any] {
            let bytes = (memory["installedBytes"] as? Int) ?? (memory["usableBytes"] as? Int) ?? 0
            let modules = ((memory["modules"] as? [[String: Any]]) ?? []).filter { ($0["installed"] as? Bool) == true }
            var entries: [[String: Any]] = [[field("RAM"): "", field("total"): gibibytes(bytes)]]
            if let slots = memory["slotCount"] as? Int {
                entries.append([field("Array"): "1", field("slots"): String(slots), field("modules"): String(modules.count)])
            }
            for module in modules {
                var entry: [String: Any] = [field("Device"): text(module, "locator"), field("manufacturer"): text(module, "manufacturer"),
                                            field("part-no"): text(module, "partNumber"), field("serial"): text(module, "serial"),
                                            field("size"): gibibytes((module["sizeBytes"] as? Int) ?? 0), field("type"): text(module, "type").uppercased()]
                if let speed = module["speedMTs"] as? Int { entry[field("speed")] = "\(speed) MT/s" }
                entries.append(entry)
            }
            sections.append(["030#1#0#Memory": entries])
        }

        // Graphics: each GPU (`Device` with `vendor`), then each screen (`Monitor`).
        var graphics: [[String: Any]] = []
        for gpu in (payload["gpus"] as? [[String: Any]]) ?? [] where !text(gpu, "vendor").isEmpty || !text(gpu, "vendorID").isEmpty {
            graphics.append([field("Device"): text(gpu, "model").isEmpty ? text(gpu, "deviceID") : text(gpu, "model"),
                             field("vendor"): text(gpu, "vendor").isEmpty ? text(gpu, "vendorID") : text(gpu, "vendor"),
                             field("driver"): text(gpu, "driver"), field("bus-ID"): text(gpu, "address")])
        }
        for screen in (payload["screens"] as? [[String: Any]]) ?? [] where screen["error"] == nil {
            var monitor: [String: Any] = [field("Monitor"): text(screen, "connector"), field("model"): text(screen, "model"),
                                          field("vendor"): text(screen, "manufacturerName").isEmpty ? text(screen, "manufacturerID") : text(screen, "manufacturerName"),
                                          field("serial"): text(screen, "serial")]
            if let year = screen["manufactureYear"] as? Int { monitor[field("built")] = String(year) }
            if let width = screen["nativeWidth"] as? Int, let height = screen["nativeHeight"] as? Int { monitor[field("res")] = "\(width)x\(height)" }
            if let width = screen["widthCm"] as? Int, let height = screen["heightCm"] as? Int, width > 0, height > 0 {
                monitor[field("size")] = "\(width * 10)x\(height * 10)mm"
            }
            if let diagonal = screen["diagonalInches"] as? Double { monitor[field("diag")] = String(format: "%.1f\"", diagonal) }
            graphics.append(monitor)
        }
        if !graphics.isEmpty { sections.append(["040#1#0#Graphics": graphics]) }

        // Network: device/interface pairs (DeviceHub pairs entries 0-1, 2-3…); the first device
        // is the integrated wired one, marked `port`, whose MAC enters DeviceHub's identity.
        var network: [[String: Any]] = []
        let ordered = [identityNIC].compactMap { $0 } + nics.filter { text($0, "macAddress") != text(identityNIC ?? [:], "macAddress") }
        for (index, nic) in ordered.enumerated() {
            var device: [String: Any] = [field("Device"): text(nic, "model").isEmpty ? text(nic, "name") : text(nic, "model"),
                                         // inxi writes `vendor`; DeviceHub's component reads `manufacturer`.
                                         field("vendor"): text(nic, "vendor"), field("manufacturer"): text(nic, "vendor"),
                                         field("driver"): text(nic, "driver")]
            if index == 0, identityNIC != nil { device[field("port")] = "integrated" }
            if text(nic, "bus") == "usb" { device[field("type")] = "USB" }
            network.append(device)
            network.append([field("IF"): text(nic, "name"), field("mac"): text(nic, "macAddress")])
        }
        if !network.isEmpty { sections.append(["050#1#0#Network": network]) }

        // Drives: each one, then its SMART entry when the power-cycle count is known.
        var smartctlOutputs: [[String: Any]] = []
        let drives = Self.drives(inventory: payload, erased: erased.map { $0.payload })
        if !drives.isEmpty {
            var entries: [[String: Any]] = []
            for (index, drive) in drives.enumerated() {
                var entry: [String: Any] = [field("ID"): "disk-\(index + 1)", field("vendor"): drive.vendor, field("model"): drive.model,
                                            field("serial"): drive.serial, field("tech"): drive.tech]
                if let size = drive.sizeBytes { entry[field("size")] = gigabytes(size) }
                entries.append(entry)
                if let smartctl = drive.smartctl { smartctlOutputs.append(smartctl) }
                guard let cycles = drive.powerCycles else { continue }
                var smart: [String: Any] = [field("SMART"): "yes", field("cycles"): String(cycles), field("health"): drive.health]
                if let hours = drive.powerOnHours { smart[field("on")] = "\(hours) hrs" }
                if let units = drive.readUnits { smart[field("read-units")] = String(units) }
                if let units = drive.writtenUnits { smart[field("written-units")] = String(units) }
                entries.append(smart)
            }
            sections.append(["060#1#0#Drives": entries])
        }

        if let batteries = payload["batteries"] as? [[String: Any]], !batteries.isEmpty {
            sections.append(["070#1#0#Battery": batteries.map { battery -> [String: Any] in
                [field("ID"): text(battery, "name"), field("model"): text(battery, "model"), field("serial"): text(battery, "serial"),
                 field("condition"): (battery["healthPercent"] as? Int).map { "\($0)%" } ?? "",
                 field("cycles"): (battery["cycleCount"] as? Int).map(String.init) ?? ""]
            }])
        }

        let erase: [[String: Any]] = erased.map { item in
            let record = item.record, certificate = item.payload
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
                // smartctl's JSON outputs when a record carried them (DeviceHub keeps them, reads nothing from them).
                "smartctl": smartctlOutputs,
                // The signed inventory itself, so DeviceHub keeps the original evidence.
                "ardoise_inventory": String(decoding: inventory.body, as: UTF8.self),
            ] as [String: Any],
            "erase": erase,
        ]
    }

    /// The PC's drives: the inventory's (not USB, not removable), then erased media of this PC
    /// the inventory did not list (the drive may have been taken out before the inventory);
    /// one entry per serial number (drives without one are left out), with the SMART figures
    /// the records carry.
    static func drives(inventory: [String: Any], erased: [[String: Any]]) -> [Drive] {
        var drives: [Drive] = []
        var bySerial: [String: Int] = [:]
        func add(_ drive: Drive) {
            // Without a serial DeviceHub cannot start a drive, and a SMART entry after it would
            // be credited to the drive before (or fail the parser when it comes first).
            guard !drive.serial.isEmpty else { return }
            if let index = bySerial[drive.serial] {
                var known = drives[index]
                known.powerCycles = known.powerCycles ?? drive.powerCycles
                known.powerOnHours = known.powerOnHours ?? drive.powerOnHours
                if known.health.isEmpty { known.health = drive.health }
                known.readUnits = known.readUnits ?? drive.readUnits
                known.writtenUnits = known.writtenUnits ?? drive.writtenUnits
                known.smartctl = known.smartctl ?? drive.smartctl
                if known.vendor.isEmpty { known.vendor = drive.vendor }
                drives[index] = known
                return
            }
            bySerial[drive.serial] = drives.count
            drives.append(drive)
        }
        for disk in (inventory["drives"] as? [[String: Any]]) ?? [] {
            guard text(disk, "transport") != "usb", (disk["removable"] as? Bool) != true else { continue }
            var drive = Drive(model: text(disk, "model"), serial: text(disk, "serial"), sizeBytes: disk["sizeBytes"] as? Int,
                              tech: text(disk, "media") == "hdd" ? "HDD" : (text(disk, "media") == "ssd" ? "SSD" : ""))
            smart(&drive, health: disk["health"] as? [String: Any], smartctl: disk["smartctl"] as? [String: Any])
            add(drive)
        }
        for certificate in erased {
            let media = certificate["media"] as? [String: Any] ?? [:]
            guard text(media, "transport") != "usb" else { continue }
            let tech = ["magnetic": "HDD", "flash": "SSD", "hybrid": "SSHD"][text(media, "type")] ?? ""
            var drive = Drive(vendor: text(media, "manufacturer"), model: text(media, "model"), serial: text(media, "serial"),
                              sizeBytes: media["capacityBytes"] as? Int, tech: tech)
            let health = certificate["health"] as? [String: Any]
            smart(&drive, health: health, smartctl: (health?["smartctl"] as? [String: Any]) ?? (certificate["smartctl"] as? [String: Any]))
            add(drive)
        }
        return drives
    }

    /// SMART figures from a health member (`powerOnHours`, the verdict) and, when present, a
    /// `smartctl --json` output (ATA/SCSI `power_cycle_count`, `power_on_time.hours`,
    /// `smart_status.passed`; NVMe's health log `power_cycles`, `data_units_read|written`).
    static func smart(_ drive: inout Drive, health: [String: Any]?, smartctl: [String: Any]?) {
        if let health {
            drive.powerOnHours = health["powerOnHours"] as? Int
            if let verdict = health["verdict"] as? String { drive.health = "ardoise: \(verdict)" }
            if drive.smartctl == nil, let embedded = health["smartctl"] as? [String: Any] { drive.smartctl = embedded }
        }
        guard let smartctl = smartctl ?? drive.smartctl else { return }
        drive.smartctl = smartctl
        let nvme = smartctl["nvme_smart_health_information_log"] as? [String: Any]
        drive.powerCycles = (smartctl["power_cycle_count"] as? Int) ?? (nvme?["power_cycles"] as? Int)
        drive.powerOnHours = ((smartctl["power_on_time"] as? [String: Any])?["hours"] as? Int) ?? (nvme?["power_on_hours"] as? Int) ?? drive.powerOnHours
        if let passed = (smartctl["smart_status"] as? [String: Any])?["passed"] as? Bool { drive.health = passed ? "PASSED" : "FAILED" }
        drive.readUnits = nvme?["data_units_read"] as? Int
        drive.writtenUnits = nvme?["data_units_written"] as? Int
    }

    static func text(_ object: [String: Any], _ key: String) -> String { (object[key] as? String) ?? "" }

    static func number(_ value: Any?) -> String { (value as? Int).map(String.init) ?? "" }

    static func gibibytes(_ bytes: Int) -> String { String(format: "%.1f GiB", Double(bytes) / 1_073_741_824) }

    /// Decimal units, as drives are sold.
    static func gigabytes(_ bytes: Int) -> String { String(format: "%.1f GB", Double(bytes) / 1_000_000_000) }

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
