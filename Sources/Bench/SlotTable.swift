import ArdoiseSupport
import DeviceKit
import Foundation

/// What is on each node of the bench: the medium's identity, the slot's state, and which job
/// belongs to it. A value type with no I/O and no clock: `BenchDaemon` applies hot-plug
/// events and job outcomes to it and tests drive it directly.
///
/// Every medium seen on a node gets a new `generation` (unique for the daemon's life). A job
/// belongs to the generation it started on: a different medium on the same node is a new
/// slot, and the old job's outcome never lands on it.
struct SlotTable: Sendable {
    /// Where a slot's job is.
    enum JobPhase: Sendable, Equatable {
        /// No job (waiting, protected, or its job has ended).
        case none
        /// Accepted, waiting for a free job slot.
        case queued
        /// Handed to the scheduler's runner: from health check and claim to certificate.
        case running
    }

    struct Slot: Sendable {
        var info: BlockDeviceInfo
        var status: SlotStatus
        let generation: UInt64
        var job: JobPhase = .none
        /// The medium left the node (the slot stays on screen until another medium comes).
        var removed = false
        /// Where an interrupted job of this drive can go on (re-plug), when it can.
        var resume: ResumePoint?
        /// Whether the next job on this slot resumes (`resume`) or starts the profile over.
        var useResume = false
    }

    /// What `mediumLeft` asks of the daemon.
    enum Departure: Sendable, Equatable {
        /// Nothing was on the node, or its removal was already seen.
        case nothing
        /// The slot is now `removed`; no job was running.
        case removed(generation: UInt64)
        /// A job was running on the medium: it must be stopped (it ends interrupted).
        case stopJob(generation: UInt64)
    }

    private(set) var slots: [String: Slot] = [:]
    private var lastGeneration: UInt64 = 0
    /// The bench's language (reasons are stored as the screen shows them).
    var language: Language

    init(language: Language) { self.language = language }

    static let removedText = LocalizedText(fr: "disque retiré", en: "drive removed")

    subscript(name: String) -> Slot? { slots[name] }

    /// The slot of `name` when it still holds `generation`.
    func slot(_ name: String, generation: UInt64) -> Slot? {
        guard let slot = slots[name], slot.generation == generation else { return nil }
        return slot
    }

    /// The node a generation lives on, while it is the node's current medium.
    func name(of generation: UInt64) -> String? {
        slots.first { $0.value.generation == generation }?.key
    }

    var names: [String] { slots.keys.sorted { $0.compare($1, options: .numeric) == .orderedAscending } }

    /// A medium arrived on `name` (or another medium replaced what was there): a new slot with
    /// a new generation. The caller has dealt with the previous medium (`mediumLeft`) first.
    @discardableResult
    mutating func arrive(_ info: BlockDeviceInfo, status: SlotStatus, resume: ResumePoint? = nil, useResume: Bool = false) -> UInt64 {
        lastGeneration += 1
        slots[info.name] = Slot(info: info, status: status, generation: lastGeneration, resume: resume, useResume: useResume)
        return lastGeneration
    }

    /// The medium on `name` is gone. A slot whose job was accepted and not yet ended (queued
    /// and never started: `removed`; started, whatever step it is at — health check, claim,
    /// passes, certificate — : `interrupted`, "drive removed") records the pull at once; a
    /// finished slot keeps its outcome in its reason.
    mutating func mediumLeft(_ name: String) -> Departure {
        guard var slot = slots[name], !slot.removed else { return .nothing }
        slot.removed = true
        slot.status.graceSecondsLeft = nil
        let departure: Departure
        switch slot.job {
        case .running:
            slot.status.state = .interrupted
            slot.status.reason = Self.removedText.text(in: language)
            departure = .stopJob(generation: slot.generation)
        case .queued, .none:
            slot.job = .none
            if slot.status.state.isFinal && slot.status.state != .protected && slot.status.state != .removed {
                slot.status.reason = BenchDaemon.reasonAfterRemoval(state: slot.status.state, reason: slot.status.reason, language: language)
            } else {
                slot.status.reason = nil
            }
            slot.status.state = .removed
            departure = .removed(generation: slot.generation)
        }
        slots[name] = slot
        return departure
    }

    /// The drive became protected while it waited (mounted meanwhile…). Returns whether the
    /// slot changed (its grace period and queue place must go).
    mutating func becameProtected(_ name: String, info: BlockDeviceInfo, reasons: [ProtectionReason]) -> Bool {
        guard var slot = slots[name], slot.job != .running, slot.status.state == .waiting || slot.status.state == .queued else {
            return false
        }
        slot.job = .none
        slot.status.state = .protected
        slot.status.reason = reasons.map { $0.message.text(in: language) }.joined(separator: ", ")
        slot.status.reasonCodes = reasons.map(\.key)
        slot.status.graceSecondsLeft = nil
        slot.info = info
        slots[name] = slot
        return true
    }

    /// Accepts the slot's job (grace elapsed, or `start`): `queued`. False when the slot
    /// cannot take a job now (no profile, removed, running, protected).
    mutating func accept(_ name: String, generation: UInt64) -> Bool {
        guard var slot = slot(name, generation: generation), !slot.removed, slot.job == .none, slot.status.profile != nil else {
            return false
        }
        switch slot.status.state {
        case .waiting, .interrupted, .failed, .done, .doneWithExceptions: break
        default: return false
        }
        slot.job = .queued
        slot.status.graceSecondsLeft = nil
        slot.status.state = .queued
        slot.status.reason = nil
        slot.status.certificate = nil
        slot.status.resumable = nil
        slots[name] = slot
        return true
    }

    /// Takes a queued job back (cancel before it started): `waiting`, with `reason`.
    mutating func unqueue(_ name: String, reason: String?) {
        guard var slot = slots[name], slot.job != .running,
              slot.status.state == .waiting || slot.status.state == .queued else { return }
        slot.job = .none
        slot.status.graceSecondsLeft = nil
        slot.status.state = .waiting
        slot.status.reason = reason
        slots[name] = slot
    }

    /// The scheduler starts the generation's job. False when the slot is not queued any more
    /// (removed, cancelled or replaced meanwhile): nothing must run.
    mutating func begin(generation: UInt64) -> Bool {
        guard let name = name(of: generation), var slot = slots[name], !slot.removed, slot.job == .queued else { return false }
        slot.job = .running
        slot.status.state = .erasing
        slots[name] = slot
        return true
    }

    /// Applies a change to the running (or any current) slot of a generation; a replaced
    /// medium's generation changes nothing.
    mutating func update(generation: UInt64, _ change: (inout Slot) -> Void) {
        guard let name = name(of: generation), var slot = slots[name] else { return }
        change(&slot)
        slots[name] = slot
    }

    /// The job of `generation` ended with `state`. A job whose drive was pulled while it ran
    /// stays `interrupted` ("drive removed") unless it had already completed: `done` and
    /// `done-with-exceptions` are facts of the certificate written before the pull was seen,
    /// so the slot reads `removed` with that outcome as its reason. A medium that replaced the
    /// slot's is never touched.
    mutating func finish(generation: UInt64, state: SlotState, reason: String?, certificate: String?) {
        guard let name = name(of: generation), var slot = slots[name], slot.job != .none else { return }
        slot.job = .none
        let completed = state == .done || state == .doneWithExceptions
        if slot.removed && completed {
            slot.status.state = .removed
            slot.status.reason = BenchDaemon.reasonAfterRemoval(state: state, reason: reason, language: language)
        } else if slot.removed {
            slot.status.state = .interrupted
            slot.status.reason = Self.removedText.text(in: language)
        } else {
            slot.status.state = state
            slot.status.reason = reason
        }
        slot.status.certificate = certificate
        slots[name] = slot
    }
}
