import ArdoiseSupport
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
        let outcome = await BlockingWork.run("ardoise-inventory") { () -> Result<SignedInventory, any Error> in
            Result {
                let inventory = InventoryReader(sysroot: sysroot).read()
                return try InventoryRecorder(key: key, journal: journal, outputDirectory: directory, language: language)
                    .record(inventory, benchID: benchID, donor: donor, lot: lot)
            }
        }
        switch outcome {
        case .success(let signed):
            log("inventory \(signed.payload.id): \(InventoryText.summary(signed.payload.inventory, language: language))")
        case .failure(let error):
            log("inventory at start failed: \(error)")
        }
    }
}
