import CoreMetrics

/// Herald's metrics, through swift-metrics: the daemon bootstraps the
/// Prometheus backend and serves it on `/metrics`; elsewhere (tests, the
/// CLI) they go nowhere. Names follow Prometheus' conventions: `herald_`,
/// base units, `_total` for counters.
public enum HeraldMetrics {
    /// Events stored, by ingest format and team.
    public static func eventsIngested(format: String, team: String, count: Int) {
        Counter(label: "herald_events_ingested_total", dimensions: [("format", format), ("team", team)])
            .increment(by: Int64(count))
    }

    /// Requests to an ingest route refused, by format and reason (the
    /// answer's status, e.g. `bad_request`, `unauthorized`).
    public static func ingestRefused(format: String, reason: String) {
        Counter(label: "herald_ingest_refused_total", dimensions: [("format", format), ("reason", reason)]).increment()
    }

    /// Events that matched no policy, by team.
    public static func eventsUnrouted(team: String, count: Int) {
        Counter(label: "herald_events_unrouted_total", dimensions: [("team", team)]).increment(by: Int64(count))
    }

    /// Pushes an endpoint's rules held back, by reason (`level`,
    /// `push_cycle`, `push_frequency`, `recovery_without_firing`).
    public static func pushesSuppressed(endpoint: String, reason: String, count: Int) {
        Counter(label: "herald_pushes_suppressed_total", dimensions: [("endpoint", endpoint), ("reason", reason)])
            .increment(by: Int64(count))
    }
}

/// One endpoint's metrics, made once when its worker starts (a lookup in
/// the backend per delivery would cost more than the increment).
public struct EndpointMetrics: Sendable {
    /// Attempts by outcome: `ok`, `retry`, `fail`, `crash`.
    private let attempts: [String: Counter]
    /// One plugin call: from submission to its outcome.
    private let pluginCall: Timer
    /// From when Herald stored the event to when the endpoint took it.
    private let deliveryLatency: Timer
    /// Retries scheduled (a RETRY with retries left, while the endpoint is up).
    private let retries: Counter
    private let deadLetters: Counter
    /// Deliveries queued in memory (held ones included); more may wait in the store.
    private let queueDepth: Gauge
    /// 1 while the endpoint is down (holding and probing), else 0.
    private let down: Gauge
    /// 1 while its plugin hangs in a call, else 0.
    private let suspended: Gauge

    public init(endpoint: String, channel: String) {
        let labels = [("endpoint", endpoint), ("channel", channel)]
        attempts = Dictionary(uniqueKeysWithValues: ["ok", "retry", "fail", "crash"].map { outcome in
            (outcome, Counter(label: "herald_delivery_attempts_total", dimensions: labels + [("outcome", outcome)]))
        })
        pluginCall = Timer(label: "herald_plugin_call_duration_seconds", dimensions: labels)
        deliveryLatency = Timer(label: "herald_delivery_latency_seconds", dimensions: labels)
        retries = Counter(label: "herald_delivery_retries_total", dimensions: labels)
        deadLetters = Counter(label: "herald_dead_letters_total", dimensions: labels)
        queueDepth = Gauge(label: "herald_endpoint_queue_depth", dimensions: labels)
        down = Gauge(label: "herald_endpoint_down", dimensions: labels)
        suspended = Gauge(label: "herald_endpoint_suspended", dimensions: labels)
    }

    public func attempted(outcome: String, seconds: Double) {
        attempts[outcome]?.increment()
        pluginCall.recordSeconds(max(0, seconds))
    }

    public func delivered(secondsSinceStored: Double) { deliveryLatency.recordSeconds(max(0, secondsSinceStored)) }
    public func retryScheduled() { retries.increment() }
    public func deadLettered() { deadLetters.increment() }

    public func state(queued: Int, down isDown: Bool, suspended isSuspended: Bool) {
        queueDepth.record(queued)
        down.record(isDown ? 1 : 0)
        suspended.record(isSuspended ? 1 : 0)
    }
}
