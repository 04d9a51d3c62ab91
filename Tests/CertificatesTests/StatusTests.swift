import ErasureRecords
import Foundation
import Testing
@testable import Certificates

@Suite struct StatusTests {
    typealias Pass = PassRecord

    @Test func fullWrittenAndVerifiedIsErased() {
        let payload = CertificatePayload(input: Fixture.input())
        #expect(payload.result.status == .erased)
        #expect(payload.result.exceptions.isEmpty)
        #expect(payload.sanitization.method == .overwrite)
        #expect(payload.timing.bytesWritten == Fixture.capacity)
    }

    static let cases: [(String, CertificateInput, ErasureStatus, ErasureException.Kind?)] = [
        ("bad sectors", Fixture.input(passes: [Pass(index: 1, kind: "constant", patternHex: "00", bytesWritten: Fixture.capacity - 4096,
                                                    durationSeconds: 100, ioErrorCount: 1,
                                                    badRanges: [ByteRange(start: 1_048_576, end: 1_048_576 + 4096)])]),
         .erasedWithExceptions, .unwrittenSectors),
        ("short pass", Fixture.input(passes: [Pass(index: 1, kind: "constant", patternHex: "00", bytesWritten: 1 << 30, durationSeconds: 10)]),
         .notErased, .incompleteCoverage),
        ("no verification", Fixture.input(finalVerification: nil), .erasedWithExceptions, .verificationNotPerformed),
        ("verification failed", Fixture.input(finalVerification: VerificationRecord(mode: "sample:nist", result: .failed, sampleCount: 2002)),
         .notErased, .verificationFailed),
        ("hidden area kept", Fixture.input(hiddenAreas: HiddenAreas(detected: true, erased: false, kinds: ["hpa"], hiddenBytes: 8_388_608)),
         .erasedWithExceptions, .hiddenAreaNotErased),
        ("interrupted", Fixture.input(outcome: .interrupted(reason: "power loss")), .notErased, .jobInterrupted),
        ("failed", Fixture.input(outcome: .failed(reason: "identity changed")), .notErased, .jobFailed),
        ("removed", Fixture.input(outcome: .driveRemoved), .notErased, .driveRemoved),
        ("firmware failed, overwrite ok", Fixture.input(firmware: [FirmwareOperation(command: "ATA SECURITY ERASE UNIT", succeeded: false, detail: "frozen")]),
         .erasedWithExceptions, .firmwareCommandFailed),
        ("extra exception", Fixture.input(extra: [ErasureException(kind: .other, detail: "SMART reallocated sectors")]),
         .erasedWithExceptions, .other),
        ("nothing ran", Fixture.input(passes: []), .notErased, nil),
    ]

    @Test(arguments: 0..<StatusTests.cases.count)
    func statusIsDerivedFromFacts(index: Int) {
        let (name, input, expected, kind) = Self.cases[index]
        let payload = CertificatePayload(input: input)
        #expect(payload.result.status == expected, "\(name)")
        if let kind { #expect(payload.result.exceptions.contains { $0.kind == kind }, "\(name): \(payload.result.exceptions)") }
        #expect(payload.result.status != .erased)
        #expect(!payload.result.exceptions.isEmpty || expected == .erased)
    }

    @Test func firmwareEraseThenVerifiedIsErased() {
        let input = Fixture.input(passes: [], firmware: [FirmwareOperation(command: "NVMe Sanitize (crypto erase)", succeeded: true, durationSeconds: 12)])
        let payload = CertificatePayload(input: input)
        #expect(payload.result.status == .erased)
        #expect(payload.sanitization.method == .firmware)
    }

    @Test func payloadRoundTripsThroughJSON() throws {
        let signed = try Fixture.signed(Fixture.input(hiddenAreas: HiddenAreas(detected: true, erased: true, kinds: ["hpa", "dco"])))
        let report = CertificateVerifier.verify(data: signed.signedJSON, trusting: Fixture.trusted)
        #expect(report.payload == signed.payload)
    }
}
