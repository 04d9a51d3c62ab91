import ArdoiseSupport
import Certificates
import DeviceKit
import Diagnostics
import Foundation
import Journal
import WipeEngine

/// What a technician asked `ardoise wipe` to do.
public struct WipeRequest: Sendable, Equatable {
    /// Device nodes (`/dev/sdb`), or image files when `images` is true.
    public var targets: [String]
    public var profileName: String
    public var images: Bool
    /// Lets loop devices through the safety classification (tests, demo).
    public var allowVirtual: Bool
    /// True when nobody is asked (`--yes`, automatic benches): the flow then needs no confirmation.
    public var assumeYes: Bool

    public init(targets: [String], profileName: String, images: Bool = false, allowVirtual: Bool = false, assumeYes: Bool = false) {
        self.targets = targets
        self.profileName = profileName
        self.images = images
        self.allowVirtual = allowVirtual
        self.assumeYes = assumeYes
    }
}

/// A refusal of the wipe flow itself (the drive's own refusals are `DeviceError`s, the
/// profile's `WipeEngineError`s, the journal's `JournalError`s).
public struct WipeFlowError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// A profile with a `[firmware]` step named for an image file, which has no firmware.
        case firmwareProfileOnImage = "firmware_profile_on_image"
        /// The technician did not confirm a drive (or was never asked): nothing was written.
        case notConfirmed = "not_confirmed"
    }

    public var code: Code
    /// The target concerned.
    public var path: String?
    public var message: LocalizedText

    /// `ardoise wipe`'s exit status (docs/exit-codes.md): 31 a firmware profile on an image
    /// (nothing erased), 3 not confirmed.
    public var exitStatus: Int32 {
        switch code {
        case .firmwareProfileOnImage: 31
        case .notConfirmed: 3
        }
    }

    public var description: String { message.text(in: CurrentLanguage.value) }
}

/// What the technician must type before a drive is erased: the last 4 characters of its
/// serial number, or "oui"/"yes" for a drive without one (and for an image file).
public struct ConfirmationRule: Sendable, Equatable {
    public var serial: String
    public var hasSerial: Bool

    public init(serial: String, hasSerial: Bool) {
        self.serial = serial
        self.hasSerial = hasSerial
    }

    /// The answer shown in the question.
    public func expectedAnswer(in language: Language) -> String {
        hasSerial ? String(serial.suffix(4)) : (language == .french ? "oui" : "yes")
    }

    /// Case and surrounding blanks do not matter; without a serial, "oui" and "yes" both do.
    public func accepts(_ typed: String, language: Language) -> Bool {
        let answer = typed.trimmingCharacters(in: .whitespaces)
        if answer.caseInsensitiveCompare(expectedAnswer(in: language)) == .orderedSame { return true }
        return !hasSerial && ["yes", "oui"].contains(answer.lowercased())
    }
}

/// A target the flow checked and will erase once confirmed.
public struct WipeCandidate: Sendable {
    public var medium: MediumDescription
    /// The identity the classification saw; the claim is pinned to it. Nil for an image.
    public var identity: DriveIdentity?
    public var confirmation: ConfirmationRule
}

/// `ardoise wipe`'s flow, in Bench so the command only parses, asks and renders:
/// profile → one owner for the journal → every target classified (one refusal stops them all,
/// before anything is asked or opened) → the technician's confirmation of each drive →
/// each drive claimed (pinned to the identity shown) → one `ErasureSession` per drive, run in
/// parallel → journal and certificates. Each drive's job is the daemon's: the same
/// `ErasureSession.claiming` (claim, firmware step on the claim, passes, journal, certificate).
///
/// Blocking: `prepare` and `start` classify, open and read files; call them off the Swift
/// concurrency pool when that matters (the command calls them before any task runs).
public final class WipeFlow: @unchecked Sendable {
    // Touched by one caller at a time (the command's main flow); `confirmed` before `start`.
    public let request: WipeRequest
    public let config: BenchConfig
    public let profile: WipeProfile
    public let candidates: [WipeCandidate]
    /// The data directory's owner lock, held until the flow and its run are released.
    public let owner: JournalOwnerLock
    private var confirmed: Set<Int> = []

    private init(request: WipeRequest, config: BenchConfig, profile: WipeProfile, candidates: [WipeCandidate], owner: JournalOwnerLock) {
        self.request = request
        self.config = config
        self.profile = profile
        self.candidates = candidates
        self.owner = owner
    }

    /// Checks everything before anything is asked or written.
    ///
    /// - Throws: `WipeEngineError` (profile not found or invalid, image unreadable),
    ///   `JournalError` `.ownedByAnotherProcess` (a daemon or another wipe owns the data
    ///   directory), `WipeFlowError` `.firmwareProfileOnImage`, `DeviceError` (a protected
    ///   drive: `.protected` with every reason; no such device…).
    public static func prepare(_ request: WipeRequest, config: BenchConfig, scanner: DeviceScanner = DeviceScanner()) throws -> WipeFlow {
        let profile = try config.profileLibrary().requireProfile(named: request.profileName)
        // One owner per journal: beside a running daemon (or another wipe) refuse before
        // anything is asked or opened; never recover or touch jobs another process runs.
        let owner = try JournalOwnerLock.acquire(dataDirectory: config.dataDirectory, role: .wipe)
        // A firmware profile needs a real drive's pass-through; an image has none.
        if request.images, profile.firmware != nil {
            throw WipeFlowError(code: .firmwareProfileOnImage, path: request.targets.first, message: LocalizedText(
                fr: "Le profil \(profile.name) efface par le firmware du disque : impossible sur une image (--image). Rien n'a été écrit.",
                en: "Profile \(profile.name) erases with the drive's firmware: not possible on an image (--image). Nothing was written."))
        }
        var candidates: [WipeCandidate] = []
        for path in request.targets {
            if request.images {
                let target = try FileWipeTarget(path: path)
                let medium = MediumDescription(imagePath: path, sizeInBytes: target.sizeInBytes, logicalSectorSize: target.logicalSectorSize)
                candidates.append(WipeCandidate(medium: medium, identity: nil, confirmation: ConfirmationRule(serial: medium.serial, hasSerial: true)))
            } else {
                let info = try DriveAccess.classify(path, policy: safetyPolicy(request, config), scanner: scanner)
                if case .protected(let reasons) = info.verdict {
                    throw DeviceError(.protected(reasons: reasons), path: path)
                }
                let medium = MediumDescription(device: info)
                candidates.append(WipeCandidate(medium: medium, identity: info.identity,
                                                confirmation: ConfirmationRule(serial: medium.serial, hasSerial: info.identity.serial != nil)))
            }
        }
        return WipeFlow(request: request, config: config, profile: profile, candidates: candidates, owner: owner)
    }

    static func safetyPolicy(_ request: WipeRequest, _ config: BenchConfig) -> SafetyPolicy {
        SafetyPolicy(allowVirtual: request.allowVirtual, dataDirectory: config.dataDirectory)
    }

    /// True when the technician must confirm each drive before `start`.
    public var needsConfirmation: Bool { !request.assumeYes }

    /// Records the technician's answer for candidate `index`; false (and nothing recorded)
    /// when it is not the expected one.
    @discardableResult
    public func confirm(_ index: Int, answer: String, language: Language) -> Bool {
        guard candidates.indices.contains(index), candidates[index].confirmation.accepts(answer, language: language) else { return false }
        confirmed.insert(index)
        return true
    }

    /// Opens the journal (recovering what a dead owner left running), the bench key and
    /// every target (a claimed drive pinned to the identity shown, or the image file), and
    /// makes one job per target. Nothing is written yet.
    ///
    /// - Parameter technicianFallback: the technician when the configuration names none.
    /// - Throws: `WipeFlowError` `.notConfirmed` when a drive was not confirmed (and no
    ///   `assumeYes`); `JournalError`, `CertificateError` (key); `DeviceError` (the drive
    ///   changed or went away since the check: never written); `WipeEngineError`.
    public func start(technicianFallback: String, language: Language) throws -> WipeRun {
        if needsConfirmation, let missing = candidates.indices.first(where: { !confirmed.contains($0) }) {
            let path = candidates[missing].medium.path
            throw WipeFlowError(code: .notConfirmed, path: path, message: LocalizedText(
                fr: "Non confirmé pour \(path) : rien n'a été écrit.", en: "Not confirmed for \(path): nothing was written."))
        }
        let context = try ErasureContext.opening(config: config, owner: owner, technicianFallback: technicianFallback, language: language)
        var sessions: [ErasureSession] = []
        for candidate in candidates {
            if request.images {
                let target = try FileWipeTarget(path: candidate.medium.path)
                sessions.append(try ErasureSession(medium: candidate.medium, target: target, profile: profile, context: context))
            } else {
                sessions.append(try ErasureSession.claiming(candidate.medium.path, policy: Self.safetyPolicy(request, config),
                                                            expected: candidate.identity, medium: candidate.medium,
                                                            profile: profile, context: context))
            }
        }
        return WipeRun(sessions: sessions, profile: profile, owner: owner)
    }
}

/// The jobs of one `ardoise wipe`, run in parallel, each on its own thread.
public final class WipeRun: Sendable {
    public let sessions: [ErasureSession]
    public let profile: WipeProfile
    private let owner: JournalOwnerLock

    init(sessions: [ErasureSession], profile: WipeProfile, owner: JournalOwnerLock) {
        self.sessions = sessions
        self.profile = profile
        self.owner = owner
    }

    /// Stops every job; each ends interrupted and is never certified "erased".
    public func cancel() {
        for session in sessions { session.cancel() }
    }

    /// Runs every job at once and returns their outcomes in the targets' order, once every
    /// certificate is written. `onEvent` gets each engine event with its target's index.
    public func run(onEvent: @escaping @Sendable (Int, WipeEvent) -> Void = { _, _ in }) async throws -> [ErasureOutcome] {
        // Every job's journal rows first, then every erasure at once. A failure here is
        // thrown again by that session's `run`, as it was before.
        await withTaskGroup(of: Void.self) { group in
            for session in sessions { group.addTask { try? await session.prepare() } }
        }
        // They start their I/O together: none gets a head start while the last ones are
        // still being set up on a busy CPU.
        let gate = StartGate(jobs: sessions.count)
        let outcomes = try await withThrowingTaskGroup(of: (Int, ErasureOutcome).self) { group in
            for (index, session) in sessions.enumerated() {
                group.addTask {
                    (index, try await session.run(gate: gate) { event in onEvent(index, event) })
                }
            }
            var results: [(Int, ErasureOutcome)] = []
            for try await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
        for session in sessions { session.releaseDrive() }
        withExtendedLifetime(owner) {}
        return outcomes
    }

    /// The command's exit status for these outcomes (docs/exit-codes.md): 0 everything
    /// erased (or, for a read-only profile, every check matched), 30 erased with exceptions,
    /// 31 a failure, an interruption or a failed check.
    public static func exitStatus(_ outcomes: [ErasureOutcome], profile: WipeProfile) -> Int32 {
        if profile.isReadOnly {
            return outcomes.allSatisfy(\.report.succeeded) ? 0 : 31
        }
        var worst: Int32 = 0
        for outcome in outcomes {
            // The certificate's status is the verdict: a job that ran to its end without the
            // verification its standard lacks is "erased with exceptions", not "erased".
            switch (outcome.certificate?.status, outcome.jobStatus) {
            case (.erased?, .completed): break
            case (.erasedWithExceptions?, _), (nil, .completed), (nil, .completedWithExceptions): worst = max(worst, 30)
            default: worst = max(worst, 31)
            }
        }
        return worst
    }
}

extension ErasureContext {
    /// The context of a one-shot command on `config`'s data directory: the journal (its
    /// owner recovers what a dead owner left running), the bench key (created at first use)
    /// and the certificate issuer. `owner` is the data directory's lock, taken before.
    public static func opening(config: BenchConfig, owner: JournalOwnerLock, technicianFallback: String,
                               language: Language) throws -> ErasureContext {
        let journal = try JournalDatabase(dataDirectory: config.dataDirectory, owner: owner)
        let key = try BenchKey.loadOrCreate(dataDirectory: config.dataDirectory)
        let issuer = CertificateIssuer(key: key, outputDirectory: config.outputDirectory, journal: journal, language: language)
        return ErasureContext(config: config, journal: journal, issuer: issuer, technicianFallback: technicianFallback)
    }
}

extension ErasureSession {
    /// Claims the drive at `path` (safety classification again, `O_EXCL`, pinned to
    /// `expected`, the identity the technician or the policy saw) and makes its job: the
    /// passes write through the claim and a firmware step sends its commands through it.
    /// The one way `ardoise wipe` and the daemon start a drive's job. Blocking (open, ioctls).
    ///
    /// - Parameter medium: what the certificate prints; by default read from the claim's scan.
    /// - Throws: `DeviceError` (protected, changed identity, vanished…: nothing written),
    ///   `WipeEngineError` (the profile cannot run on this drive).
    public static func claiming(_ path: String, policy: SafetyPolicy, expected: DriveIdentity?, medium: MediumDescription,
                                scanner: DeviceScanner = DeviceScanner(), profile: WipeProfile, context: ErasureContext,
                                resume: ResumePoint? = nil, health: HealthReport? = nil) throws -> ErasureSession {
        let claim = try DriveAccess.claim(path, policy: policy, expected: expected, scanner: scanner)
        return try ErasureSession(medium: medium, claim: claim, profile: profile, context: context, resume: resume, health: health)
    }
}
