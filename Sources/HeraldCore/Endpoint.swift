/// A push destination: one channel plugin instance and the rules that
/// decide what reaches it.
public struct Endpoint: Sendable, Equatable {
    public var name: String
    public var team: String
    /// The plugin's channel name ("http", "file", ...).
    public var channel: String
    public var levels: Set<Level>
    public var throttle: ThrottleRule
    public var retry: RetryPolicy
    /// Seconds the host waits for one attempt's outcome.
    public var timeoutSeconds: Double
    /// How many deliveries may be in flight at once to this endpoint.
    public var maxInFlight: Int
    /// The channel config as a JSON object, already checked against the plugin's schema.
    public var config: JSONValue
    /// Where the plugin runs for this endpoint.
    public var isolation: Isolation
    /// When the endpoint counts as down, and how it is probed back up.
    public var health: HealthRule
    /// Endpoints (of the same team) that get a delivery this endpoint could
    /// not make: failed for good, out of retries, or expired while down.
    public var fallback: [String]

    public init(
        name: String, team: String, channel: String, levels: Set<Level> = Level.defaultFilter,
        throttle: ThrottleRule = ThrottleRule(), retry: RetryPolicy = RetryPolicy(),
        timeoutSeconds: Double = 5, maxInFlight: Int = 64, config: JSONValue = .object([:]), isolation: Isolation = .none,
        health: HealthRule = HealthRule(), fallback: [String] = []
    ) {
        self.isolation = isolation
        self.health = health
        self.fallback = fallback
        self.name = name
        self.team = team
        self.channel = channel
        self.levels = levels
        self.throttle = throttle
        self.retry = retry
        self.timeoutSeconds = timeoutSeconds
        self.maxInFlight = maxInFlight
        self.config = config
    }
}

/// Where an endpoint's plugin runs.
public enum Isolation: String, Sendable, CaseIterable {
    /// In the daemon's process: fastest; a crash of the plugin is a crash of
    /// the daemon (which then finds the poison delivery on restart).
    case none
    /// In a supervised worker process of its own: a crash is an outcome
    /// (RETRY), the worker is started again, the daemon stays up.
    case process
}
