import Testing
@testable import DeviceKit

/// The classification rules on constructed devices: no root needed.
@Suite struct DriveSafetyTests {
    static func disk(_ name: String, transport: Transport = .sata, size: UInt64 = 1 << 30, readOnly: Bool = false,
                     number: DeviceNumber = DeviceNumber(major: 8, minor: 0), holders: [String] = [],
                     partitions: [PartitionInfo] = []) -> BlockDeviceInfo {
        BlockDeviceInfo(name: name, path: "/dev/\(name)", deviceNumber: number, sizeInBytes: size, transport: transport,
                        rotational: true, vendor: nil, model: "M", serial: "S", wwn: nil, firmwareRevision: nil,
                        logicalSectorSize: 512, physicalSectorSize: 512, diskSequence: 1, removable: false,
                        readOnly: readOnly, holders: holders, partitions: partitions, partitionTableType: nil,
                        wholeDiskSignature: nil, mountPoints: [], backingFile: nil, verdict: .wipeable)
    }

    static func partition(_ name: String, _ number: Int, minor: UInt32, holders: [String] = []) -> PartitionInfo {
        PartitionInfo(name: name, number: number, deviceNumber: DeviceNumber(major: 8, minor: minor), startSector: 2048,
                      sizeInBytes: 1 << 20, signature: nil, holders: holders)
    }

    func verdict(_ device: BlockDeviceInfo, devices: [BlockDeviceInfo]? = nil, mountinfo: String = "", swaps: String = "",
                 cmdline: String = "", slaves: [String: [String]] = [:], policy: SafetyPolicy = SafetyPolicy(),
                 resolve: @escaping @Sendable (String, String) -> String? = { _, _ in nil }) -> SafetyVerdict {
        let context = SystemContext(mounts: SystemContext.parseMountInfo(mountinfo), swaps: SystemContext.parseSwaps(swaps),
                                    kernelParameters: SystemContext.parseCommandLine(cmdline))
        return DriveSafety(devices: devices ?? [device], context: context, slaves: slaves, resolveTag: resolve)
            .classify(device, policy: policy)
    }

    @Test func plainDiskIsWipeable() {
        #expect(verdict(Self.disk("sdb")) == .wipeable)
    }

    @Test func rootOnLVMProtectsTheDiskUnderIt() {
        let sda = Self.disk("sda", partitions: [Self.partition("sda2", 2, minor: 2, holders: ["dm-0"])])
        let dm = Self.disk("dm-0", transport: .dm, number: DeviceNumber(major: 254, minor: 0))
        let result = verdict(sda, devices: [sda, dm], mountinfo: "22 1 254:0 / / rw - ext4 /dev/mapper/vg-root rw\n",
                             slaves: ["dm-0": ["sda2"]])
        #expect(result.reasons.map(\.key) == ["root", "held"])
    }

    @Test func liveMediumAndKernelTagAreProtected() {
        let sdc = Self.disk("sdc", partitions: [Self.partition("sdc1", 1, minor: 33)])
        let result = verdict(sdc, mountinfo: "30 1 8:33 / /run/live/medium ro - iso9660 /dev/sdc1 ro\n",
                             cmdline: "boot=live components root=UUID=1234-ABCD",
                             resolve: { tag, value in tag == "UUID" && value == "1234-ABCD" ? "/dev/sdc1" : nil })
        #expect(result.reasons == [.liveMedium(mountPoint: "/run/live/medium"), .kernelCommandLine(parameter: "root=UUID=1234-ABCD")])
    }

    @Test func swapReadOnlySizeZeroAreEachReasons() {
        let swapDisk = Self.disk("sdd", partitions: [Self.partition("sdd1", 1, minor: 49)])
        #expect(verdict(swapDisk, swaps: "Filename Type Size Used Priority\n/dev/sdd1 partition 100 0 -2\n").reasons == [.swap(device: "/dev/sdd1")])
        #expect(verdict(Self.disk("sde", readOnly: true)).reasons == [.readOnly])
        #expect(verdict(Self.disk("sdf", size: 0)).reasons == [.sizeZero])
    }

    @Test func dataDirectoryDiskIsProtected() {
        let sdg = Self.disk("sdg", partitions: [Self.partition("sdg1", 1, minor: 97)])
        let result = verdict(sdg, mountinfo: "40 1 8:97 / /srv/ardoise rw - ext4 /dev/sdg1 rw\n",
                             policy: SafetyPolicy(dataDirectory: "/srv/ardoise/data"))
        #expect(result.reasons == [.mounted(mountPoints: ["/srv/ardoise"]), .dataDirectory(path: "/srv/ardoise/data")])
    }

    @Test(arguments: [Transport.loop, .ram, .zram, .dm, .md, .nbd])
    func virtualDevicesNeedExplicitPermissionAndOnlyLoopGetsIt(transport: Transport) {
        let device = Self.disk("\(transport.rawValue)0", transport: transport)
        #expect(verdict(device).reasons == [.virtual(kind: transport.rawValue)])
        let allowed = verdict(device, policy: SafetyPolicy(allowVirtual: true))
        #expect(allowed.isWipeable == (transport == .loop))
    }

    @Test func onlyLoopsBackedInsideTheBenchDirectoryAreTaken() {
        var ours = Self.disk("loop3", transport: .loop)
        ours.backingFile = "/tmp/bench-drives/a.img"
        var theirs = Self.disk("loop4", transport: .loop)
        theirs.backingFile = "/tmp/bench-drives-other/b.img"
        let policy = SafetyPolicy(allowVirtual: true, loopBackingDirectory: "/tmp/bench-drives")
        #expect(verdict(ours, policy: policy) == .wipeable)
        #expect(verdict(theirs, policy: policy).reasons == [.foreignLoop(backingFile: "/tmp/bench-drives-other/b.img")])
    }

    @Test func mountinfoEscapesAreDecoded() {
        let mounts = SystemContext.parseMountInfo("40 22 8:17 / /media/CLE\\040USB rw shared:2 - vfat /dev/sdb1 rw\n")
        #expect(mounts.first?.mountPoint == "/media/CLE USB")
        #expect(mounts.first?.deviceNumber == DeviceNumber(major: 8, minor: 17))
    }

    @Test func identityDifferenceNamesWhatChanged() {
        let a = DriveIdentity(model: "M", serial: "S1", wwn: nil, sizeInBytes: 100, diskSequence: 4, deviceNumber: .init(major: 7, minor: 0))
        var b = a
        #expect(a.stillSameDrive(b))
        b.diskSequence = 5
        #expect(!a.stillSameDrive(b))
        #expect(a.difference(from: b) == "diskseq 4 → 5")
    }

    @Test func deviceNumberFromRawDevT() {
        // glibc makedev(259, 65537) splits the minor across both halves.
        let raw: UInt64 = (UInt64(259 & 0xfff) << 8) | (UInt64(259 & ~0xfff) << 32) | UInt64(65537 & 0xff) | (UInt64(65537 & ~0xff) << 12)
        #expect(DeviceNumber(rawDevice: raw) == DeviceNumber(major: 259, minor: 65537))
    }
}
