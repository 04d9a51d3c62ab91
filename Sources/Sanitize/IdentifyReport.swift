import ArdoiseSupport
import DeviceKit

/// What `ardoise identify --json` prints: the parsed identity plus the purge plan.
public struct IdentifyReport: Sendable, Codable {
    public struct Plan: Sendable, Codable {
        /// The method `auto` would run, or nil.
        public var method: String?
        /// "firmware", "overwrite-passes" or "cannot-purge".
        public var decision: String
        public var reasonFrench: String
        public var reasonEnglish: String
    }

    public var deviceType: String
    /// "device" or "file".
    public var source: String
    public var path: String
    public var ata: AtaIdentify?
    public var nvmeController: NvmeControllerIdentity?
    public var nvmeNamespace: NvmeNamespaceIdentity?
    public var scsi: ScsiIdentity?
    public var purgePlan: Plan

    public init(identification: DriveIdentification, deviceType: PassthroughDeviceType, source: String, path: String) {
        self.deviceType = deviceType.rawValue
        self.source = source
        self.path = path
        switch identification {
        case .ata(let id): ata = id
        case .nvme(let c, let ns): nvmeController = c; nvmeNamespace = ns
        case .scsi(let i): scsi = i
        }
        switch PurgePlanner.plan(identification) {
        case .firmware(let m, let reason): purgePlan = Plan(method: m.rawValue, decision: "firmware", reasonFrench: reason.french, reasonEnglish: reason.english)
        case .overwritePasses(let reason): purgePlan = Plan(method: nil, decision: "overwrite-passes", reasonFrench: reason.french, reasonEnglish: reason.english)
        case .cannotPurge(let reason): purgePlan = Plan(method: nil, decision: "cannot-purge", reasonFrench: reason.french, reasonEnglish: reason.english)
        }
    }

    /// Parses a saved dump: 512-byte IDENTIFY DEVICE for sat/sat12, 4096-byte Identify Controller for nvme.
    public static func fromDump(_ bytes: [UInt8], deviceType: PassthroughDeviceType, path: String) throws -> IdentifyReport {
        switch deviceType {
        case .sat, .sat12:
            return IdentifyReport(identification: .ata(try AtaIdentify.parse(bytes)), deviceType: deviceType, source: "file", path: path)
        case .nvme:
            return IdentifyReport(identification: .nvme(controller: try NvmeControllerIdentity.parse(bytes), namespace: nil), deviceType: deviceType, source: "file", path: path)
        case .auto, .scsi:
            throw SanitizeError(.invalidRequest, context: path, message: .init(fr: "--from-file exige --device-type sat, sat12 ou nvme", en: "--from-file needs --device-type sat, sat12 or nvme"))
        }
    }

    /// Lines for people, in `language`.
    public func text(in language: Language) -> String {
        let fr = language == .french
        var lines: [String] = []
        if let a = ata {
            lines.append("\(fr ? "Modèle" : "Model"): \(a.model)")
            lines.append("\(fr ? "Numéro de série" : "Serial"): \(a.serialNumber)")
            lines.append("Firmware: \(a.firmwareRevision)")
            lines.append("\(fr ? "Capacité" : "Capacity"): \(a.userAddressableSectors) × \(a.logicalSectorSize) B (\(fr ? "physique" : "physical") \(a.physicalSectorSize) B)")
            lines.append("\(fr ? "Type" : "Kind"): \(a.isSolidState ? "SSD" : (a.rotationRate.map { "\($0) rpm" } ?? (fr ? "rotation non indiquée" : "rotation not reported")))")
            let s = a.security
            lines.append("Security: \(s.supported ? (fr ? "prise en charge" : "supported") : (fr ? "absente" : "not supported"))\(s.enabled ? ", enabled" : "")\(s.locked ? ", LOCKED" : "")\(s.frozen ? ", FROZEN" : "")\(s.countExpired ? ", EXPIRED" : "")\(s.enhancedEraseSupported ? ", enhanced erase" : "")")
            let z = a.sanitize
            lines.append("Sanitize: \(z.supported ? [z.cryptoScramble ? "crypto" : nil, z.blockErase ? "block" : nil, z.overwrite ? "overwrite" : nil].compactMap { $0 }.joined(separator: ", ") : (fr ? "absent" : "not supported"))")
            lines.append("HPA: \(a.supportsHPA ? "yes" : "no"), DCO: \(a.supportsDCO ? "yes" : "no"), AMA: \(a.supportsAccessibleMaxAddress ? "yes" : "no"), TRIM: \(a.supportsTrim ? "yes" : "no")")
        }
        if let c = nvmeController {
            lines.append("\(fr ? "Modèle" : "Model"): \(c.model)")
            lines.append("\(fr ? "Numéro de série" : "Serial"): \(c.serialNumber)")
            lines.append("Firmware: \(c.firmwareRevision)")
            lines.append("OACS: \(Hex.fixed(UInt64(c.oacs), width: 4)) (Format NVM: \(c.supportsFormat ? "yes" : "no")), SANICAP: \(Hex.fixed(UInt64(c.sanicap), width: 8)), FNA: \(Hex.fixed(UInt64(c.fna), width: 2)), NN: \(c.namespaceCount)")
        }
        if let s = scsi {
            lines.append("\(fr ? "Modèle" : "Model"): \(s.inquiry.vendor) \(s.inquiry.product) (\(s.inquiry.revision))")
            if let serial = s.serialNumber { lines.append("\(fr ? "Numéro de série" : "Serial"): \(serial)") }
            if let blocks = s.logicalBlocks, let size = s.logicalBlockSize { lines.append("\(fr ? "Capacité" : "Capacity"): \(blocks) × \(size) B") }
            func flag(_ v: Bool?) -> String { v.map { $0 ? "yes" : "no" } ?? "?" }
            lines.append("SANITIZE: overwrite \(flag(s.sanitizeOverwrite)), block \(flag(s.sanitizeBlockErase)), crypto \(flag(s.sanitizeCryptographicErase))")
        }
        lines.append("\(fr ? "Purge NIST" : "NIST purge"): \(purgePlan.method ?? purgePlan.decision) — \(fr ? purgePlan.reasonFrench : purgePlan.reasonEnglish)")
        return lines.joined(separator: "\n")
    }
}

extension FirmwareEraser {
    /// Resolves `--device-type auto` smartctl-style: an `nvme*` node is NVMe; otherwise a SAT
    /// IDENTIFY DEVICE that answers means ATA behind a SATL, and anything else is SCSI.
    /// Sends only read-only identification commands.
    public static func detectDeviceType(path: String, transport: PassthroughTransport) -> PassthroughDeviceType {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        if name.hasPrefix("nvme") || name.hasPrefix("ng") { return .nvme }
        let probe = FirmwareEraser(transport: transport, deviceType: .sat, secretStore: InMemorySecretStore())
        if (try? probe.ataIdentify()) != nil { return .sat }
        return .scsi
    }
}

/// A device opened for identification commands only (`ardoise identify`), with its failure as
/// a `SanitizeError`. Commands that change a drive go through the job's claim
/// (`DriveAccess.claim(...).passthrough()`), never through a path opened here.
public func openForIdentification(path: String) throws -> PassthroughTransport {
    do {
        return try DriveAccess.openForIdentification(path)
    } catch let error as PassthroughError {
        throw SanitizeError(.transport, context: path, errno: error.errno, message: error.message)
    }
}
