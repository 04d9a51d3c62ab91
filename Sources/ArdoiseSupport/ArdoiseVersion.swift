/// The tool's version, printed by `--version` and written into every certificate.
public enum ArdoiseVersion {
    public static let string = "0.1.0"
}
