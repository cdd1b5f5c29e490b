/// How many times, and how far apart, a failed delivery is tried again.
public struct RetryPolicy: Sendable, Equatable {
    /// Retries after the first attempt (so `retries + 1` attempts in all).
    public var retries: Int
    /// Delay before the first retry, doubled for each later one.
    public var initialBackoffSeconds: Double
    public var maxBackoffSeconds: Double
    /// The longest Retry-After a receiver may ask for; longer ones are cut.
    public var maxRetryAfterSeconds: Double

    public init(retries: Int = 3, initialBackoffSeconds: Double = 1, maxBackoffSeconds: Double = 60,
                maxRetryAfterSeconds: Double = 3600) {
        self.retries = retries
        self.initialBackoffSeconds = initialBackoffSeconds
        self.maxBackoffSeconds = maxBackoffSeconds
        self.maxRetryAfterSeconds = maxRetryAfterSeconds
    }

    /// Seconds to wait before attempt `attempt + 1`, after attempt `attempt`
    /// (1-based) failed, or nil when no attempt is left.
    ///
    /// Exponential with "equal jitter" (half fixed, half random) so a burst
    /// of failures against one receiver does not retry in lockstep. A
    /// Retry-After from the receiver wins over the backoff.
    /// - Parameter unitRandom: a number in 0..<1 (injected so tests are exact).
    public func delay(afterAttempt attempt: Int, retryAfter: Double?, unitRandom: Double) -> Double? {
        guard attempt <= retries else { return nil }
        if let retryAfter, retryAfter > 0 { return min(retryAfter, maxRetryAfterSeconds) }
        let exponential = min(maxBackoffSeconds, initialBackoffSeconds * Double(1 << min(attempt - 1, 30)))
        return exponential / 2 + exponential / 2 * unitRandom
    }
}
