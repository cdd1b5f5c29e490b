/// What one delivery attempt came to, as the plugin reported it.
public enum DeliveryOutcome: Sendable, Equatable {
    case ok(reason: String)
    /// Transient; try again, after `retryAfter` seconds when the receiver said so.
    /// `endpointDown`: the plugin says the endpoint itself is unreachable or
    /// overloaded, not this one message.
    case retry(reason: String, retryAfter: Double?, endpointDown: Bool = false)
    /// Permanent; the delivery goes to the dead letters.
    case fail(reason: String)
    /// The plugin's worker process died (or was killed hanging) with this
    /// delivery in flight; `alone` when it was the only one, which makes it
    /// the suspect. Tried again; poison after a few crashes alone.
    case crash(reason: String, alone: Bool)

    public var reason: String {
        switch self {
        case .ok(let reason), .retry(let reason, _, _), .fail(let reason), .crash(let reason, _): reason
        }
    }

    /// The name stored in the delivery history and used as a metric label.
    public var name: String {
        switch self {
        case .ok: "ok"
        case .retry: "retry"
        case .fail: "fail"
        case .crash: "crash"
        }
    }
}
