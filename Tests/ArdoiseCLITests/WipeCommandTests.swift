import ArdoiseTestSupport
import Foundation
import Testing

/// `ardoise wipe` on loop devices the tests create, checked byte for byte afterwards.
@Suite(.serialized, .enabled(if: LoopDevice.isAvailable, "needs root and losetup"))
struct WipeCommandTests {
    func dataDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-wipe-test-\(UUID().uuidString)")
    }

    func everyByte(of url: URL, is value: UInt8) throws -> Bool {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            if chunk.contains(where: { $0 != value }) { return false }
        }
        return true
    }

    @Test func threeDrivesAtOnceWithAMultiPassProfileAreErasedToTheLastByte() throws {
        let data = dataDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        // Odd sizes: not a multiple of the 4 MiB buffer.
        let loops = try [24 << 20, (16 << 20) + 12288, 8 << 20].map { try LoopDevice(sizeInBytes: UInt64($0), fill: 0x3C) }
        defer { loops.forEach { $0.detach() } }
        let result = try ArdoiseBinary.run(["wipe"] + loops.map(\.path) + ["--profile", "bsi-vsitr", "--yes", "--allow-virtual",
                                                                           "--data-dir", data.path, "--lang", "en"])
        // BSI-VSITR defines no verification: every byte is written, but NIST SP 800-88 asks
        // for one, so the honest verdict is "erased with exceptions" (exit 30).
        #expect(result.status == 30, "\(result.output)\(result.error)")
        for loop in loops {
            // BSI-VSITR ends with 0xAA over the whole medium.
            #expect(try everyByte(of: loop.backingFile, is: 0xAA), "\(loop.path)")
        }
        let certificates = try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent("certificates").path)
        #expect(certificates.filter { $0.hasSuffix(".json") }.count == 3)
        #expect(certificates.filter { $0.hasSuffix(".pdf") }.count == 3)
        for file in certificates where file.hasSuffix(".json") {
            let path = data.appendingPathComponent("certificates/\(file)").path
            #expect(try CertificateFile.status(atPath: path) == "erased_with_exceptions")
            let exceptions = (try CertificateFile.payload(atPath: path)["result"] as? [String: Any])?["exceptions"] as? [[String: Any]]
            #expect(exceptions?.map { $0["kind"] as? String } == ["verification_not_performed"])
            let verify = try ArdoiseBinary.run(["cert", "verify", path, "--data-dir", data.path])
            #expect(verify.status == 0)
        }
    }

    /// A loop device has no firmware: the purge profile reaches the real pass-through path
    /// (SG_IO on the node), is refused there, and nothing is written or certified as erased.
    @Test func thePurgeProfileOnADriveWithoutPassThroughErasesNothingAndSaysSo() throws {
        let data = dataDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        let loop = try LoopDevice(sizeInBytes: 8 << 20, fill: 0x3C)
        defer { loop.detach() }
        let result = try ArdoiseBinary.run(["wipe", loop.path, "--profile", "nist-800-88-purge", "--yes", "--allow-virtual",
                                            "--data-dir", data.path, "--lang", "en"])
        #expect(result.status == 31, "\(result.output)\(result.error)")
        #expect(try everyByte(of: loop.backingFile, is: 0x3C))
        let certificates = try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent("certificates").path)
        let json = try #require(certificates.first { $0.hasSuffix(".json") })
        #expect(try CertificateFile.status(atPath: data.appendingPathComponent("certificates/\(json)").path) == "not_erased")
        // The refusal is journaled with the job.
        let jobs = try ArdoiseBinary.run(["journal", "jobs", "--data-dir", data.path, "--json"])
        #expect(jobs.output.contains("failed"), "\(jobs.output)")
    }

    @Test func thePurgeProfileRefusesAnImageBeforeWriting() throws {
        let data = dataDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let image = data.appendingPathComponent("disk.img")
        _ = FileManager.default.createFile(atPath: image.path, contents: Data(repeating: 0x3C, count: 1 << 20))
        let result = try ArdoiseBinary.run(["wipe", "--image", image.path, "--profile", "nist-800-88-purge", "--yes",
                                            "--data-dir", data.path, "--lang", "en"])
        #expect(result.status == 31)
        #expect(result.error.contains("firmware"), "\(result.error)")
        #expect(try everyByte(of: image, is: 0x3C))
    }

    @Test func aProtectedDriveStopsTheWholeCommandBeforeAnyWrite() throws {
        let data = dataDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        let free = try LoopDevice(sizeInBytes: 8 << 20, fill: 0x11)
        defer { free.detach() }
        let result = try ArdoiseBinary.run(["wipe", free.path, "/dev/vda", "--profile", "zero", "--yes", "--allow-virtual",
                                            "--data-dir", data.path])
        // /dev/vda is this machine's system disk here; on another machine the first disk
        // may simply not exist (10) — in both cases nothing is written.
        #expect([13, 10].contains(result.status), "\(result.error)")
        #expect(try everyByte(of: free.backingFile, is: 0x11))
    }

    @Test func withoutRootNothingIsOpened() throws {
        let loop = try LoopDevice(sizeInBytes: 8 << 20, fill: 0x22)
        defer { loop.detach() }
        let data = dataDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        let result = try ArdoiseBinary.run(["wipe", loop.path, "--profile", "zero", "--yes", "--allow-virtual", "--data-dir", data.path,
                                            "--lang", "en"], asUser: "65534")
        #expect(result.status == 16, "\(result.error)")
        #expect(result.error.contains("Root privileges are needed"))
        #expect(try everyByte(of: loop.backingFile, is: 0x22))
    }

    @Test func theTechnicianMustTypeTheEndOfTheSerial() throws {
        let loop = try LoopDevice(sizeInBytes: 8 << 20, fill: 0x33)
        defer { loop.detach() }
        let data = dataDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        let noTerminal = try ArdoiseBinary.run(["wipe", loop.path, "--profile", "zero", "--allow-virtual", "--data-dir", data.path])
        #expect(noTerminal.status == 2)
        // A loop device has no serial: Ardoise names it by diskseq and asks for "oui".
        let wrong = try ArdoiseBinary.run(["wipe", loop.path, "--profile", "zero", "--allow-virtual", "--data-dir", data.path],
                                          environment: ["ARDOISE_CONFIRM_FROM_STDIN": "1"], input: "non\n")
        #expect(wrong.status == 3)
        #expect(try everyByte(of: loop.backingFile, is: 0x33))
        let right = try ArdoiseBinary.run(["wipe", loop.path, "--profile", "zero", "--allow-virtual", "--data-dir", data.path],
                                          environment: ["ARDOISE_CONFIRM_FROM_STDIN": "1"], input: "oui\n")
        #expect(right.status == 0, "\(right.output)\(right.error)")
        #expect(try everyByte(of: loop.backingFile, is: 0))
    }

    @Test func anImageFileIsWipedWithImage() throws {
        let data = dataDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        let image = data.appendingPathComponent("disk.img")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: image.path, contents: Data(repeating: 0x44, count: 3 << 20))
        let result = try ArdoiseBinary.run(["wipe", image.path, "--image", "--profile", "zero", "--yes", "--data-dir", data.path])
        #expect(result.status == 0, "\(result.error)")
        #expect(try everyByte(of: image, is: 0))
    }
}
