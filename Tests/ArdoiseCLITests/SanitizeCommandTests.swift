import ArdoiseTestSupport
import Foundation
import Testing

/// `ardoise sanitize` through the binary: the dry-run audit trace, and the safety check that
/// comes before any real command.
@Suite struct SanitizeCommandTests {
    static let grammar = [
        #"^sat16( [0-9a-f]{2}){16} dir=(in|out|none) len=\d+ timeout_ms=\d+( data=[0-9a-f]{2}( [0-9a-f]{2})*)?$"#,
        #"^sat12( [0-9a-f]{2}){12} dir=(in|out|none) len=\d+ timeout_ms=\d+( data=[0-9a-f]{2}( [0-9a-f]{2})*)?$"#,
        #"^scsi( [0-9a-f]{2}){6,16} dir=(in|out|none) len=\d+ timeout_ms=\d+( data=[0-9a-f]{2}( [0-9a-f]{2})*)?$"#,
        #"^nvme-admin opc=0x[0-9a-f]{2} nsid=0x[0-9a-f]{8}( cdw1[0-5]=0x[0-9a-f]{8}){6} data_len=\d+ timeout_ms=\d+$"#,
    ]

    @Test(arguments: [("ata-sanitize-crypto", "sat"), ("ata-security-erase-enhanced", "sat"), ("nvme-sanitize-block", "nvme"),
                      ("nvme-format-crypto", "nvme"), ("scsi-sanitize-overwrite", "scsi")])
    func dryRunPrintsOnlyGrammarLines(method: String, deviceType: String) throws {
        let result = try ArdoiseBinary.run(["sanitize", "/dev/ardoise-simulated", "--method", method, "--device-type", deviceType, "--dry-run"])
        #expect(result.status == 0, "\(result.error)")
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(!lines.isEmpty)
        for line in lines {
            #expect(Self.grammar.contains { line.range(of: $0, options: .regularExpression) != nil }, "\(line)")
        }
    }

    @Test func nvmeSanitizeCryptoSendsTheSpecCommand() throws {
        let result = try ArdoiseBinary.run(["sanitize", "/dev/nvme9n1", "--method", "nvme-sanitize-crypto", "--device-type", "nvme", "--dry-run"])
        // NVMe Base 2.0 §5.24: Sanitize opcode 84h, CDW10 SANACT=100b (crypto erase).
        #expect(result.output.contains("nvme-admin opc=0x84 nsid=0x00000000 cdw10=0x00000004"), "\(result.output)")
    }

    @Test(.enabled(if: LoopDevice.isAvailable, "needs root and losetup"))
    func aRealRunOnAProtectedDriveIsRefusedBeforeAnyCommand() throws {
        let loop = try LoopDevice(sizeInBytes: 8 << 20, fill: 0x5C)
        defer { loop.detach() }
        let result = try ArdoiseBinary.run(["sanitize", loop.path, "--method", "ata-sanitize-crypto", "--device-type", "sat", "--yes",
                                            "--secrets-dir", FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-secrets-\(UUID().uuidString)").path])
        #expect(result.status == 13, "\(result.error)")
        #expect(result.error.contains("périphérique virtuel"))
        #expect(FileManager.default.contents(atPath: loop.backingFile.path) == Data(repeating: 0x5C, count: 8 << 20))
    }
}

/// `--dry-run` says it sent nothing, never says "done", in one language (issue 11, item 12).
@Suite struct SanitizeDryRunWordingTests {
    @Test(arguments: [("ata-security-erase", "sat"), ("nvme-sanitize-crypto", "nvme"), ("auto", "nvme"), ("scsi-sanitize-overwrite", "scsi")])
    func aDryRunSaysNothingWasSentAndNeverDone(method: String, deviceType: String) throws {
        for lang in ["fr", "en"] {
            let result = try ArdoiseBinary.run(["sanitize", "/dev/ardoise-simulated", "--method", method, "--device-type", deviceType,
                                                "--dry-run", "--lang", lang])
            #expect(result.status == 0, "\(result.error)")
            let commands = result.output.split(separator: "\n")
            let messages = result.error.split(separator: "\n").map(String.init)
            // On lines of their own, first and last: nothing is sent.
            #expect(messages.first?.contains(lang == "fr" ? "rien n'est envoyé" : "nothing is sent") == true, "\(messages)")
            #expect(messages.last?.contains(lang == "fr" ? "aucune commande n'a été envoyée" : "no command was sent") == true, "\(messages)")
            #expect(messages.last?.contains("\(commands.count)") == true, "\(messages)")
            for word in ["terminé", "done", "complete", "effacement terminé"] {
                #expect(!result.error.contains(word) && !result.output.contains(word), "\(word) in \(result.error)")
            }
            // Every line but the command lines is in the chosen language.
            if lang == "en" { #expect(!result.error.contains("simulation :") && !result.error.contains("effacement")) }
            else { #expect(!result.error.contains("dry run")) }
            // Each command is printed once, on stdout only.
            for line in commands { #expect(!result.error.contains(line)) }
        }
    }
}
