import ArdoiseSupport
import Foundation
import Testing
@testable import DeviceKit

/// Captured sysfs/proc trees replayed through `sysroot`, as util-linux tests lsblk.
@Suite struct SysrootReplayTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    func scan(_ tree: String) -> [BlockDeviceInfo] {
        DeviceScanner(sysroot: Self.fixtures.appendingPathComponent(tree).path)
            .scan(policy: SafetyPolicy(dataDirectory: "/var/lib/ardoise"))
    }

    func golden(_ name: String) throws -> String {
        try String(contentsOf: Self.fixtures.appendingPathComponent("golden/\(name)"), encoding: .utf8)
    }

    @Test(arguments: ["sata-hdd", "nvme-ssd", "usb-stick"])
    func textTableMatchesGolden(tree: String) throws {
        let text = DeviceTableRenderer.render(scan(tree), columns: DeviceColumn.all, json: false, language: .french)
        #expect(text + "\n" == (try golden("\(tree).txt")))
    }

    @Test(arguments: ["sata-hdd", "nvme-ssd", "usb-stick"])
    func jsonMatchesGoldenAndParses(tree: String) throws {
        let json = DeviceTableRenderer.render(scan(tree), columns: DeviceColumn.all, json: true, language: .english)
        #expect(json + "\n" == (try golden("\(tree).json")))
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let devices = try #require(object?["blockdevices"] as? [[String: Any]])
        #expect(devices.count == 1)
        #expect(Set(devices[0].keys) == Set(DeviceColumn.all.map(\.key)))
    }

    @Test func sataHardDiskBehindAHCI() throws {
        let disk = try #require(scan("sata-hdd").first)
        #expect(disk.name == "sda")
        #expect(disk.transport == .sata)
        #expect(disk.rotational)
        #expect(disk.model == "ST1000DM010-2EP102")
        #expect(disk.serial == "Z9A1B2C3")  // from VPD page 80h
        #expect(disk.wwn == "0x5000c500a1b2c3d4")
        #expect(disk.firmwareRevision == "CC43")
        #expect(disk.sizeInBytes == 1_953_525_168 * 512)
        #expect(disk.logicalSectorSize == 512 && disk.physicalSectorSize == 4096)
        #expect(disk.diskSequence == 3)
        #expect(disk.partitions.map(\.name) == ["sda1", "sda2"])
        #expect(disk.verdict == .wipeable)
    }

    @Test func nvmeSystemDiskIsProtectedForEveryReason() throws {
        let disk = try #require(scan("nvme-ssd").first)
        #expect(disk.transport == .nvme)
        #expect(!disk.rotational)
        #expect(disk.serial == "S4EVNX0N123456A")
        #expect(disk.firmwareRevision == "2B2QEXM7")
        #expect(disk.mountPoints == ["/", "/boot/efi"])
        #expect(disk.verdict.reasons.map(\.key) == ["root", "boot", "swap", "kernel-cmdline", "data-directory"])
    }

    @Test func usbStickWithMountedPartition() throws {
        let disk = try #require(scan("usb-stick").first)
        #expect(disk.transport == .usb)
        #expect(disk.removable)
        #expect(disk.vendor == "SanDisk" && disk.model == "Ultra Fit")
        #expect(disk.serial == "4C530001234567891234")  // from the USB device above the disk
        #expect(disk.verdict == .protected([.mounted(mountPoints: ["/media/technicien/CLE USB"])]))
    }
}
