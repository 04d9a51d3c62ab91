import ArdoiseSupport
import DeviceKit

/// The audit trace: one line per command, in the grammar of docs/firmware-erase.md.
///
/// ```
/// sat16 <16 hex bytes> dir=in|out|none len=<bytes> timeout_ms=<n> [data=<payload hex>]
/// sat12 <12 hex bytes> dir=… len=… timeout_ms=… [data=…]
/// scsi <CDB hex bytes> dir=… len=… timeout_ms=… [data=…]
/// nvme-admin opc=0x.. nsid=0x........ cdw10=0x........ … cdw15=0x........ data_len=<n> timeout_ms=<n>
/// ```
/// Hex bytes are lowercase and separated by one space, in the CDB and in `data=` alike;
/// `data=` (only for data-out commands) is always the last field, so it runs to the end of the line.
public enum PassthroughTrace {
    /// The trace line of a CDB: `sat16` for an 16-byte 85h CDB, `sat12` for a 12-byte A1h CDB, `scsi` otherwise.
    public static func line(for command: ScsiCommand) -> String {
        let kind: String
        if command.cdb.count == 16 && command.cdb[0] == 0x85 { kind = "sat16" }
        else if command.cdb.count == 12 && command.cdb[0] == 0xA1 { kind = "sat12" }
        else { kind = "scsi" }
        var text = "\(kind) \(Hex.bytes(command.cdb)) dir=\(command.direction.traceName) len=\(command.transferLength) timeout_ms=\(command.timeoutMs)"
        if command.direction == .toDevice && !command.dataOut.isEmpty {
            text += " data=\(Hex.bytes(command.dataOut))"
        }
        return text
    }

    /// The trace line of an NVMe admin command.
    public static func line(for command: NvmeAdminCommand) -> String {
        func d(_ v: UInt32) -> String { Hex.fixed(UInt64(v), width: 8) }
        return "nvme-admin opc=\(Hex.fixed(UInt64(command.opcode), width: 2)) nsid=\(d(command.nsid)) cdw10=\(d(command.cdw10)) cdw11=\(d(command.cdw11)) cdw12=\(d(command.cdw12)) cdw13=\(d(command.cdw13)) cdw14=\(d(command.cdw14)) cdw15=\(d(command.cdw15)) data_len=\(command.dataLength) timeout_ms=\(command.timeoutMs)"
    }

    /// The outcome line written after a command in real runs (not part of the command grammar;
    /// starts with "->").
    public static func outcome(_ result: ScsiResult) -> String {
        var text = "-> status=\(Hex.fixed(UInt64(result.status), width: 2)) host=\(Hex.fixed(UInt64(result.hostStatus), width: 4)) driver=\(Hex.fixed(UInt64(result.driverStatus), width: 4)) in_len=\(result.dataIn.count)"
        if !result.sense.isEmpty { text += " sense=\(Hex.bytes(result.sense))" }
        return text
    }

    public static func outcome(_ result: NvmeResult) -> String {
        "-> nvme_status=\(Hex.fixed(UInt64(result.status), width: 4)) result=\(Hex.fixed(UInt64(result.result), width: 8)) in_len=\(result.dataIn.count)"
    }

    public static func outcome(_ error: Error) -> String {
        "-> error \(error)"
    }

    /// The regular expression every command line matches (used by tests and by log readers).
    public static let grammar = #"^(?:.*?)(?:(sat16)((?: [0-9a-f]{2}){16})|(sat12)((?: [0-9a-f]{2}){12})|(scsi)((?: [0-9a-f]{2}){6,16})) dir=(in|out|none) len=\d+ timeout_ms=\d+(?: data=[0-9a-f]{2}(?: [0-9a-f]{2})*)?$|^(?:.*?)nvme-admin opc=0x[0-9a-f]{2} nsid=0x[0-9a-f]{8} cdw10=0x[0-9a-f]{8} cdw11=0x[0-9a-f]{8} cdw12=0x[0-9a-f]{8} cdw13=0x[0-9a-f]{8} cdw14=0x[0-9a-f]{8} cdw15=0x[0-9a-f]{8} data_len=\d+ timeout_ms=\d+$"#
}

/// One entry written to the trace sink.
public struct TraceRecord: Sendable, Hashable {
    public enum Kind: String, Sendable { case command, outcome }
    public var kind: Kind
    public var text: String
}

/// A transport that records every command line (and, when it forwards to a device, every
/// outcome) before/after passing it on. With `inner == nil` it is a pure dry run: nothing is
/// sent and every command "succeeds" with no data — flows use a simulated drive as `inner`
/// instead when they need believable answers (see `DryRun`).
public final class TracingTransport: PassthroughTransport {
    private let inner: PassthroughTransport
    private let sink: (TraceRecord) -> Void
    private let recordOutcomes: Bool
    /// Command lines recorded so far.
    public private(set) var commandLines: [String] = []

    /// - Parameters:
    ///   - inner: where commands go (a real device, or a simulated drive in dry runs).
    ///   - recordOutcomes: also send "-> …" outcome records to the sink (real runs → journal).
    ///   - sink: receives each record as it happens; called on the flow's thread.
    public init(wrapping inner: PassthroughTransport, recordOutcomes: Bool = true, sink: @escaping (TraceRecord) -> Void) {
        self.inner = inner
        self.recordOutcomes = recordOutcomes
        self.sink = sink
    }

    public func scsi(_ command: ScsiCommand) throws -> ScsiResult {
        let line = PassthroughTrace.line(for: command)
        commandLines.append(line)
        sink(TraceRecord(kind: .command, text: line))
        do {
            let result = try inner.scsi(command)
            if recordOutcomes { sink(TraceRecord(kind: .outcome, text: PassthroughTrace.outcome(result))) }
            return result
        } catch {
            if recordOutcomes { sink(TraceRecord(kind: .outcome, text: PassthroughTrace.outcome(error))) }
            throw error
        }
    }

    public func nvmeAdmin(_ command: NvmeAdminCommand, dataOut: [UInt8]) throws -> NvmeResult {
        let line = PassthroughTrace.line(for: command)
        commandLines.append(line)
        sink(TraceRecord(kind: .command, text: line))
        do {
            let result = try inner.nvmeAdmin(command, dataOut: dataOut)
            if recordOutcomes { sink(TraceRecord(kind: .outcome, text: PassthroughTrace.outcome(result))) }
            return result
        } catch {
            if recordOutcomes { sink(TraceRecord(kind: .outcome, text: PassthroughTrace.outcome(error))) }
            throw error
        }
    }
}
