import ArdoiseSupport
import Foundation
import Synchronization
import WipeEngine
#if canImport(Glibc)
import Glibc
#endif

/// One progress bar per drive on a terminal; plain lines every few seconds otherwise;
/// JSON lines with `--json`.
final class ProgressDisplay: Sendable {
    private struct Line {
        var pass = 0
        var passCount = 0
        var phase = ""
        var fraction = 0.0
        var currentRate = 0.0
        var averageRate = 0.0
        var eta: Double?
        var finished: String?
    }

    private let paths: [String]
    private let json: Bool
    private let language: Language
    private let isTerminal: Bool
    private let lines: Mutex<[Line]>
    private let running = Atomic<Bool>(false)

    init(paths: [String], json: Bool, language: Language) {
        self.paths = paths
        self.json = json
        self.language = language
        isTerminal = isatty(STDOUT_FILENO) == 1 && !json
        lines = Mutex(Array(repeating: Line(), count: paths.count))
    }

    func start() {
        guard !json else { return }
        running.store(true, ordering: .relaxed)
        let interval = isTerminal ? 0.5 : 5.0
        let thread = Thread { [self] in
            var drawn = false
            while running.load(ordering: .relaxed) {
                Thread.sleep(forTimeInterval: interval)
                draw(redraw: drawn)
                drawn = isTerminal
            }
            if isTerminal { draw(redraw: drawn) }
        }
        thread.name = "ardoise-progress"
        thread.start()
    }

    func stop() {
        running.store(false, ordering: .relaxed)
        Thread.sleep(forTimeInterval: isTerminal ? 0.6 : 0)
    }

    func update(index: Int, event: WipeEvent) {
        switch event {
        case .progress(let progress):
            lines.withLock {
                $0[index].pass = progress.pass
                $0[index].passCount = progress.passCount
                $0[index].phase = progress.phase.rawValue
                $0[index].fraction = progress.overallFraction
                $0[index].currentRate = progress.currentBytesPerSecond
                $0[index].averageRate = progress.averageBytesPerSecond
                $0[index].eta = progress.overallETASeconds
            }
            if json {
                emitJSON(["event": "progress", "device": paths[index], "pass": progress.pass, "passes": progress.passCount,
                          "phase": progress.phase.rawValue, "bytesDone": progress.bytesDone, "bytesTotal": progress.bytesTotal,
                          "fraction": progress.overallFraction, "currentBytesPerSecond": progress.currentBytesPerSecond,
                          "averageBytesPerSecond": progress.averageBytesPerSecond, "etaSeconds": progress.overallETASeconds ?? -1])
            }
        case .firmwareProgress(let progress):
            lines.withLock {
                $0[index].phase = "firmware: " + progress.message.text(in: language)
                if let fraction = progress.fraction { $0[index].fraction = fraction }
            }
            if json {
                emitJSON(["event": "firmware-progress", "device": paths[index], "fraction": progress.fraction ?? -1,
                          "messageLabel": progress.message.text(in: language)])
            }
        case .firmwareFinished(let record):
            lines.withLock { $0[index].phase = "firmware: " + record.outcome.rawValue + " — " + record.reason.text(in: language) }
            if json {
                emitJSON(["event": "firmware-finished", "device": paths[index], "outcome": record.outcome.rawValue,
                          "method": record.operations.first?.method ?? "", "reasonLabel": record.reason.text(in: language),
                          "verification": record.verification?.result.rawValue ?? "none"])
            }
        case .passFinished(let pass):
            if json {
                emitJSON(["event": "pass-finished", "device": paths[index], "pass": pass.index, "kind": pass.kind,
                          "bytesWritten": pass.bytesWritten, "bytesPerSecond": pass.bytesPerSecond,
                          "verification": pass.verification?.result.rawValue ?? "none"])
            }
        case .jobFinished(let report):
            let label = report.status.label.text(in: language)
            lines.withLock {
                $0[index].finished = label
                $0[index].fraction = report.succeeded ? 1 : $0[index].fraction
            }
            if json {
                var object: [String: Any] = ["event": "job-finished", "device": paths[index], "succeeded": report.succeeded,
                                             "status": report.status.code, "statusLabel": label,
                                             "averageBytesPerSecond": report.averageBytesPerSecond]
                if let reason = report.status.reason {
                    object["reasonCode"] = reason.code.rawValue
                    object["reasonLabel"] = reason.message.text(in: language)
                }
                emitJSON(object)
            }
        default:
            break
        }
    }

    private func emitJSON(_ object: [String: Any]) { Self.emitJSON(object) }

    /// One JSON object on one line of stdout (`wipe --json`).
    static func emitJSON(_ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }

    private func draw(redraw: Bool) {
        let snapshot = lines.withLock { $0 }
        var output = ""
        if redraw { output += "\u{1B}[\(snapshot.count)A" }
        for (path, line) in zip(paths, snapshot) {
            let width = 30
            let filled = Int(min(max(line.fraction, 0), 1) * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            let rate = String(format: "%.0f MB/s", line.currentRate / 1_000_000)
            let eta = line.eta.map { String(format: "%d:%02d", Int($0) / 60, Int($0) % 60) } ?? "-"
            let passText = language == .french ? "passe" : "pass"
            let status = line.finished ?? "\(passText) \(line.pass)/\(line.passCount) \(line.phase)"
            let text = "\(path) [\(bar)] \(String(format: "%3.0f%%", line.fraction * 100)) \(rate) ETA \(eta) \(status)"
            output += (isTerminal ? "\r\u{1B}[K" : "") + text + "\n"
        }
        FileHandle.standardOutput.write(Data(output.utf8))
    }
}

/// Calls `handler` (once per signal) on a dispatch queue while installed; the default action
/// (terminate) is blocked so the job can stop cleanly and record "interrupted".
final class SignalWatcher: @unchecked Sendable {  // sources are created in init and only cancelled after
    private let sources: [any DispatchSourceSignal]

    init(signals: [Int32], handler: @escaping @Sendable () -> Void) {
        let queue = DispatchQueue(label: "ardoise-signals")
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler(handler: handler)
            source.resume()
            return source
        }
    }

    func stop() {
        for source in sources { source.cancel() }
    }
}
