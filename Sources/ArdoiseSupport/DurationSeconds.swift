extension Duration {
    /// The duration in seconds, for rates and records.
    public var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
