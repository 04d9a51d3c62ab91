import ArdoiseSupport
import Diagnostics
import Foundation
import Inventory

extension BenchDaemon {
    /// With `[inventory] at-start = true`, inventories the PC the bench runs on (under the
    /// scanner's sysroot), signs it with the bench key and stores it in the journal, once per
    /// daemon start. A failure is logged; it never stops the bench.
    public func recordHostInventoryIfConfigured() async {
        guard config.inventoryAtStart else { return }
        let (sysroot, key, journal) = (scanner.reader.sysroot, key, journal)
        let (benchID, donor, lot) = (config.benchID, config.donor, config.lot)
        let (language, directory) = (config.language,
                                              (config.dataDirectory as NSString).appendingPathComponent("inventories"))
        let check = healthPolicy.map { HealthCheck(policy: $0, runner: SmartctlRunner(executable: config.smartctlPath)) }
        let outcome = await BlockingWork.run("ardoise-inventory") { () -> Result<SignedInventory, any Error> in
            Result {
                let inventory = HostInventory.read(sysroot: sysroot, health: check)
                return try InventoryRecorder(key: key, journal: journal, outputDirectory: directory, language: language)
                    .record(inventory, benchID: benchID, donor: donor, lot: lot)
            }
        }
        switch outcome {
        case .success(let signed):
            logger.info("inventory recorded", metadata: ["id": "\(signed.payload.id)",
                                                         "summary": "\(InventoryText.summary(signed.payload.inventory, language: language))"])
        case .failure(let error):
            logger.error("inventory at start failed", metadata: ["error": "\(error)"])
        }
    }
}

extension HostInventory {
    /// The inventory of the PC under `sysroot`, with each drive's health when `health` is given
    /// and the tree is the live system's (a replayed tree has no drives smartctl could read).
    public static func read(sysroot: String, health: HealthCheck?) -> HostInventory {
        let inventory = InventoryReader(sysroot: sysroot).read()
        guard let health, sysroot == "/" else { return inventory }
        return inventory.fillingDriveHealth(check: health)
    }
}
