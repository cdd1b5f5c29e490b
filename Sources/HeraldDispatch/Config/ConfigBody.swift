public import HeraldCore

/// Teams, endpoints and policies as JSON in the config file's shape: what
/// the API shows and takes back (a view edited and sent again is a valid
/// body). Durations are in seconds.
public enum ConfigBody {
    /// An endpoint, its secret options shown only as set (`"(set)"`).
    public static func endpoint(_ endpoint: Endpoint, secrets: [String]) -> [String: JSONValue] {
        var config = endpoint.config
        if case .object(var members) = config {
            for secret in secrets where members[secret] != nil { members[secret] = .string(secretMask) }
            config = .object(members)
        }
        return [
            "name": .string(endpoint.name), "team": .string(endpoint.team), "channel": .string(endpoint.channel),
            "levels": .array(Level.allCases.filter(endpoint.levels.contains).map { .string($0.rawValue) }),
            "push_cycle": .number(endpoint.throttle.pushCycleSeconds),
            "push_frequency": .number(Double(endpoint.throttle.pushFrequency)),
            "retries": .number(Double(endpoint.retry.retries)),
            "timeout": .number(endpoint.timeoutSeconds),
            "backoff": .number(endpoint.retry.initialBackoffSeconds),
            "max_backoff": .number(endpoint.retry.maxBackoffSeconds),
            "max_in_flight": .number(Double(endpoint.maxInFlight)),
            "isolation": .string(endpoint.isolation.rawValue),
            "down_after": .number(Double(endpoint.health.downAfter)),
            "probe_backoff": .number(endpoint.health.firstProbeSeconds),
            "max_probe_backoff": .number(endpoint.health.maxProbeSeconds),
            "max_age": .number(endpoint.health.maxAgeSeconds),
            "fallback": .array(endpoint.fallback.map(JSONValue.string)),
            "config": config,
        ]
    }

    public static func policy(_ policy: Policy) -> [String: JSONValue] {
        [
            "name": .string(policy.id), "team": .string(policy.team),
            "matchers": .array(policy.matchers.map { .string($0.description) }),
            "endpoints": .array(policy.endpoints.map(JSONValue.string)),
        ]
    }

    /// What the API shows for a secret option that is set; sent back in an
    /// edit, it keeps the value in force.
    public static let secretMask = "(set)"
}
