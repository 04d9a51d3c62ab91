/// Human-readable sizes, as lsblk prints them (binary units, one decimal).
public enum ByteCountFormatter {
    /// `2147483648` → `2G`, `1536` → `1.5K`; exact multiples drop the decimal, like lsblk.
    public static func human(_ bytes: UInt64) -> String {
        let units = ["B", "K", "M", "G", "T", "P", "E"]
        var value = Double(bytes)
        var index = 0
        while value >= 1024, index < units.count - 1 {
            value /= 1024
            index += 1
        }
        if index == 0 { return "\(bytes)B" }
        let rounded = (value * 10).rounded() / 10
        if rounded == rounded.rounded() { return "\(Int(rounded))\(units[index])" }
        return String(format: "%.1f%@", rounded, units[index])
    }

    /// Decimal megabytes per second, as drive vendors and fio quote throughput.
    public static func rate(bytes: UInt64, seconds: Double) -> String {
        guard seconds > 0 else { return "-" }
        return String(format: "%.1f MB/s", Double(bytes) / seconds / 1_000_000)
    }
}
