import ArdoiseTestSupport
import Foundation
import Testing
@testable import DeviceKit

/// One claim per job (issue 11, item 3): writes and pass-through commands go through the same
/// `ClaimedDrive`, whose identity is re-checked before each command. Root only (loop devices).
@Suite(.serialized, .enabled(if: LoopDevice.isAvailable, "needs root and losetup to create loop devices"))
struct ClaimedDriveTests {
    let allowLoops = SafetyPolicy(allowVirtual: true, dataDirectory: "/var/lib/ardoise")
    /// SCSI INQUIRY (SPC-5 §6.7), 36 bytes: read-only.
    let inquiry = ScsiCommand(cdb: [0x12, 0, 0, 0, 36, 0], direction: .fromDevice, transferLength: 36, timeoutMs: 5_000)
    /// NVMe Identify Controller (CNS 01h), read-only.
    let identify = NvmeAdminCommand(opcode: 0x06, cdw10: 1, dataLength: 4096, timeoutMs: 5_000)

    @Test func aPassThroughCommandThroughAClaimWhoseIdentityChangedIsRefused() throws {
        let loop = try LoopDevice(sizeInBytes: 16 << 20)
        defer { loop.detach() }
        let claim = try DriveAccess.claim(loop.path, policy: allowLoops)
        defer { claim.close() }
        let transport = claim.passthrough()

        // Same medium: the command reaches the kernel, which has no SCSI for a loop device, so
        // the ioctl itself fails (a PassthroughError, not a refusal).
        let sent = #expect(throws: (any Error).self) { try transport.scsi(inquiry) }
        #expect(sent is PassthroughError, "\(String(describing: sent))")

        // The node's medium changes under the claim (the backing file grows and the loop driver
        // is told): every command is refused before it is sent.
        let handle = try FileHandle(forWritingTo: loop.backingFile)
        try handle.truncate(atOffset: 32 << 20)
        try handle.close()
        try Shell.run("/sbin/losetup", ["-c", loop.path])
        let refused = #expect(throws: DeviceError.self) { try transport.scsi(inquiry) }
        guard case .identityChanged(let detail)? = refused?.code else {
            Issue.record("expected identityChanged, got \(String(describing: refused))")
            return
        }
        #expect(detail.contains("size"))
        let refusedNvme = #expect(throws: DeviceError.self) { try transport.nvmeAdmin(identify, dataOut: []) }
        guard case .identityChanged? = refusedNvme?.code else {
            Issue.record("expected identityChanged, got \(String(describing: refusedNvme))")
            return
        }
        // Writes through the same claim are refused the same way.
        let error = #expect(throws: DeviceError.self) { try claim.checkStillSameDrive() }
        #expect(error != nil)
    }

    @Test func aPulledDriveRefusesPassThroughCommands() throws {
        let loop = try LoopDevice(sizeInBytes: 16 << 20)
        defer { loop.detach() }
        let claim = try DriveAccess.claim(loop.path, policy: allowLoops)
        defer { claim.close() }
        let transport = claim.passthrough()
        // losetup -d on a node the claim holds open: the kernel defers the detach (autoclear).
        try Shell.run("/sbin/losetup", ["-d", loop.path])
        let error = #expect(throws: DeviceError.self) { try transport.scsi(inquiry) }
        #expect(error?.code == .vanished)
    }

    @Test func aClaimIsExclusive() throws {
        let loop = try LoopDevice(sizeInBytes: 16 << 20)
        defer { loop.detach() }
        let claim = try DriveAccess.claim(loop.path, policy: allowLoops)
        defer { claim.close() }
        let error = #expect(throws: DeviceError.self) { try DriveAccess.claim(loop.path, policy: allowLoops) }
        #expect(error?.code == .inUse)
    }
}
