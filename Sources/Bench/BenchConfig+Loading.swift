import WipeEngine

extension BenchConfig {
    /// The one way the bench reads its configuration file (the daemon at start and on
    /// SIGHUP, `ardoise wipe`): the file, then the profiles it can use (built-in, system, and
    /// the file's own profile directories), then the file again with its profile names
    /// checked against them.
    /// - Throws: `BenchConfigError` (file:line:field) for the file, `WipeEngineError` for an
    ///   invalid profile file in one of its directories.
    public static func loadChecked(path: String) throws -> (config: BenchConfig, library: ProfileLibrary) {
        let draft = try BenchConfig.load(path: path)
        let library = try draft.profileLibrary()
        let config = try BenchConfig.load(path: path, knownProfiles: Set(library.profiles.map(\.name)))
        return (config, library)
    }
}
