public import Foundation

/// The event of a message, decoded: the fields plugin-sdk/README.md lists.
public struct Event: Decodable, Sendable {
    public enum Level: String, Decodable, Sendable, CaseIterable {
        case critical = "Critical", error = "Error", warning = "Warning", info = "Info", recovery = "Recovery"

        /// A level by name, in any case ("critical", "CRITICAL").
        public init?(name: String) {
            guard let level = Self.allCases.first(where: { $0.rawValue.caseInsensitiveCompare(name) == .orderedSame })
            else { return nil }
            self = level
        }
    }

    public let id: String
    public let deliveryID: String
    public let dedupKey: String
    public let name: String
    /// This push's level; `.recovery` when the alert has ended.
    public let level: Level
    /// The alert's firing level, also on its recovery.
    public let eventLevel: Level
    public let previousLevel: Level?
    /// `firing` or `resolved`.
    public let status: String
    public let objectID: String
    public let labels: [String: String]
    public let annotations: [String: String]
    public let team: String
    public let policy: String
    /// The policy's matchers as a selector, `{service="api"}` (`{}`: every event).
    public let policyMatchers: String?
    /// For a push to a fallback endpoint: the endpoint that could not make it, and why.
    public let fallbackOf: String?
    public let fallbackReason: String?
    public let endpoint: String
    public let source: String
    /// RFC 3339 in UTC with milliseconds, as sent.
    public let startsAt: String
    public let endsAt: String?

    public var isResolved: Bool { status == "resolved" || level == .recovery }

    private enum CodingKeys: String, CodingKey {
        case id, name, level, status, labels, annotations, team, policy, endpoint, source
        case deliveryID = "delivery_id", dedupKey = "dedup_key", eventLevel = "event_level"
        case previousLevel = "previous_level", objectID = "object_id", startsAt = "starts_at", endsAt = "ends_at"
        case policyMatchers = "policy_matchers", fallbackOf = "fallback_of", fallbackReason = "fallback_reason"
    }
}

extension Message {
    /// The event, decoded from `eventJSON`.
    public func event() throws -> Event { try JSONDecoder().decode(Event.self, from: Data(eventJSON)) }
}

extension Event {
    /// `startsAt` as a date.
    public var startDate: Date? { Self.date(startsAt) }
    /// `endsAt` as a date, once the alert has ended.
    public var endDate: Date? { endsAt.flatMap(Self.date) }

    static func date(_ text: String) -> Date? {
        (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
            ?? (try? Date(text, strategy: .iso8601))
    }
}
