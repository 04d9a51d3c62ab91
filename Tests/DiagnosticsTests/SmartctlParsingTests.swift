import Foundation
import Testing
@testable import Diagnostics

@Suite struct SmartctlParsingTests {
    @Test func ataHardDiskFields() throws {
        let output = try Fixture.output("ata-hdd-healthy.json")
        #expect(output.device?.type == "sat")
        #expect(output.device?.protocol == "ATA")
        #expect(output.modelName == "WDC WD10EZEX-08WN4A0")
        #expect(output.userCapacity?.bytes == 1_000_204_886_016)
        #expect(output.smartStatus?.passed == true)
        #expect(output.rotationRate == 7200)
        #expect(output.powerOnTime?.hours == 18234)
        let attributes = try #require(output.ataSmartAttributes?.table)
        #expect(attributes.map(\.id) == [1, 3, 5, 9, 187, 188, 194, 197, 198, 199])
        #expect(attributes.first { $0.id == 194 }?.raw?.value == 167_503_724_579)
        #expect(output.ataSmartSelfTestLog?.extended?.table?.count == 1)
        #expect(output.smartctl?.exitStatus == 0)
    }

    @Test func nvmeHealthLogAndSelfTestLog() throws {
        let output = try Fixture.output("nvme-media-errors.json")
        let log = try #require(output.nvmeSmartHealthInformationLog)
        #expect(log.mediaErrors == 37)
        #expect(log.availableSpare == 100)
        #expect(log.availableSpareThreshold == 10)
        #expect(log.percentageUsed == 12)
        #expect(log.powerOnHours == 9876)
        #expect(output.nvmeSelfTestLog?.table?.first?.selfTestResult?.value == 7)
    }

    @Test func scsiCountersDefectsAndNumberedSelfTests() throws {
        let output = try Fixture.output("scsi-sas-defects.json")
        #expect(output.scsiGrownDefectList == 212)
        #expect(output.scsiErrorCounterLog?.read?.totalUncorrectedErrors == 3)
        #expect(output.scsiSelfTests.count == 1)
        #expect(output.scsiSelfTests.first?.result?.value == 7)
        #expect(output.revision == "0003")
        #expect(output.modelName == "SEAGATE ST600MM0006")
    }

    @Test func errorOutputKeepsMessagesAndStatus() throws {
        let output = try Fixture.output("usb-bridge-refused.json")
        #expect(output.smartctl?.exitStatus == 1)
        #expect(output.smartctl?.messages?.first?.string.contains("Unknown USB bridge") == true)
        #expect(output.device == nil)
        #expect(SmartctlExitStatus(rawValue: 1).names == ["command_line_error"])
    }

    @Test func exitStatusBitsFollowTheManual() {
        let status = SmartctlExitStatus(rawValue: 0xD8)
        #expect(status.contains(.diskFailing))
        #expect(status.contains(.prefailBelowThreshold))
        #expect(status.contains(.errorLogHasErrors))
        #expect(status.contains(.selfTestLogHasErrors))
        #expect(!status.contains(.deviceOpenFailed))
        #expect(status.names == ["disk_failing", "prefail_below_threshold", "error_log_has_errors", "self_test_log_has_errors"])
    }

    @Test func aMemberOfAnUnexpectedShapeIsDroppedNotFatal() throws {
        let text = #"{"smartctl":{"exit_status":0},"smart_status":"yes","temperature":{"current":40},"ata_smart_attributes":{"table":[{"id":5,"raw":{"value":3}}]}}"#
        let output = try SmartctlOutput.decode(Data(text.utf8))
        #expect(output.smartStatus == nil)
        #expect(output.temperature?.current == 40)
        #expect(output.ataSmartAttributes?.table.first?.raw?.value == 3)
    }

    @Test func garbageIsUnavailableNotACrash() {
        guard case .unavailable(let code, _) = SmartctlRunner.reading(fromFile: Fixture.path("not-json.txt")) else {
            Issue.record("expected unavailable"); return
        }
        #expect(code == "smart_output_invalid")
        guard case .unavailable(let missing, _) = SmartctlRunner.reading(fromFile: "/nonexistent/smart.json") else {
            Issue.record("expected unavailable"); return
        }
        #expect(missing == "smart_file_unreadable")
        guard case .unavailable(let empty, _) = SmartctlRunner.reading(from: Data(), exitStatus: 2) else {
            Issue.record("expected unavailable"); return
        }
        #expect(empty == "smart_output_invalid")
    }

    @Test func deviceTypeFollowsTheTransport() {
        #expect(SmartctlRunner.deviceType(for: .usb) == "sat")
        #expect(SmartctlRunner.deviceType(for: .sata) == "sat")
        #expect(SmartctlRunner.deviceType(for: .nvme) == "nvme")
        #expect(SmartctlRunner.deviceType(for: .sas) == "scsi")
        #expect(SmartctlRunner.deviceType(for: .loop) == nil)
        #expect(SmartctlRunner.isValidDeviceType("sat+megaraid,0"))
        #expect(SmartctlRunner.isValidDeviceType("sat,12"))
        #expect(!SmartctlRunner.isValidDeviceType("sat; rm -rf /"))
        #expect(!SmartctlRunner.isValidDeviceType(""))
    }

    @Test func missingSmartctlIsUnknownNotACrash() {
        let runner = SmartctlRunner(executable: "/nonexistent/smartctl")
        guard case .unavailable(let code, _) = runner.read(device: "/dev/sda", deviceType: "sat") else {
            Issue.record("expected unavailable"); return
        }
        #expect(code == "smartctl_not_found")
    }
}
