public import Foundation

/// One push of one event to one endpoint through one policy: what templates
/// see and what a plugin receives as `event_json`.
public struct Push: Sendable {
    public var event: Event
    public var policy: String
    public var endpoint: String
    /// The push's level: the event's, or `.recovery` for a resolved one.
    public var level: Level
    /// The level last pushed for this key before this one, if any.
    public var previousLevel: Level?
    public var deliveryID: String
    /// The policy's matchers as a selector (`Policy.selector`), when known.
    public var policyMatchers: String?
    /// For a push to a fallback endpoint: the endpoint that could not make
    /// it, and why.
    public var fallbackOf: String?
    public var fallbackReason: String?

    public init(event: Event, policy: String, endpoint: String, level: Level, previousLevel: Level? = nil,
                deliveryID: String, policyMatchers: String? = nil, fallbackOf: String? = nil,
                fallbackReason: String? = nil) {
        self.fallbackOf = fallbackOf
        self.fallbackReason = fallbackReason
        self.event = event
        self.policy = policy
        self.endpoint = endpoint
        self.level = level
        self.previousLevel = previousLevel
        self.deliveryID = deliveryID
        self.policyMatchers = policyMatchers
    }

    /// A key that stays the same for every push about one alert of one
    /// policy, so a receiver can pair a recovery with its trigger.
    public var dedupKey: String { "\(policy)/\(event.name)/\(event.objectID)" }

    /// The fields every template and every plugin sees. Documented in
    /// plugin-sdk/README.md; only ever add to it.
    public var fields: [String: JSONValue] {
        var fields: [String: JSONValue] = [
            "id": .string(event.id),
            "delivery_id": .string(deliveryID),
            "dedup_key": .string(dedupKey),
            "name": .string(event.name),
            "level": .string(level.rawValue),
            "policy_level": .string(level.rawValue),
            "event_level": .string(event.level.rawValue),
            "status": .string(event.status.rawValue),
            "object_id": .string(event.objectID),
            "labels": .object(event.labels.mapValues(JSONValue.string)),
            "annotations": .object(event.annotations.mapValues(JSONValue.string)),
            "team": .string(event.team),
            "policy": .string(policy),
            "endpoint": .string(endpoint),
            "source": .string(event.source),
            "starts_at": .string(Timestamp.iso8601(event.startsAt)),
        ]
        if let endsAt = event.endsAt { fields["ends_at"] = .string(Timestamp.iso8601(endsAt)) }
        if let previousLevel { fields["previous_level"] = .string(previousLevel.rawValue) }
        if let policyMatchers { fields["policy_matchers"] = .string(policyMatchers) }
        if let fallbackOf { fields["fallback_of"] = .string(fallbackOf) }
        if let fallbackReason { fields["fallback_reason"] = .string(fallbackReason) }
        return fields
    }
}

/// Timestamps as the wire formats want them.
public enum Timestamp {
    /// RFC 3339 in UTC with milliseconds: 2026-11-22T15:04:05.123Z.
    public static func iso8601(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    /// Parses RFC 3339 with or without fractional seconds.
    public static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
