import ArdoiseSupport
import DeviceKit
import Foundation

// SCSI flows of `FirmwareEraser`: SANITIZE and FORMAT UNIT with security.
extension FirmwareEraser {
    // MARK: - SCSI

    func scsiErase(_ method: FirmwareEraseMethod, options: FirmwareEraseOptions) throws -> FirmwareEraseResult {
        let identity = try scsiIdentify()
        let model = "\(identity.inquiry.vendor) \(identity.inquiry.product)"
        let serial = identity.serialNumber ?? ""
        let ctx = context(method, model, serial)
        // Refuse before sending when the drive says so; when it cannot say (nil), try and read
        // the answer (ILLEGAL REQUEST → unsupported).
        let listed: Bool?
        switch method {
        case .scsiSanitizeOverwrite: listed = identity.sanitizeOverwrite
        case .scsiSanitizeBlock: listed = identity.sanitizeBlockErase
        case .scsiSanitizeCrypto: listed = identity.sanitizeCryptographicErase
        default: listed = nil
        }
        if listed == false {
            throw SanitizeError(.unsupported, context: ctx, message: .init(
                fr: "le disque ne propose pas \(method.label.french) (REPORT SUPPORTED OPERATION CODES)",
                en: "the drive does not offer \(method.label.english) (REPORT SUPPORTED OPERATION CODES)"))
        }
        let command: ScsiCommand
        let busyQualifier: UInt8
        switch method {
        case .scsiSanitizeOverwrite:
            guard (1...31).contains(options.overwritePasses) else {
                throw SanitizeError(.invalidRequest, context: ctx, message: .init(fr: "SCSI SANITIZE OVERWRITE accepte 1 à 31 passes", en: "SCSI SANITIZE OVERWRITE takes 1 to 31 passes"))
            }
            let p = options.overwritePattern
            let pattern: [UInt8] = [UInt8(p >> 24), UInt8(p >> 16 & 0xFF), UInt8(p >> 8 & 0xFF), UInt8(p & 0xFF)]
            command = ScsiCommands.sanitize(.overwrite, ause: options.allowUnrestrictedExit,
                                            parameterList: ScsiCommands.overwriteParameterList(passes: options.overwritePasses, pattern: pattern, invert: options.invertBetweenPasses))
            busyQualifier = 0x1B
        case .scsiSanitizeBlock:
            command = ScsiCommands.sanitize(.blockErase, ause: options.allowUnrestrictedExit); busyQualifier = 0x1B
        case .scsiSanitizeCrypto:
            command = ScsiCommands.sanitize(.cryptographicErase, ause: options.allowUnrestrictedExit); busyQualifier = 0x1B
        default:
            command = ScsiCommands.formatUnitSecurityInitialize(); busyQualifier = 0x04
        }
        let start = try send(command)
        if start.status != 0 {
            let sense = SenseData.decode(start.sense)
            if let sense, sense.senseKey == 0x5 {
                throw SanitizeError(.unsupported, context: ctx, message: .init(
                    fr: "le disque refuse \(method.label.french) (ILLEGAL REQUEST \(Hex.fixed(UInt64(sense.additionalSenseCode), width: 2))/\(Hex.fixed(UInt64(sense.additionalSenseCodeQualifier), width: 2)))",
                    en: "the drive rejects \(method.label.english) (ILLEGAL REQUEST \(Hex.fixed(UInt64(sense.additionalSenseCode), width: 2))/\(Hex.fixed(UInt64(sense.additionalSenseCodeQualifier), width: 2)))"))
            }
            if let sense, sense.senseKey == 0x2, sense.additionalSenseCode == 0x04 {
                throw SanitizeError(.commandFailed, context: ctx, message: .init(fr: "une opération est déjà en cours sur le disque ; attendez sa fin", en: "an operation is already running on the drive; wait for it to finish"))
            }
            throw SanitizeError(.commandFailed, context: ctx, message: .init(fr: "le disque a refusé \(method.label.french) (statut \(Hex.fixed(UInt64(start.status), width: 2)))", en: "the drive rejected \(method.label.english) (status \(Hex.fixed(UInt64(start.status), width: 2)))"))
        }
        try poll(method: method, options: options, ctx: ctx) {
            let reply = try self.send(ScsiCommands.requestSense())
            guard reply.status == 0, let sense = SenseData.decode(reply.dataIn) else {
                throw SanitizeError(.commandFailed, context: ctx, message: .init(fr: "REQUEST SENSE sans réponse exploitable", en: "REQUEST SENSE gave no usable answer"))
            }
            if sense.senseKey == 0x2 && sense.additionalSenseCode == 0x04 && sense.additionalSenseCodeQualifier == busyQualifier {
                return sense.progressFraction ?? 0
            }
            if sense.senseKey == 0x3 && sense.additionalSenseCode == 0x31 {
                throw SanitizeError(.commandFailed, context: ctx, message: .init(
                    fr: "l'effacement a échoué (MEDIUM ERROR 31h/\(Hex.fixed(UInt64(sense.additionalSenseCodeQualifier), width: 2))) ; rien n'est certifié",
                    en: "the erase failed (MEDIUM ERROR 31h/\(Hex.fixed(UInt64(sense.additionalSenseCodeQualifier), width: 2))); nothing is certified"))
            }
            if sense.senseKey == 0x0 || sense.senseKey == 0x1 { return nil }
            throw SanitizeError(.commandFailed, context: ctx, message: .init(fr: "état inattendu du disque (clé \(sense.senseKey), \(Hex.fixed(UInt64(sense.additionalSenseCode), width: 2))/\(Hex.fixed(UInt64(sense.additionalSenseCodeQualifier), width: 2)))", en: "unexpected drive state (key \(sense.senseKey), \(Hex.fixed(UInt64(sense.additionalSenseCode), width: 2))/\(Hex.fixed(UInt64(sense.additionalSenseCodeQualifier), width: 2)))"))
        }
        return FirmwareEraseResult(method: method, nistCategory: method.nistCategory, model: model, serialNumber: serial,
                                   commandCount: commandCount, hiddenArea: nil, appliesToAllNamespaces: nil, notes: [])
    }
}
