import Certificates
import Diagnostics
import Foundation
import Inventory

extension DriveHealth {
    /// The `health` member carried by a certificate or an inventory's drive, from a health report.
    public init(report: HealthReport) {
        func figure(_ value: HealthValue?) -> Figure? {
            switch value {
            case .integer(let number)?: .number(number)
            case .text(let text)?: .text(text)
            case .flag(let flag)?: .text(String(flag))
            case nil: nil
            }
        }
        self.init(
            verdict: report.verdict.rawValue,
            reasons: report.reasons.map {
                Reason(code: $0.code, severity: $0.severity, attribute: $0.attribute, field: $0.field,
                       value: figure($0.value), threshold: figure($0.threshold))
            },
            powerOnHours: report.facts.powerOnHours, policyVersion: "\(report.policyName) \(report.policyVersion)",
            checkedAt: report.checkedAt)
    }
}

extension HostInventory {
    /// The same inventory with each drive's health read through `check` (SMART only, read-only:
    /// smartctl runs once per drive). Blocks: call from a dedicated thread.
    public func fillingDriveHealth(check: HealthCheck) -> HostInventory {
        var filled = self
        for index in filled.drives.indices {
            // Only the surface scan can throw here, and the inventory never asks for one.
            if let report = try? check.run(device: "/dev/" + filled.drives[index].name) {
                filled.drives[index].health = DriveHealth(report: report)
            }
        }
        return filled
    }
}
