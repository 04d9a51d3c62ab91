import ArdoiseTestSupport
import Foundation
import Testing
@testable import DeviceKit

/// The real path on loop devices the tests create (root only; CI runs as root).
@Suite(.serialized, .enabled(if: LoopDevice.isAvailable, "needs root and losetup to create loop devices"))
struct LoopDeviceTests {
    let allowLoops = SafetyPolicy(allowVirtual: true, dataDirectory: "/var/lib/ardoise")

    func info(_ loop: LoopDevice, policy: SafetyPolicy? = nil) throws -> BlockDeviceInfo {
        try #require(DeviceScanner().scan(policy: policy ?? allowLoops).first { $0.path == loop.path })
    }

    @Test func sizeSectorSizesAndDiskseqMatchTheKernel() throws {
        let loop = try LoopDevice(sizeInBytes: 64 << 20, sectorSize: 4096)
        defer { loop.detach() }
        let device = try info(loop)
        #expect(device.sizeInBytes == 64 << 20)
        #expect(device.logicalSectorSize == 4096)
        #expect(device.backingFile == loop.backingFile.path)
        let diskseq = try String(contentsOfFile: "/sys/block/\(loop.name)/diskseq", encoding: .utf8)
        #expect(device.diskSequence == UInt64(diskseq.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(device.verdict == .wipeable)

        let handle = try DriveAccess.openForWriting(loop.path, policy: allowLoops)
        defer { handle.close() }
        #expect(handle.sizeInBytes == 64 << 20)
        #expect(handle.logicalSectorSize == 4096)
        #expect(handle.physicalSectorSize >= 4096)
        #expect(handle.identity == device.identity)
        try handle.checkStillSameDrive()
    }

    @Test func ext4AndPartitionsAreFoundByLibblkid() throws {
        let whole = try LoopDevice(sizeInBytes: 32 << 20)
        defer { whole.detach() }
        try Shell.run("/sbin/mkfs.ext4", ["-q", "-F", whole.path])
        #expect(try info(whole).wholeDiskSignature == "ext4")

        let partitioned = try LoopDevice(sizeInBytes: 64 << 20, partitionScan: true)
        defer { partitioned.detach() }
        try Shell.run("/sbin/sfdisk", ["-q", partitioned.path], input: "label: gpt\n,24M\n,\n")
        _ = try? Shell.run("/usr/bin/partx", ["-a", partitioned.path])  // this kernel does not scan by itself
        try Shell.run("/sbin/mkfs.ext4", ["-q", "-F", "-E", "offset=\(2048 * 512)", partitioned.path, "24M"])
        let device = try info(partitioned)
        #expect(device.partitionTableType == "gpt")
        #expect(device.partitions.count == 2)
        #expect(device.partitions.first?.signature == "ext4")
        #expect(device.signatures == ["ext4"])
    }

    @Test func aPartitionIsRefusedWithTheNameOfItsDisk() throws {
        let loop = try LoopDevice(sizeInBytes: 32 << 20, partitionScan: true)
        defer { loop.detach() }
        try Shell.run("/sbin/sfdisk", ["-q", loop.path], input: "label: dos\n,\n")
        _ = try? Shell.run("/usr/bin/partx", ["-a", loop.path])
        let partition = loop.path + "p1"
        try #require(FileManager.default.fileExists(atPath: partition), "partx did not create \(partition)")
        let error = #expect(throws: DeviceError.self) { try DriveAccess.openForWriting(partition, policy: allowLoops) }
        #expect(error?.code == .isPartition(disk: loop.path))
        _ = try? Shell.run("/usr/bin/partx", ["-d", loop.path])
    }

    @Test func aMountedLoopIsProtectedAndNeverOpened() throws {
        let loop = try LoopDevice(sizeInBytes: 32 << 20)
        defer { loop.detach() }
        try Shell.run("/sbin/mkfs.ext4", ["-q", "-F", loop.path])
        let mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-mnt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        try Shell.run("/bin/mount", [loop.path, mountPoint.path])
        defer {
            _ = try? Shell.run("/bin/umount", [mountPoint.path])
            try? FileManager.default.removeItem(at: mountPoint)
        }
        let device = try info(loop)
        #expect(device.verdict == .protected([.mounted(mountPoints: [mountPoint.path])]))
        // The one-disk read of the claim sees the same mount.
        let name = (loop.path as NSString).lastPathComponent
        let one = try #require(DeviceScanner().device(named: name, policy: allowLoops))
        #expect(one.verdict == device.verdict && one.mountPoints == [mountPoint.path])
        let error = #expect(throws: DeviceError.self) { try DriveAccess.openForWriting(loop.path, policy: allowLoops) }
        #expect(error?.code == .protected(reasons: [.mounted(mountPoints: [mountPoint.path])]))
    }

    @Test func reattachingTheNodeToAnotherFileIsAnotherDrive() throws {
        let loop = try LoopDevice(sizeInBytes: 16 << 20)
        defer { loop.detach() }
        let before = try info(loop).identity
        let other = try loop.swapMedium(sizeInBytes: 16 << 20)
        let after = try info(loop).identity
        #expect(before.diskSequence != after.diskSequence)
        #expect(!before.stillSameDrive(after))
        let error = #expect(throws: DeviceError.self) {
            try DriveAccess.openForWriting(loop.path, policy: allowLoops, expected: before)
        }
        guard case .identityChanged = error?.code else { Issue.record("expected identityChanged, got \(String(describing: error))"); return }
        // The new medium was never written.
        #expect(FileManager.default.contents(atPath: other.path) == Data(repeating: 0xA5, count: 16 << 20))
    }

    @Test func aDriveThatVanishedBetweenListingAndOpeningIsReported() throws {
        let loop = try LoopDevice(sizeInBytes: 16 << 20)
        defer { loop.detach() }
        let listed = try info(loop).identity
        try Shell.run("/sbin/losetup", ["-d", loop.path])
        let error = #expect(throws: DeviceError.self) {
            try DriveAccess.openForWriting(loop.path, policy: allowLoops, expected: listed)
        }
        #expect(error?.code == .vanished)
    }

    @Test func theExclusiveClaimRefusesASecondOpener() throws {
        let loop = try LoopDevice(sizeInBytes: 16 << 20)
        defer { loop.detach() }
        let first = try DriveAccess.openForWriting(loop.path, policy: allowLoops)
        defer { first.close() }
        let error = #expect(throws: DeviceError.self) { try DriveAccess.openForWriting(loop.path, policy: allowLoops) }
        #expect(error?.code == .inUse)
    }

    @Test func detachingABusyLoopStopsItsWriterBeforeTheNodeCanBeReused() throws {
        let loop = try LoopDevice(sizeInBytes: 16 << 20)
        defer { loop.detach() }
        let handle = try DriveAccess.openForWriting(loop.path, policy: allowLoops)
        handle.periodicCheckInterval = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        try handle.writeFully(UnsafeRawBufferPointer(buffer), at: 0)
        // The kernel defers the detach while we hold the device: it only sets autoclear.
        try Shell.run("/sbin/losetup", ["-d", loop.path])
        let error = #expect(throws: DeviceError.self) { try handle.writeFully(UnsafeRawBufferPointer(buffer), at: 4096) }
        #expect(error?.code == .vanished)
        handle.close()
    }

    @Test func loopDevicesNeedExplicitPermission() throws {
        let loop = try LoopDevice(sizeInBytes: 16 << 20)
        defer { loop.detach() }
        let error = #expect(throws: DeviceError.self) { try DriveAccess.openForWriting(loop.path, policy: SafetyPolicy()) }
        #expect(error?.code == .protected(reasons: [.virtual(kind: "loop")]))
    }
}

/// Read-only checks on this machine's own disks: they are classified, never opened for writing.
@Suite struct SystemDiskTests {
    @Test func theDiskHoldingRootIsProtected() throws {
        let devices = DeviceScanner().scan(policy: SafetyPolicy(allowVirtual: true))
        let root = try #require(devices.first { $0.verdict.reasons.contains(.rootFilesystem) },
                                "no disk holds / (container root on overlay?)")
        #expect(!root.verdict.isWipeable)
        // zram and other non-loop virtual devices stay protected even with allowVirtual.
        for device in devices where device.transport == .zram {
            #expect(device.verdict.reasons.contains(.virtual(kind: "zram")))
        }
    }

    /// `device(named:)` (what classify and the claim read: the others only as far as their
    /// topology) gives every disk of this machine the verdict, mount points, identity and
    /// partitions the full scan gives. Loop devices are left out: other suites attach and
    /// detach theirs while this runs (the mounted-loop test checks the one-disk read on a loop).
    @Test func theOneDiskReadAgreesWithTheFullScanOnEveryDisk() throws {
        for policy in [SafetyPolicy(allowVirtual: true, dataDirectory: "/var/lib/ardoise"), SafetyPolicy()] {
            let scanner = DeviceScanner()
            let all = scanner.scan(policy: policy)
            #expect(!all.isEmpty)
            for device in all where device.transport != .loop {
                let one = try #require(scanner.device(named: device.name, policy: policy), "\(device.name)")
                #expect(one.verdict == device.verdict, "\(device.name)")
                #expect(one.mountPoints == device.mountPoints, "\(device.name)")
                #expect(one.identity == device.identity, "\(device.name)")
                #expect(one.partitions == device.partitions, "\(device.name)")
            }
        }
        #expect(DeviceScanner().device(named: "ardoise-no-such-disk") == nil)
    }

    @Test(arguments: [
        ("/dev/ardoise-no-such-device", DeviceError.Code.notFound),
        ("/tmp", .isDirectory),
        ("/dev/null", .isCharacterDevice),
    ])
    func badPathsAreRefusedBeforeAnyOpen(path: String, code: DeviceError.Code) {
        let error = #expect(throws: DeviceError.self) { try DriveAccess.resolveWholeDisk(path) }
        #expect(error?.code == code)
    }

    @Test func aRegularFileIsRefusedWithTheImageHint() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ardoise-\(UUID().uuidString).img")
        FileManager.default.createFile(atPath: file.path, contents: Data(count: 4096))
        defer { try? FileManager.default.removeItem(at: file) }
        let error = #expect(throws: DeviceError.self) { try DriveAccess.resolveWholeDisk(file.path) }
        #expect(error?.code == .isRegularFile)
        #expect(error?.message.english.contains("--image") == true)
        #expect(error?.exitCode == 11)
    }
}
