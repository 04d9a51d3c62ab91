import ArdoiseSupport
import Foundation

/// Every profile the bench knows: the built-in ones plus those an administrator adds in
/// `/etc/ardoise/profiles/`. Loading is all-or-nothing: one bad file fails the whole load,
/// with its file, line and field, so a wipe never runs with a half-read profile.
public struct ProfileLibrary: Sendable {
    /// Profiles sorted by name.
    public let profiles: [WipeProfile]

    /// Where administrators put their own profiles.
    public static let systemDirectory = "/etc/ardoise/profiles"

    public init(profiles: [WipeProfile]) {
        self.profiles = profiles.sorted { $0.name < $1.name }
    }

    /// Loads every `*.toml` in each directory, in order. A missing directory in `optionalDirectories`
    /// is skipped; a missing one in `directories` is an error.
    ///
    /// - Throws: `WipeEngineError` `.invalidProfile` (file:line:field), `.duplicateProfile`, `.unreadable`.
    public static func load(directories: [String], optionalDirectories: [String] = []) throws(WipeEngineError) -> ProfileLibrary {
        var profiles: [WipeProfile] = []
        var seen: [String: String] = [:]
        let all = directories.map { ($0, true) } + optionalDirectories.map { ($0, false) }
        for (directory, required) in all {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                if required {
                    throw WipeEngineError(
                        code: .unreadable,
                        message: LocalizedText(fr: "dossier de profils introuvable", en: "profiles directory not found"),
                        file: directory)
                }
                continue
            }
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: directory)
            } catch {
                throw WipeEngineError(
                    code: .unreadable,
                    message: LocalizedText(fr: "dossier de profils illisible : \(error)", en: "cannot read profiles directory: \(error)"),
                    file: directory)
            }
            for fileName in names.sorted() where fileName.hasSuffix(".toml") && !fileName.hasPrefix(".") {
                let path = (directory as NSString).appendingPathComponent(fileName)
                let profile = try loadFile(path: path)
                if let previous = seen[profile.name] {
                    throw WipeEngineError(
                        code: .duplicateProfile,
                        message: LocalizedText(fr: "le profil « \(profile.name) » est déjà défini dans \(previous)",
                                               en: "profile '\(profile.name)' is already defined in \(previous)"),
                        file: path, line: 1, field: "name")
                }
                seen[profile.name] = path
                profiles.append(profile)
            }
        }
        return ProfileLibrary(profiles: profiles)
    }

    /// Loads the built-in profiles (found by `builtInDirectory(explicit:)`) plus `/etc/ardoise/profiles/` if it exists.
    public static func loadStandard(explicitDirectory: String? = nil, systemDirectory: String = ProfileLibrary.systemDirectory) throws(WipeEngineError) -> ProfileLibrary {
        let builtIn = try builtInDirectory(explicit: explicitDirectory)
        return try load(directories: [builtIn], optionalDirectories: [systemDirectory])
    }

    /// Parses one profile file; its name must be the file name without `.toml`.
    public static func loadFile(path: String) throws(WipeEngineError) -> WipeProfile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw WipeEngineError(
                code: .unreadable,
                message: LocalizedText(fr: "fichier de profil illisible (UTF-8 attendu) : \(error)", en: "cannot read profile file (UTF-8 expected): \(error)"),
                file: path)
        }
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        return try ProfileParser(path: path, text: text, expectedName: stem).parse()
    }

    /// The profile called `name`, or nil.
    public func profile(named name: String) -> WipeProfile? {
        profiles.first { $0.name == name }
    }

    /// The profile called `name`, or a `.profileNotFound` error listing the known names.
    public func requireProfile(named name: String) throws(WipeEngineError) -> WipeProfile {
        guard let profile = profile(named: name) else {
            let known = profiles.map(\.name).joined(separator: ", ")
            throw WipeEngineError(
                code: .profileNotFound,
                message: LocalizedText(fr: "profil « \(name) » inconnu ; profils disponibles : \(known)",
                                       en: "unknown profile '\(name)'; available profiles: \(known)"),
                field: "profile")
        }
        return profile
    }

    /// Finds the built-in profiles directory. Searched in order: `explicit`, `$ARDOISE_PROFILES_DIR`,
    /// `<executable dir>/../share/ardoise/profiles`, then a `Profiles/` directory walking up from
    /// the executable's directory and from the current directory (so `swift run` and tests in a
    /// checkout find it).
    public static func builtInDirectory(
        explicit: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        executablePath: String? = ProfileLibrary.currentExecutablePath(),
        currentDirectory: String = FileManager.default.currentDirectoryPath
    ) throws(WipeEngineError) -> String {
        var tried: [String] = []
        func isDirectory(_ path: String) -> Bool {
            tried.append(path)
            var flag: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
        }
        if let explicit {
            // An explicit choice is never silently replaced by another directory.
            guard isDirectory(explicit) else {
                throw WipeEngineError(
                    code: .profilesDirectoryNotFound,
                    message: LocalizedText(fr: "dossier de profils introuvable", en: "profiles directory not found"),
                    file: explicit)
            }
            return explicit
        }
        if let fromEnvironment = environment["ARDOISE_PROFILES_DIR"], !fromEnvironment.isEmpty, isDirectory(fromEnvironment) {
            return fromEnvironment
        }
        var starts: [String] = []
        if let executablePath {
            let executableDirectory = (executablePath as NSString).deletingLastPathComponent
            let installed = ((executableDirectory as NSString).appendingPathComponent("../share/ardoise/profiles") as NSString).standardizingPath
            if isDirectory(installed) { return installed }
            starts.append(executableDirectory)
        }
        starts.append(currentDirectory)
        for start in starts {
            var directory = (start as NSString).standardizingPath
            while true {
                let candidate = (directory as NSString).appendingPathComponent("Profiles")
                if isDirectory(candidate) { return candidate }
                let parent = (directory as NSString).deletingLastPathComponent
                if parent == directory || parent.isEmpty { break }
                directory = parent
            }
        }
        throw WipeEngineError(
            code: .profilesDirectoryNotFound,
            message: LocalizedText(
                fr: "profils intégrés introuvables ; indiquez le dossier avec ARDOISE_PROFILES_DIR (essayé : \(tried.prefix(6).joined(separator: ", ")))",
                en: "built-in profiles not found; set ARDOISE_PROFILES_DIR (tried: \(tried.prefix(6).joined(separator: ", ")))"))
    }

    /// The running executable, from `/proc/self/exe` (Linux), else `argv[0]`.
    public static func currentExecutablePath() -> String? {
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return resolved
        }
        return CommandLine.arguments.first
    }
}
