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
        NamedThread.start("ardoise-progress") { [self] in
            var drawn = false
            while running.load(ordering: .relaxed) {
                Thread.sleep(forTimeInterval: interval)
                draw(redraw: drawn)
                drawn = isTerminal
            }
            if isTerminal { draw(redraw: drawn) }
        }
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
                var line = WipeLine(event: "progress", device: paths[index])
                line.pass = progress.pass
                line.passes = progress.passCount
                line.phase = progress.phase.rawValue
                line.bytesDone = progress.bytesDone
                line.bytesTotal = progress.bytesTotal
                line.fraction = progress.overallFraction
                line.currentBytesPerSecond = progress.currentBytesPerSecond
                line.averageBytesPerSecond = progress.averageBytesPerSecond
                line.etaSeconds = progress.overallETASeconds ?? -1
                Self.emit(line)
            }
        case .firmwareProgress(let progress):
            lines.withLock {
                $0[index].phase = "firmware: " + progress.message.text(in: language)
                if let fraction = progress.fraction { $0[index].fraction = fraction }
            }
            if json {
                var line = WipeLine(event: "firmware-progress", device: paths[index])
                line.fraction = progress.fraction ?? -1
                line.messageLabel = progress.message.text(in: language)
                Self.emit(line)
            }
        case .firmwareFinished(let record):
            lines.withLock { $0[index].phase = "firmware: " + record.outcome.rawValue + " — " + record.reason.text(in: language) }
            if json {
                var line = WipeLine(event: "firmware-finished", device: paths[index])
                line.outcome = record.outcome.rawValue
                line.method = record.operations.first?.method ?? ""
                line.reasonLabel = record.reason.text(in: language)
                line.verification = record.verification?.result.rawValue ?? "none"
                Self.emit(line)
            }
        case .passFinished(let pass):
            if json {
                var line = WipeLine(event: "pass-finished", device: paths[index])
                line.pass = pass.index
                line.kind = pass.kind
                line.bytesWritten = pass.bytesWritten
                line.bytesPerSecond = pass.bytesPerSecond
                line.verification = pass.verification?.result.rawValue ?? "none"
                Self.emit(line)
            }
        case .jobFinished(let report):
            let label = report.status.label.text(in: language)
            lines.withLock {
                $0[index].finished = label
                $0[index].fraction = report.succeeded ? 1 : $0[index].fraction
            }
            if json {
                var line = WipeLine(event: "job-finished", device: paths[index])
                line.succeeded = report.succeeded
                line.status = report.status.code
                line.statusLabel = label
                line.averageBytesPerSecond = report.averageBytesPerSecond
                line.reasonCode = report.status.reason?.code.rawValue
                line.reasonLabel = report.status.reason?.message.text(in: language)
                Self.emit(line)
            }
        default:
            break
        }
    }

    /// One JSON object on one line of stdout (`wipe --json`).
    static func emit(_ line: WipeLine) {
        guard let data = try? JSONOutput.data(line, pretty: false) else { return }
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

/// One line of `ardoise wipe --json` (docs/json-codes.md): the members an event has are set,
/// the others left out. Codes in plain members, words only in `…Label`.
struct WipeLine: Encodable {
    var event: String
    var device: String
    var pass: Int?
    var passes: Int?
    var phase: String?
    var bytesDone: UInt64?
    var bytesTotal: UInt64?
    var fraction: Double?
    var currentBytesPerSecond: Double?
    var averageBytesPerSecond: Double?
    var etaSeconds: Double?
    var messageLabel: String?
    var outcome: String?
    var method: String?
    var verification: String?
    var kind: String?
    var bytesWritten: UInt64?
    var bytesPerSecond: Double?
    var succeeded: Bool?
    var status: String?
    var statusLabel: String?
    var reasonCode: String?
    var reasonLabel: String?
    var json: String?
    var pdf: String?

    init(event: String, device: String) {
        self.event = event
        self.device = device
    }
}
