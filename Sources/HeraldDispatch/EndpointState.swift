/// How one endpoint stands, as `/healthz` shows it.
public struct EndpointState: Sendable, Encodable {
    public let name: String
    public let team: String
    public let channel: String
    /// Where its plugin runs: `none` (in the daemon) or `process`.
    public let isolation: String
    /// Unix seconds since when the endpoint is suspended (its plugin hangs); nil while it runs.
    public let suspendedSince: Double?
    public let reason: String?
    /// Set while the endpoint is down: its deliveries held, one probe at a time.
    public let down: Down?

    public struct Down: Sendable, Encodable {
        /// Unix seconds.
        public let since: Double
        public let nextProbeAt: Double
        public let failedProbes: Int
        /// Deliveries held in memory (more wait in the store when `moreInStore`).
        public let held: Int
        public let moreInStore: Bool
        public let lastError: String

        enum CodingKeys: String, CodingKey {
            case since, nextProbeAt = "next_probe_at", failedProbes = "failed_probes", held, moreInStore = "more_in_store"
            case lastError = "last_error"
        }
    }

    /// `up`, `down` (held and probed) or `suspended` (its plugin hangs).
    public var state: String { suspendedSince != nil ? "suspended" : down != nil ? "down" : "up" }

    enum CodingKeys: String, CodingKey { case name, team, channel, isolation, state, suspendedSince = "suspended_since", reason, down }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(team, forKey: .team)
        try c.encode(channel, forKey: .channel)
        try c.encode(isolation, forKey: .isolation)
        try c.encode(state, forKey: .state)
        try c.encodeIfPresent(suspendedSince, forKey: .suspendedSince)
        try c.encodeIfPresent(reason, forKey: .reason)
        try c.encodeIfPresent(down, forKey: .down)
    }
}
