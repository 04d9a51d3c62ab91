import ArdoiseSupport
import DeviceKit
import Foundation

// NVMe flows of `FirmwareEraser`: identify, Format NVM, Sanitize.
extension FirmwareEraser {
    // MARK: - NVMe

    func nvmeIdentifyController() throws -> NvmeControllerIdentity {
        let r = try send(NvmeCommands.identifyController())
        guard r.isSuccess else { throw nvmeFailure("Identify Controller", "", r) }
        return try NvmeControllerIdentity.parse(r.dataIn)
    }

    func nvmeIdentifyNamespace(_ nsid: UInt32) throws -> NvmeNamespaceIdentity {
        let r = try send(NvmeCommands.identifyNamespace(nsid: nsid))
        guard r.isSuccess else { throw nvmeFailure("Identify Namespace", "", r) }
        return try NvmeNamespaceIdentity.parse(r.dataIn)
    }

    func nvmeSanitizeLog() throws -> NvmeSanitizeStatusLog {
        let r = try send(NvmeCommands.sanitizeStatusLog())
        guard r.isSuccess else { throw nvmeFailure("Get Log Page 81h", "", r) }
        return try NvmeSanitizeStatusLog.parse(r.dataIn)
    }

    func nvmeFailure(_ what: String, _ ctx: String, _ r: NvmeResult) -> SanitizeError {
        let status = "SCT \(r.statusCodeType) SC \(Hex.fixed(UInt64(r.statusCode), width: 2))"
        if r.statusCodeType == 0 && (r.statusCode == 0x01 || r.statusCode == 0x02) {
            return SanitizeError(.unsupported, context: ctx, message: .init(fr: "le contrôleur refuse \(what) (\(status) : commande ou champ non pris en charge)", en: "the controller rejects \(what) (\(status): command or field not supported)"))
        }
        if r.statusCodeType == 0 && r.statusCode == 0x1D {
            return SanitizeError(.commandFailed, context: ctx, message: .init(fr: "un sanitize est déjà en cours (\(status)) ; attendez sa fin", en: "a sanitize is already in progress (\(status)); wait for it to finish"))
        }
        return SanitizeError(.commandFailed, context: ctx, message: .init(fr: "le contrôleur a refusé \(what) (\(status))", en: "the controller rejected \(what) (\(status))"))
    }

    func nvmeFormat(_ method: FirmwareEraseMethod, options: FirmwareEraseOptions) throws -> FirmwareEraseResult {
        let ctrl = try nvmeIdentifyController()
        let ctx = context(method, ctrl.model, ctrl.serialNumber)
        guard ctrl.supportsFormat else {
            throw SanitizeError(.unsupported, context: ctx, message: .init(fr: "le contrôleur ne propose pas Format NVM (OACS bit 1)", en: "the controller does not offer Format NVM (OACS bit 1)"))
        }
        let crypto = method == .nvmeFormatCrypto
        if crypto && !ctrl.formatCryptoEraseSupported {
            throw SanitizeError(.unsupported, context: ctx, message: .init(fr: "le contrôleur ne propose pas l'effacement cryptographique par Format (FNA bit 2)", en: "the controller does not offer cryptographic erase by Format (FNA bit 2)"))
        }
        let nsid = options.namespaceID ?? 1
        if nsid == 0xFFFF_FFFF && ctrl.formatBroadcastUnsupported {
            throw SanitizeError(.unsupported, context: ctx, message: .init(fr: "le contrôleur refuse Format sur tous les espaces de noms (FNA bit 3) ; indiquez un espace de noms", en: "the controller refuses Format on all namespaces (FNA bit 3); give a namespace"))
        }
        let ns = try nvmeIdentifyNamespace(nsid == 0xFFFF_FFFF ? 1 : nsid)
        let command = NvmeCommands.formatNVM(nsid: nsid, secureErase: crypto ? .cryptographic : .userData, lbaFormat: ns.lbaFormatIndex,
                                             metadataSettings: ns.extendedMetadata, protectionInformation: ns.protectionType,
                                             protectionLocation: ns.protectionFirst)
        progress(FirmwareEraseProgress(method: method, fraction: nil, message: .init(fr: "Format NVM en cours (sans indication de progression)", en: "Format NVM running (no progress reported)")))
        let r = try send(command)
        guard r.isSuccess else { throw nvmeFailure("Format NVM", ctx, r) }
        let all = nsid == 0xFFFF_FFFF || ctrl.secureEraseAppliesToAllNamespaces || ctrl.formatAppliesToAllNamespaces
        var notes: [LocalizedText] = []
        if all {
            notes.append(.init(fr: "Le contrôleur applique cet effacement à TOUS ses espaces de noms (FNA) : les \(ctrl.namespaceCount) espace(s) de noms sont effacés.",
                               en: "The controller applies this erase to ALL its namespaces (FNA): all \(ctrl.namespaceCount) namespace(s) are erased."))
        }
        return FirmwareEraseResult(method: method, nistCategory: method.nistCategory, model: ctrl.model, serialNumber: ctrl.serialNumber,
                                   commandCount: commandCount, hiddenArea: nil, appliesToAllNamespaces: all, notes: notes)
    }

    func nvmeSanitize(_ method: FirmwareEraseMethod, options: FirmwareEraseOptions) throws -> FirmwareEraseResult {
        let ctrl = try nvmeIdentifyController()
        let ctx = context(method, ctrl.model, ctrl.serialNumber)
        let action: NvmeCommands.SanitizeAction
        let supported: Bool
        switch method {
        case .nvmeSanitizeCrypto: action = .cryptoErase; supported = ctrl.sanitizeCryptoErase
        case .nvmeSanitizeBlock: action = .blockErase; supported = ctrl.sanitizeBlockErase
        default: action = .overwrite; supported = ctrl.sanitizeOverwrite
        }
        guard supported else {
            throw SanitizeError(.unsupported, context: ctx, message: .init(fr: "le contrôleur ne propose pas \(method.label.french) (SANICAP)", en: "the controller does not offer \(method.label.english) (SANICAP)"))
        }
        if action == .overwrite && !(1...16).contains(options.overwritePasses) {
            throw SanitizeError(.invalidRequest, context: ctx, message: .init(fr: "NVMe Sanitize Overwrite accepte 1 à 16 passes", en: "NVMe Sanitize Overwrite takes 1 to 16 passes"))
        }
        let before = try nvmeSanitizeLog()
        if before.status == .inProgress {
            throw SanitizeError(.commandFailed, context: ctx, message: .init(fr: "un sanitize est déjà en cours ; attendez sa fin", en: "a sanitize is already in progress; wait for it to finish"))
        }
        let command = NvmeCommands.sanitize(action, ause: options.allowUnrestrictedExit, overwritePasses: options.overwritePasses == 16 ? 0 : options.overwritePasses,
                                            invertBetweenPasses: options.invertBetweenPasses, overwritePattern: options.overwritePattern)
        let r = try send(command)
        guard r.isSuccess else { throw nvmeFailure("Sanitize", ctx, r) }
        try poll(method: method, options: options, ctx: ctx) {
            let log = try self.nvmeSanitizeLog()
            switch log.status {
            case .inProgress: return log.progressFraction ?? 0
            case .succeeded, .succeededNoDeallocate: return nil
            case .failed:
                throw SanitizeError(.commandFailed, context: ctx, message: .init(
                    fr: "le sanitize a échoué (journal 81h, SSTAT=3) ; le contrôleur reste en mode échec jusqu'à un sanitize réussi — rien n'est certifié",
                    en: "the sanitize failed (log 81h, SSTAT=3); the controller stays in failure mode until a sanitize succeeds — nothing is certified"))
            case .neverSanitized:
                throw SanitizeError(.verificationFailed, context: ctx, message: .init(fr: "le journal de sanitize n'indique aucune opération", en: "the sanitize log shows no operation"))
            }
        }
        return FirmwareEraseResult(method: method, nistCategory: method.nistCategory, model: ctrl.model, serialNumber: ctrl.serialNumber,
                                   commandCount: commandCount, hiddenArea: nil, appliesToAllNamespaces: true,
                                   notes: [.init(fr: "Sanitize s'applique à tout le sous-système NVM (tous les espaces de noms).", en: "Sanitize applies to the whole NVM subsystem (all namespaces).")])
    }
}
