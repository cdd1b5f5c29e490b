/// What one delivery attempt came to, as the plugin reported it.
public enum DeliveryOutcome: Sendable, Equatable {
    case ok(reason: String)
    /// Transient; try again, after `retryAfter` seconds when the receiver said so.
    case retry(reason: String, retryAfter: Double?)
    /// Permanent; the delivery goes to the dead letters.
    case fail(reason: String)

    public var reason: String {
        switch self {
        case .ok(let reason), .retry(let reason, _), .fail(let reason): reason
        }
    }

    /// The name stored in the delivery history and used as a metric label.
    public var name: String {
        switch self {
        case .ok: "ok"
        case .retry: "retry"
        case .fail: "fail"
        }
    }
}
