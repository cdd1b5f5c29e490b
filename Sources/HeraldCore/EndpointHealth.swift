/// When an endpoint counts as down, and how it is probed back up.
///
/// Per-message retries are right for a failure of one message and wrong for
/// a failure of the endpoint: a receiver restarting for a minute would
/// otherwise burn every queued alert's retries and dead-letter them all.
public struct HealthRule: Sendable, Equatable {
    /// Endpoint-down failures in a row (refused or reset connections,
    /// timeouts, 5xx, 429: the plugin's flag) after which the endpoint is down.
    public var downAfter: Int
    /// Seconds from going down to the first probe; doubled after each failed one.
    public var firstProbeSeconds: Double
    /// The longest wait between two probes, in seconds.
    public var maxProbeSeconds: Double
    /// How long an alert may wait for its endpoint, in seconds; past it, it
    /// is dead-lettered ("expired while the endpoint was down").
    public var maxAgeSeconds: Double

    public init(downAfter: Int = 3, firstProbeSeconds: Double = 2, maxProbeSeconds: Double = 60,
                maxAgeSeconds: Double = 12 * 3600) {
        self.downAfter = downAfter
        self.firstProbeSeconds = firstProbeSeconds
        self.maxProbeSeconds = maxProbeSeconds
        self.maxAgeSeconds = maxAgeSeconds
    }
}

/// One endpoint's health: up, or down since a time with its next probe.
/// A value driven by the outcomes it is told and the time it is given; it
/// does no I/O, so it is tested with a made-up clock.
public struct EndpointHealth: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case up
        /// Down since `since` (Unix seconds); the next probe may start at `nextProbeAt`.
        case down(since: Double, nextProbeAt: Double, failedProbes: Int)
    }

    /// What an outcome changed, for the one log line per change.
    public enum Change: Sendable, Equatable {
        case wentDown
        case cameBack(downSeconds: Double)
    }

    public private(set) var state: State = .up
    /// Endpoint-down failures in a row while up.
    public private(set) var failuresInARow = 0
    public private(set) var lastError: String?
    /// Whether a probe is in flight (one at a time while down).
    public private(set) var probing = false

    public init() {}

    /// Starts down, as a restart finds an endpoint that was down when it stopped.
    public init(downSince since: Double, now: Double) {
        state = .down(since: since, nextProbeAt: now, failedProbes: 0)
    }

    public var isDown: Bool { if case .down = state { true } else { false } }

    /// Whether a probe may start now: down, none in flight, its time come.
    public func mayProbe(now: Double) -> Bool {
        guard case .down(_, let next, _) = state, !probing else { return false }
        return now >= next
    }

    public mutating func probeStarted() { probing = true }

    /// The endpoint answered: delivered, or refused this one message (FAIL,
    /// or a RETRY not flagged endpoint-down). It is up.
    public mutating func answered(now: Double) -> Change? {
        failuresInARow = 0
        probing = false
        guard case .down(let since, _, _) = state else { return nil }
        state = .up
        lastError = nil
        return .cameBack(downSeconds: now - since)
    }

    /// An attempt failed because of the endpoint (the plugin's endpoint-down
    /// flag, or no outcome in time).
    /// - Parameters:
    ///   - retryAfter: what the receiver asked for, if anything.
    ///   - probe: the attempt was the probe; while down, only a probe's
    ///     failure moves the next probe later (the attempts that were in
    ///     flight when the endpoint went down come back failed too).
    public mutating func endpointFailed(reason: String, retryAfter: Double?, now: Double, rule: HealthRule,
                                        probe: Bool = true) -> Change? {
        lastError = reason
        if case .down = state, !probe { return nil }
        switch state {
        case .up:
            failuresInARow += 1
            guard failuresInARow >= rule.downAfter else { return nil }
            state = .down(since: now, nextProbeAt: now + Self.wait(after: 0, retryAfter: retryAfter, rule: rule),
                          failedProbes: 0)
            return .wentDown
        case .down(let since, _, let failed):
            probing = false
            state = .down(since: since, nextProbeAt: now + Self.wait(after: failed + 1, retryAfter: retryAfter, rule: rule),
                          failedProbes: failed + 1)
            return nil
        }
    }

    /// The wait before the next probe: doubling from `firstProbeSeconds`,
    /// at most `maxProbeSeconds`; a receiver's Retry-After wins when longer,
    /// within the same cap.
    static func wait(after failedProbes: Int, retryAfter: Double?, rule: HealthRule) -> Double {
        let backoff = min(rule.maxProbeSeconds, rule.firstProbeSeconds * Double(1 << min(failedProbes, 30)))
        guard let retryAfter, retryAfter.isFinite, retryAfter > backoff else { return backoff }
        return min(retryAfter, rule.maxProbeSeconds)
    }
}
