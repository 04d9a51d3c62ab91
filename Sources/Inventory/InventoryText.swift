import ArdoiseSupport
import Foundation

/// What people read: the one-line summary a refurbisher writes on a PC ("Portable Lenovo
/// ThinkPad T480 · i5-8350U · 8 Go · SSD 256 Go · écran 14" · batterie 78 %") and the sections
/// of the human table and the PDF sheet. French by default; JSON never goes through here.
public enum InventoryText {
    public struct Section: Sendable, Equatable {
        public var title: String
        public var rows: [Row]
        public init(title: String, rows: [Row]) { self.title = title; self.rows = rows }
    }

    public struct Row: Sendable, Equatable {
        public var label: String
        public var value: String
        public init(_ label: String, _ value: String) { self.label = label; self.value = value }
    }

    // MARK: Summary line

    public static func summary(_ inventory: HostInventory, language: Language) -> String {
        let french = language == .french
        var parts: [String] = []
        var head = chassisLabel(inventory.chassis.type, language: language)
        if let name = machineName(inventory) { head += " " + name }
        parts.append(head)
        if let cpu = inventory.cpus.first?.model.map(shortCPUName), !cpu.isEmpty {
            parts.append(inventory.cpus.count > 1 ? "\(inventory.cpus.count)× \(cpu)" : cpu)
        }
        if let ram = ramBytes(inventory.memory) { parts.append(binarySize(ram, language: language)) }
        // Internal drives only: a USB stick or an SD card is not part of the PC.
        let drives = inventory.drives.filter { !$0.removable && $0.transport != "usb" }
        if !drives.isEmpty {
            parts.append(drives.map { drive in
                var text = "\(drive.media == "hdd" ? "HDD" : "SSD") \(decimalSize(drive.sizeBytes, language: language))"
                if let verdict = drive.health?.verdict { text += " (\(healthLabel(verdict, language: language)))" }
                return text
            }.joined(separator: " + "))
        }
        if let screen = inventory.screens.first(where: { $0.builtIn && $0.diagonalInches != nil }), let inches = screen.diagonalInches {
            parts.append((french ? "écran " : "screen ") + decimal(inches, language: language) + "\"")
        }
        if let health = inventory.batteries.compactMap(\.healthPercent).first {
            parts.append(french ? "batterie \(health) %" : "battery \(health)%")
        }
        return parts.joined(separator: " · ")
    }

    public static func chassisLabel(_ type: ChassisType, language: Language) -> String {
        let french = language == .french
        return switch type {
        case .laptop: french ? "Portable" : "Laptop"
        case .desktop: french ? "PC fixe" : "Desktop"
        case .allInOne: french ? "Tout-en-un" : "All-in-one"
        case .tablet: french ? "Tablette" : "Tablet"
        case .server: french ? "Serveur" : "Server"
        case .other, .unknown: "PC"
        }
    }

    public static func healthLabel(_ verdict: String, language: Language) -> String {
        let french = language == .french
        return switch verdict {
        case "reuse": french ? "réemploi" : "reuse"
        case "caution": french ? "à surveiller" : "caution"
        case "discard": french ? "à détruire" : "discard"
        default: french ? "santé inconnue" : "health unknown"
        }
    }

    /// "Lenovo ThinkPad T480": the short vendor name and the model as people say it.
    public static func machineName(_ inventory: HostInventory) -> String? {
        let vendor = (inventory.system.manufacturer ?? inventory.baseboard?.manufacturer).map(shortVendorName)
        var model = inventory.system.product ?? inventory.baseboard?.product
        // Lenovo puts the machine type (20L5CTO1WW) in the product name and the marketing name in the version.
        if vendor == "Lenovo", let version = inventory.system.version, version.rangeOfCharacter(from: .letters) != nil,
           version.lowercased() != "lenovo" {
            model = version
        }
        if let vendor, let current = model, current.lowercased().hasPrefix(vendor.lowercased() + " ") {
            model = String(current.dropFirst(vendor.count + 1))
        }
        let name = [vendor, model].compactMap { $0 }.joined(separator: " ")
        return name.isEmpty ? nil : name
    }

    static let vendorNames: [String: String] = [
        "lenovo": "Lenovo", "hewlett-packard": "HP", "hp": "HP", "dell inc.": "Dell", "dell": "Dell",
        "asustek computer inc.": "Asus", "asus": "Asus", "acer": "Acer", "toshiba": "Toshiba", "fujitsu": "Fujitsu",
        "fujitsu siemens": "Fujitsu", "fujitsu client computing limited": "Fujitsu", "apple inc.": "Apple",
        "micro-star international co., ltd.": "MSI", "micro-star international co., ltd": "MSI",
        "gigabyte technology co., ltd.": "Gigabyte", "microsoft corporation": "Microsoft",
        "samsung electronics co., ltd.": "Samsung", "sony corporation": "Sony", "medion": "Medion", "qemu": "QEMU",
    ]

    public static func shortVendorName(_ name: String) -> String {
        if let known = vendorNames[name.lowercased()] { return known }
        var result = name
        for suffix in [", Inc.", " Inc.", " Corporation", " Co., Ltd.", " Co.,Ltd.", " Limited", " LIMITED", " GmbH", " AG", " S.A."]
        where result.hasSuffix(suffix) {
            result = String(result.dropLast(suffix.count))
        }
        return result
    }

    /// "Intel(R) Core(TM) i5-8350U CPU @ 1.70GHz" → "i5-8350U"; "AMD Ryzen 5 PRO 2500U w/ Radeon
    /// Vega Mobile Gfx" → "Ryzen 5 PRO 2500U".
    public static func shortCPUName(_ model: String) -> String {
        var text = model
        for mark in ["(R)", "(r)", "(TM)", "(tm)", "®", "™"] { text = text.replacingOccurrences(of: mark, with: "") }
        for cut in [" @ ", " w/ ", " with ", ","] {
            if let range = text.range(of: cut) { text = String(text[..<range.lowerBound]) }
        }
        var words = text.split(separator: " ").map(String.init)
        words.removeAll { ["Intel", "AMD", "CPU", "Processor", "APU"].contains($0) }
        // "12th Gen", "11th Gen"…
        if words.count >= 2, words[0].hasSuffix("th"), words[1] == "Gen" { words.removeFirst(2) }
        if words.count >= 2, words[0] == "Core", words[1].range(of: #"^i[3579]-"#, options: .regularExpression) != nil {
            words.removeFirst()
        }
        let result = words.joined(separator: " ")
        return result.isEmpty ? model : result
    }

    /// The RAM a refurbisher announces: the installed modules, else MemTotal rounded up to a
    /// whole GiB (the kernel and firmware keep a little).
    static func ramBytes(_ memory: MemoryInfo) -> UInt64? {
        if let installed = memory.installedBytes { return installed }
        guard let usable = memory.usableBytes else { return nil }
        let gib: UInt64 = 1 << 30
        return (usable + gib - 1) / gib * gib
    }

    /// RAM in binary units, as sold: "8 Go" / "8 GB", "512 Mo".
    public static func binarySize(_ bytes: UInt64, language: Language) -> String {
        let french = language == .french
        let gib = Double(bytes) / Double(1 << 30)
        if gib >= 1 { return decimal((gib * 10).rounded() / 10, language: language) + (french ? " Go" : " GB") }
        return "\(bytes >> 20)" + (french ? " Mo" : " MB")
    }

    /// Drive capacity in decimal units, as printed on the label: "256 Go", "1 To", "1,5 To".
    public static func decimalSize(_ bytes: UInt64, language: Language) -> String {
        let french = language == .french
        let gigabytes = Double(bytes) / 1e9
        if gigabytes >= 1000 {
            return decimal((gigabytes / 100).rounded() / 10, language: language) + (french ? " To" : " TB")
        }
        if gigabytes >= 1 { return "\(Int(gigabytes.rounded()))" + (french ? " Go" : " GB") }
        return "\(Int((Double(bytes) / 1e6).rounded()))" + (french ? " Mo" : " MB")
    }

    /// One decimal at most, dropped when zero; decimal comma in French.
    static func decimal(_ value: Double, language: Language) -> String {
        let rounded = (value * 10).rounded() / 10
        let text = rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
        return language == .french ? text.replacingOccurrences(of: ".", with: ",") : text
    }

    // MARK: Table sections

    /// `driveNotes` adds a line per drive name (the PDF puts the drive's erasure status there).
    public static func sections(_ inventory: HostInventory, language: Language, driveNotes: [String: LocalizedText] = [:]) -> [Section] {
        let french = language == .french
        func t(_ fr: String, _ en: String) -> String { french ? fr : en }
        var result: [Section] = []

        var system: [Row] = []
        var type = chassisLabel(inventory.chassis.type, language: language)
        if let name = inventory.chassis.smbiosTypeName { type += " (\(name))" }
        system.append(Row(t("Type", "Type"), type))
        if let value = inventory.system.manufacturer { system.append(Row(t("Fabricant", "Manufacturer"), value)) }
        if let value = inventory.system.product { system.append(Row(t("Produit", "Product"), value)) }
        if let value = inventory.system.version { system.append(Row(t("Version", "Version"), value)) }
        if let value = inventory.system.family { system.append(Row(t("Famille", "Family"), value)) }
        if let value = inventory.system.sku { system.append(Row("SKU", value)) }
        if let value = inventory.system.serial { system.append(Row(t("N° de série", "Serial"), value)) }
        if let value = inventory.system.uuid { system.append(Row("UUID", value)) }
        if let value = inventory.chassis.serial, value != inventory.system.serial { system.append(Row(t("N° de série du boîtier", "Chassis serial"), value)) }
        if let value = inventory.chassis.assetTag { system.append(Row(t("N° d'inventaire", "Asset tag"), value)) }
        if let board = inventory.baseboard {
            let text = [board.manufacturer, board.product, board.version].compactMap { $0 }.joined(separator: " ")
                + (board.serial.map { t(" (n° ", " (serial ") + $0 + ")" } ?? "")
            if !text.isEmpty { system.append(Row(t("Carte mère", "Baseboard"), text)) }
        }
        if let bios = inventory.bios {
            let text = [bios.vendor, bios.version, bios.releaseDate].compactMap { $0 }.joined(separator: " ")
            if !text.isEmpty { system.append(Row("BIOS", text)) }
        }
        let firmware = switch inventory.sources.firmware {
        case .smbios: "SMBIOS \(inventory.sources.smbiosVersion ?? "?")"
        case .dmiID: t("/sys/class/dmi/id (pas de table SMBIOS)", "/sys/class/dmi/id (no SMBIOS table)")
        case .none: t("aucune", "none")
        }
        system.append(Row(t("Source", "Source"), firmware))
        result.append(Section(title: t("Système", "System"), rows: system))

        result.append(Section(title: t("Processeur", "Processor"), rows: inventory.cpus.enumerated().map { index, cpu in
            var text = cpu.model ?? t("inconnu", "unknown")
            var details: [String] = []
            if let cores = cpu.cores { details.append(t("\(cores) cœurs", "\(cores) cores")) }
            if let threads = cpu.threads { details.append(t("\(threads) threads", "\(threads) threads")) }
            if let speed = cpu.maxSpeedMHz { details.append("max \(speed) MHz") }
            if !details.isEmpty { text += " — " + details.joined(separator: ", ") }
            return Row(cpu.socket ?? "CPU \(index)", text)
        }))

        var memory: [Row] = []
        if let installed = inventory.memory.installedBytes { memory.append(Row(t("Installée", "Installed"), binarySize(installed, language: language))) }
        if let usable = inventory.memory.usableBytes {
            memory.append(Row(t("Vue par le système", "Seen by the system"),
                              decimal(Double(usable) / Double(1 << 30), language: language) + t(" Gio", " GiB")))
        }
        if let slots = inventory.memory.slotCount {
            memory.append(Row(t("Emplacements", "Slots"), t("\(slots), dont \(inventory.memory.emptySlots ?? 0) libre(s)",
                                                             "\(slots), \(inventory.memory.emptySlots ?? 0) empty")))
        }
        for module in inventory.memory.modules {
            let label = module.locator ?? module.bankLocator ?? "?"
            guard module.installed else {
                memory.append(Row(label, t("libre", "empty")))
                continue
            }
            var parts: [String] = []
            if let size = module.sizeBytes { parts.append(binarySize(size, language: language)) }
            if let type = module.type { parts.append(type.uppercased()) }
            if let form = module.formFactor { parts.append(form.uppercased()) }
            if let speed = module.configuredSpeedMTs ?? module.speedMTs { parts.append("\(speed) MT/s") }
            if let maker = module.manufacturer { parts.append(maker) }
            if let part = module.partNumber { parts.append(part) }
            if let serial = module.serial { parts.append(t("n° ", "s/n ") + serial) }
            memory.append(Row(label, parts.joined(separator: " ")))
        }
        result.append(Section(title: t("Mémoire", "Memory"), rows: memory))

        result.append(Section(title: t("Disques", "Drives"), rows: inventory.drives.map { drive in
            var parts = ["\(drive.media == "hdd" ? "HDD" : "SSD") \(decimalSize(drive.sizeBytes, language: language))", drive.transport]
            if let model = drive.model { parts.append(model) }
            if let serial = drive.serial { parts.append(t("n° ", "s/n ") + serial) }
            if drive.removable { parts.append(t("amovible", "removable")) }
            // The label names health itself ("santé inconnue"), so no "santé :" before it.
            if let verdict = drive.health?.verdict { parts.append(healthLabel(verdict, language: language)) }
            if let note = driveNotes[drive.name] { parts.append(note.text(in: language)) }
            return Row(drive.name, parts.joined(separator: " · "))
        }))

        result.append(Section(title: t("Batteries", "Batteries"), rows: inventory.batteries.map { battery in
            var parts: [String] = []
            let identity = [battery.manufacturer, battery.model].compactMap { $0 }.joined(separator: " ")
            if !identity.isEmpty { parts.append(identity) }
            if let technology = battery.technology { parts.append(technology) }
            if let health = battery.healthPercent {
                var text = t("santé \(health) %", "health \(health)%")
                if let full = battery.fullCapacity, let design = battery.designCapacity, let measure = battery.measure {
                    let unit = measure == "energy" ? "Wh" : "Ah"
                    text += " (\(decimal(Double(full) / 1e6, language: language))/\(decimal(Double(design) / 1e6, language: language)) \(unit))"
                }
                parts.append(text)
            } else if let design = battery.smbiosDesignCapacityMWh {
                parts.append(t("capacité nominale ", "design capacity ") + decimal(Double(design) / 1000, language: language) + " Wh")
            }
            if let cycles = battery.cycleCount { parts.append(t("\(cycles) cycles", "\(cycles) cycles")) }
            if let serial = battery.serial { parts.append(t("n° ", "s/n ") + serial) }
            return Row(battery.name, parts.joined(separator: " · "))
        }))

        result.append(Section(title: t("Écrans", "Screens"), rows: inventory.screens.map { screen in
            let label = screen.connector + (screen.builtIn ? t(" (intégré)", " (built-in)") : "")
            if let error = screen.error { return Row(label, t("EDID illisible", "unreadable EDID") + " (\(error))") }
            var parts: [String] = []
            let maker = screen.manufacturerName.map { "\($0) (\(screen.manufacturerID ?? "?"))" } ?? screen.manufacturerID
            let identity = [maker, screen.model].compactMap { $0 }.joined(separator: " ")
            if !identity.isEmpty { parts.append(identity) }
            if let inches = screen.diagonalInches { parts.append(decimal(inches, language: language) + "\"") }
            if let w = screen.widthCm, let h = screen.heightCm { parts.append("\(w) × \(h) cm") }
            if let w = screen.nativeWidth, let h = screen.nativeHeight { parts.append("\(w) × \(h)") }
            if let serial = screen.serial { parts.append(t("n° ", "s/n ") + serial) }
            if !screen.checksumValid { parts.append(t("somme de contrôle EDID fausse", "EDID checksum wrong")) }
            return Row(label, parts.joined(separator: " · "))
        }))

        result.append(Section(title: t("Cartes graphiques", "Graphics"), rows: inventory.gpus.map { gpu in
            Row(gpu.address, deviceText(vendor: gpu.vendor, model: gpu.model, vendorID: gpu.vendorID, deviceID: gpu.deviceID, driver: gpu.driver))
        }))

        result.append(Section(title: t("Réseau", "Network"), rows: inventory.networkInterfaces.map { nic in
            let kind = switch nic.kind {
            case "wifi": "Wi-Fi"
            case "ethernet": "Ethernet"
            default: t("autre", "other")
            }
            var parts = [kind]
            if let mac = nic.macAddress { parts.append(mac) }
            parts.append(deviceText(vendor: nic.vendor, model: nic.model, vendorID: nic.vendorID, deviceID: nic.deviceID, driver: nic.driver))
            return Row(nic.name, parts.joined(separator: " · "))
        }))

        if !inventory.warnings.isEmpty {
            result.append(Section(title: t("Avertissements", "Warnings"), rows: inventory.warnings.map {
                Row($0.code, [warningText($0.code, language: language), $0.subject].compactMap { $0 }.joined(separator: " — "))
            }))
        }
        return result.filter { !$0.rows.isEmpty }
    }

    static func deviceText(vendor: String?, model: String?, vendorID: String?, deviceID: String?, driver: String?) -> String {
        var text = [vendor, model].compactMap { $0 }.joined(separator: " ")
        if let vendorID, let deviceID { text += (text.isEmpty ? "" : " ") + "[\(vendorID):\(deviceID)]" }
        if let driver { text += " (\(driver))" }
        return text
    }

    public static func warningText(_ code: String, language: Language) -> String {
        let french = language == .french
        return switch code {
        case "smbios_no_entry_point": french ? "point d'entrée SMBIOS non reconnu" : "SMBIOS entry point not recognised"
        case "smbios_entry_point_checksum": french ? "somme de contrôle du point d'entrée SMBIOS fausse" : "SMBIOS entry point checksum wrong"
        case "smbios_truncated_table": french ? "table SMBIOS tronquée" : "SMBIOS table truncated"
        case "smbios_unreadable": french ? "table SMBIOS illisible (lancez en root)" : "SMBIOS table unreadable (run as root)"
        case "firmware_unavailable": french ? "ni table SMBIOS ni /sys/class/dmi/id" : "neither SMBIOS table nor /sys/class/dmi/id"
        case "edid_checksum": french ? "somme de contrôle EDID fausse (valeurs décodées quand même)" : "EDID checksum wrong (values decoded anyway)"
        case "edid_too_short": french ? "EDID trop court" : "EDID too short"
        case "edid_bad_header": french ? "en-tête EDID invalide" : "invalid EDID header"
        case "edid_empty": french ? "EDID vide" : "empty EDID"
        default: code
        }
    }

    /// The sections as aligned text (`ardoise inventory` without `--json`).
    public static func table(_ inventory: HostInventory, language: Language) -> String {
        var lines = [summary(inventory, language: language), ""]
        for section in sections(inventory, language: language) {
            lines.append(section.title)
            let width = min(section.rows.map(\.label.count).max() ?? 0, 28)
            for row in section.rows {
                lines.append("  " + row.label.padding(toLength: max(width, row.label.count), withPad: " ", startingAt: 0) + "  " + row.value)
            }
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }
}
