import ArdoiseSupport
import Crypto
import Foundation
import Journal

/// What `CertificateIssuer.issue` produced.
public struct IssuedCertificate: Sendable {
    public let signed: SignedCertificate
    public let jsonPath: String
    public let pdfPath: String
    public var id: String { signed.payload.id }
    public var status: ErasureStatus { signed.payload.result.status }
}

/// Issues the certificate of a finished job: builds the payload from the input, signs it,
/// writes `<id>.json` and `<id>.pdf` into the output directory and records both in the journal
/// (certificate row, outbox row and `certificate.issued` event in one transaction).
/// Blocking: call it from the job's thread, not from the concurrency pool.
public struct CertificateIssuer: Sendable {
    public let key: BenchKey
    public let outputDirectory: String
    public let journal: JournalDatabase?
    public let language: Language

    public init(key: BenchKey, outputDirectory: String, journal: JournalDatabase?, language: Language = .french) {
        self.key = key
        self.outputDirectory = outputDirectory
        self.journal = journal
        self.language = language
    }

    /// - Throws: `CertificateError` (`.invalidInput`, `.fileSystem`, `.rendering`) or
    ///   `JournalError` when the journal refuses the record (e.g. unknown job id).
    public func issue(_ input: CertificateInput, issuedAt: Date = Date()) throws -> IssuedCertificate {
        guard !input.media.serial.isEmpty, !input.media.model.isEmpty else {
            throw CertificateError(code: .invalidInput, message: .init(
                fr: "Le modèle et le numéro de série du disque sont obligatoires.", en: "The drive model and serial number are required."))
        }
        let payload = CertificatePayload(input: input, issuedAt: issuedAt)
        let signed = try CertificateSigner.sign(payload, with: key)
        let pdf = try CertificatePDF.render(payload: payload, signedJSON: signed.signedJSON, sha256: signed.sha256,
                                            keyID: signed.keyID, language: language)
        try createDirectory(outputDirectory)
        let jsonPath = (outputDirectory as NSString).appendingPathComponent("\(payload.id).json")
        let pdfPath = (outputDirectory as NSString).appendingPathComponent("\(payload.id).pdf")
        try writeAtomically(signed.signedJSON, to: jsonPath)
        try writeAtomically(pdf, to: pdfPath)
        if let journal {
            try journal.recordCertificate(
                CertificateRecord(id: input.id, jobID: input.jobID, jsonPath: jsonPath, pdfPath: pdfPath,
                                  signedJSONSHA256: signed.sha256, status: payload.result.status.rawValue, issuedAt: payload.issuedAt),
                signedJSON: String(decoding: signed.signedJSON, as: UTF8.self))
        }
        return IssuedCertificate(signed: signed, jsonPath: jsonPath, pdfPath: pdfPath)
    }

    /// Writes the lot PDF for certificates already issued (read back from their JSON files).
    public func issueLot(_ certificates: [IssuedCertificate], fileName: String) throws -> String {
        let path = (outputDirectory as NSString).appendingPathComponent(fileName)
        let selection = LotCertificatePDF.select(certificates.map(\.signed.payload), lot: nil)
        let pdf = try LotCertificatePDF.render(payloads: selection.certificates, language: language, skipped: selection.skipped)
        try createDirectory(outputDirectory)
        try writeAtomically(pdf, to: path)
        return path
    }

    /// Writes the lot PDF of every certificate the journal recorded for jobs of `lot`, after
    /// checking each JSON file against this bench's key (a file changed on disk is refused).
    /// - Throws: `CertificateError.invalidInput` when the lot has no certificate or a file does
    ///   not verify; `JournalError` from the journal.
    public func issueLot(lot: String, fileName: String) throws -> String {
        guard let journal else {
            throw CertificateError(code: .invalidInput, message: .init(fr: "Journal nécessaire pour un lot.", en: "A lot needs the journal."))
        }
        let trusted = TrustedKeys([key.publicJWK])
        var payloads: [CertificatePayload] = []
        for job in try journal.jobs(lot: lot) {
            // The latest certificate of each job (a job re-issued keeps its history in the journal).
            guard let record = try journal.certificates(jobID: job.id).last else { continue }
            let report = try CertificateVerifier.verify(fileAt: record.jsonPath, trusting: trusted)
            guard report.verdict == .valid, let payload = report.payload else {
                throw CertificateError(code: .invalidInput, message: .init(
                    fr: "Le certificat \(record.id) ne se vérifie pas (\(report.verdict.rawValue)).",
                    en: "Certificate \(record.id) does not verify (\(report.verdict.rawValue))."), path: record.jsonPath)
            }
            payloads.append(payload)
        }
        let path = (outputDirectory as NSString).appendingPathComponent(fileName)
        let pdf = try LotCertificatePDF.render(payloads: payloads, language: language)
        try createDirectory(outputDirectory)
        try writeAtomically(pdf, to: path)
        return path
    }

    private func createDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw CertificateError(code: .fileSystem, message: .init(
                fr: "Impossible de créer le répertoire des certificats.", en: "Cannot create the certificate directory."), path: path)
        }
    }

    /// Temp file + rename, so a crash never leaves a half-written certificate under its name.
    func writeAtomically(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CertificateError(code: .fileSystem, message: .init(
                fr: "Impossible d'écrire le certificat.", en: "Cannot write the certificate."), path: path)
        }
    }
}
