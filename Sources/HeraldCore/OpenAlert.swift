/// How an event sent without its start (an Alertmanager alert with no
/// `startsAt`) continues its alert if that is still open: the team's newest
/// event whose id starts with `prefix` (the alert's instances), when it is
/// firing, lends the event its start, and its id followed by `suffix`.
/// When none is open the event starts a new instance, as sent.
public struct OpenAlert: Sendable, Hashable {
    public let prefix: String
    public let suffix: String

    public init(prefix: String, suffix: String) {
        self.prefix = prefix
        self.suffix = suffix
    }

    /// The event as the continuation of `open`.
    public func continuing(_ open: Event, with event: Event) -> Event {
        var event = event
        event.id = open.id + suffix
        event.startsAt = open.startsAt
        return event
    }
}
