import Certificates
import ErasureRecords
import Foundation
import Journal
import StoreClient
import StoreTestSupport
import Testing

/// Real signed certificates through the sender, against the store `TestStoreEndpoint` names:
/// the real `ardoise-store` when the environment gives one, else the in-process contract store.
@Suite(.serialized) struct ContractTests {
    /// Where to send, the token file, the bench key, and what to stop afterwards.
    struct Endpoint {
        var url: String
        var tokenFile: String
        var key: BenchKey
        var server: FakeStoreServer?
        var store: ContractStore?
    }

    static func endpoint(scratch: String) async throws -> Endpoint {
        if let external = TestStoreEndpoint.external {
            return Endpoint(url: external.url, tokenFile: external.tokenFile,
                            key: try BenchKey.loadOrCreate(dataDirectory: external.benchDataDirectory))
        }
        let tokenFile = scratch + "/token"
        try StoreFixture.writeToken(StoreFixture.token, to: tokenFile)
        let store = ContractStore(tokens: [StoreFixture.token])
        let server = FakeStoreServer(handler: store.handler)
        try await server.start(port: 0)
        return Endpoint(url: server.url, tokenFile: tokenFile, key: try BenchKey.loadOrCreate(dataDirectory: scratch + "/key"),
                        server: server, store: store)
    }

    static func certificate(key: BenchKey, id: UUID = UUID()) throws -> SignedCertificate {
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        let capacity: UInt64 = 16 << 20
        let input = CertificateInput(
            id: id, jobID: UUID(), benchID: "contract-test", organisation: Organisation(name: "Atelier de test"),
            technician: Person(name: "Testeur"),
            media: Media(model: "Loop", serial: "SER-\(id.uuidString.prefix(8))", type: .magnetic, capacityBytes: capacity,
                         transport: "sata", logicalSectorSize: 512, physicalSectorSize: 512),
            category: .clear, profile: "zero",
            passes: [PassRecord(index: 1, kind: "constant", patternHex: "00", bytesWritten: capacity, durationSeconds: 1,
                                verification: VerificationRecord(mode: "full", result: .passed, sampleCount: 32_768))],
            finalVerification: VerificationRecord(mode: "full", result: .passed, sampleCount: 32_768),
            tool: Tool(version: "test"), outcome: .completed, startedAt: start, endedAt: start.addingTimeInterval(2))
        return try CertificateSigner.sign(CertificatePayload(input: input, issuedAt: start.addingTimeInterval(3)), with: key)
    }

    @Test func signedCertificatesAreStoredOnceAndATamperedCopyIsRefused() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-contract-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let endpoint = try await Self.endpoint(scratch: scratch)
        let settings = StoreSettings(url: endpoint.url, tokenFile: endpoint.tokenFile)
        func sender(_ journal: JournalDatabase) throws -> OutboxSender {
            OutboxSender(journal: journal, transport: try HTTPStoreTransport(settings: settings), tokenFile: endpoint.tokenFile,
                         retryPolicy: RetryPolicy(initialDelaySeconds: 0.1, maximumDelaySeconds: 0.2))
        }

        let certificates = try (0..<2).map { _ in try Self.certificate(key: endpoint.key) }
        let journal = try JournalDatabase(dataDirectory: scratch + "/bench")
        for certificate in certificates {
            try journal.enqueueOutbox(kind: .certificate, recordID: UUID(uuidString: certificate.payload.id)!, certificateID: nil,
                                      payload: String(decoding: certificate.signedJSON, as: UTF8.self))
        }
        let first = try sender(journal)
        let report = await first.sendPending(ignoringSchedule: true)
        await first.shutdown()
        #expect(report.sent.map(\.recordID) == certificates.map { $0.payload.id },
                "\(String(describing: report.stoppedBy)) \(report.refused)")
        if let store = endpoint.store {
            for certificate in certificates {
                #expect(store.stored[certificate.payload.id]?.bytes == [UInt8](certificate.signedJSON))
            }
        }

        // The same records pushed again from another journal (a restored backup): already stored.
        let copy = try JournalDatabase(dataDirectory: scratch + "/copy")
        try copy.enqueueOutbox(kind: .certificate, recordID: UUID(uuidString: certificates[0].payload.id)!,
                               payload: String(decoding: certificates[0].signedJSON, as: UTF8.self))
        // A copy of the second with one byte of its signature changed: refused, parked, kept.
        var tampered = String(decoding: certificates[1].signedJSON, as: UTF8.self)
        let signature = try #require(tampered.range(of: #""signature":""#))
        let index = signature.upperBound
        tampered.replaceSubrange(index...index, with: tampered[index] == "A" ? "B" : "A")
        try copy.enqueueOutbox(kind: .certificate, recordID: UUID(uuidString: certificates[1].payload.id)!, payload: tampered)
        let second = try sender(copy)
        let again = await second.sendPending(ignoringSchedule: true)
        await second.shutdown()
        await endpoint.server?.stop()
        #expect(again.alreadyStored.map(\.recordID) == [certificates[0].payload.id])
        #expect(again.refused.map(\.recordID) == [certificates[1].payload.id])
        #expect(["invalid_signature", "conflicting_record"].contains(again.refused.first?.code ?? ""),
                "\(String(describing: again.refused.first))")
        #expect(try copy.parkedOutbox().first?.payload == tampered)
    }
}
