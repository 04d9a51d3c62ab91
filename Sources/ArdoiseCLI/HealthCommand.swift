import ArdoiseSupport
import ArgumentParser
import DeviceKit
import Diagnostics
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `ardoise health DEV… [--json]` / `ardoise health --smart-from FILE`: is this drive worth reusing?
struct HealthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Santé d'un disque : réemploi, à surveiller, à détruire / Drive health: reuse, caution, discard.",
        discussion: """
        Lit SMART avec smartctl (paquet smartmontools) et juge selon la politique de santé \
        (Policies/health-default.toml, /etc/ardoise/health.toml, ou --policy). Ne modifie jamais le disque \
        (--self-test demande au disque son propre autotest, qui ne touche pas aux données).
        Statut de sortie : 0 réemploi, 85 à surveiller, 86 à détruire, 87 santé inconnue \
        (le pire des disques), 88 politique invalide (fichier:ligne:champ).
        """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Les disques (/dev/sdb, /dev/nvme0n1…) / The drives.")
    var devices: [String] = []

    @Option(name: .customLong("smart-from"), help: "Juger une sortie « smartctl --json -x » enregistrée / Judge a saved smartctl --json -x output.")
    var smartFrom: String?

    @Flag(help: "Sortie JSON (codes stables) / JSON output (stable codes).")
    var json = false

    @Option(name: .customLong("device-type"), help: "Type -d de smartctl (sat, sat,12, nvme, scsi, usbjmicron, megaraid,N…) ; défaut : d'après le transport / smartctl -d type; default: from the transport.")
    var deviceType: String?

    @Option(name: .long, help: "Fichier de politique de santé / Health policy file.")
    var policy: String?

    @Flag(name: .long, help: "Lecture de surface complète (O_DIRECT, lecture seule) / Full read-only surface scan.")
    var surface = false

    @Flag(name: .customLong("surface-sample"), help: "Lecture de surface par échantillons (1000 sous-sections) / Sampled surface scan.")
    var surfaceSample = false

    @Option(name: .customLong("self-test"), help: "Lance l'autotest du disque et attend son résultat : short ou long / Run the drive's self-test: short or long.")
    var selfTest: String?

    func validate() throws {
        if (smartFrom == nil) == devices.isEmpty {
            throw ValidationError("donnez des disques ou --smart-from FICHIER / give drives or --smart-from FILE")
        }
        if smartFrom != nil, surface || surfaceSample || selfTest != nil || deviceType != nil {
            throw ValidationError("--smart-from ne va pas avec --surface, --self-test ni --device-type / --smart-from excludes --surface, --self-test and --device-type")
        }
        if surface && surfaceSample { throw ValidationError("--surface ou --surface-sample, pas les deux / not both") }
        if let deviceType, !SmartctlRunner.isValidDeviceType(deviceType) {
            throw ValidationError("--device-type : type smartctl attendu (sat, nvme, scsi…) / smartctl type expected")
        }
        if let selfTest, !["short", "long"].contains(selfTest) { throw ValidationError("--self-test : short | long") }
        if Set(devices).count != devices.count { throw ValidationError("un disque est cité deux fois / a drive is named twice") }
    }

    func run() throws {
        try global.applyLanguage()
        let language = CurrentLanguage.value
        let healthPolicy: HealthPolicy
        do {
            healthPolicy = try HealthPolicy.loadStandard(explicitPath: policy)
        } catch {
            printError(error.text(in: language))
            throw ExitCode(error.exitCode)
        }

        var reports: [HealthReport] = []
        if let smartFrom {
            reports.append(HealthCheck(policy: healthPolicy).run(smartFrom: smartFrom))
        } else {
            let interactive = !json && isatty(STDERR_FILENO) == 1
            for device in devices {
                var check = HealthCheck(policy: healthPolicy, deviceType: deviceType)
                if surface || surfaceSample {
                    let label = device
                    var progress: (@Sendable (UInt64, UInt64) -> Bool)?
                    if interactive {
                        progress = { done, total in
                            Self.showProgress(label, done: done, total: total)
                            return true
                        }
                    }
                    let mode: SurfaceScanner.Mode = surface ? .full : .sample(seed: 0x4172_646F_6973_65)
                    check.surface = SurfaceScanner(mode: mode, progress: progress)
                }
                var outcome: SelfTestOutcome?
                if let selfTest {
                    let runner = SelfTestRunner(runner: check.runner, deviceType: check.chosenDeviceType(for: device))
                    let title = "\(label(selfTest)) \(device)"
                    let kind = selfTest
                    var progress: (@Sendable (Int) -> Void)?
                    if interactive {
                        progress = { percent in Self.showProgress(title, done: UInt64(percent), total: 100) }
                    }
                    let report: @Sendable (Int) -> Void = progress ?? { _ in }
                    outcome = try runOnDedicatedThread { () throws -> SelfTestOutcome in
                        try runner.run(device: device, kind: kind, progress: report)
                    }
                }
                let finalCheck = check
                let chosen = outcome
                let report = try reportingErrors { try runOnDedicatedThread { try finalCheck.run(device: device, selfTest: chosen) } }
                if interactive && (surface || surfaceSample || selfTest != nil) { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
                reports.append(report)
            }
        }

        if json {
            let data: Data
            if reports.count == 1 {
                data = try reports[0].jsonData()
            } else {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                encoder.dateEncodingStrategy = .iso8601
                data = try encoder.encode(reports)
            }
            print(String(decoding: data, as: UTF8.self))
        } else {
            let colour = isatty(STDOUT_FILENO) == 1
            print(reports.map { $0.text(in: language, colour: colour) }.joined(separator: "\n\n"))
        }
        let worst = reports.map(\.verdict).max { $0.gravity < $1.gravity } ?? .reuse
        if let code = Self.exitCode(for: worst) { throw ExitCode(code) }
    }

    private func label(_ kind: String) -> String {
        CurrentLanguage.value == .french ? "autotest \(kind)" : "\(kind) self-test"
    }

    /// 0 reuse, 85 caution, 86 discard, 87 unknown (docs/exit-codes.md).
    static func exitCode(for verdict: HealthVerdict) -> Int32? {
        switch verdict {
        case .reuse: nil
        case .caution: 85
        case .discard: 86
        case .unknown: 87
        }
    }

    @Sendable static func showProgress(_ label: String, done: UInt64, total: UInt64) {
        let percent = total == 0 ? 100 : Int(done * 100 / total)
        FileHandle.standardError.write(Data("\r\u{1B}[K\(label) \(percent) %".utf8))
    }
}
