public import Foundation

/// Whether an alert is still going on.
public enum EventStatus: String, Sendable {
    case firing
    case resolved
}

/// One alert event, normalised from whichever ingest format brought it in.
///
/// Events are values; the store gives each a sequence number when it makes
/// it durable.
public struct Event: Sendable, Equatable {
    /// Stable id: the sender's own when it gave one, else one Herald made.
    public var id: String
    public var team: String
    public var name: String
    /// The firing level (never `.recovery`; a resolved event says so in `status`).
    public var level: Level
    public var status: EventStatus
    /// The monitored object (a host, a resource id...); throttling is per object.
    public var objectID: String
    public var labels: [String: String]
    public var annotations: [String: String]
    public var startsAt: Date
    public var endsAt: Date?
    /// Seconds after which a firing alert with no news is cleared by itself.
    public var timeoutSeconds: Int?
    /// Routes the event to this one policy instead of matching labels.
    public var policyID: String?
    /// Which ingest format brought the event ("native", "huawei", ...).
    public var source: String

    public init(
        id: String, team: String, name: String, level: Level, status: EventStatus = .firing,
        objectID: String, labels: [String: String] = [:], annotations: [String: String] = [:],
        startsAt: Date, endsAt: Date? = nil, timeoutSeconds: Int? = nil, policyID: String? = nil,
        source: String = "native"
    ) {
        self.id = id
        self.team = team
        self.name = name
        self.level = level
        self.status = status
        self.objectID = objectID
        self.labels = labels
        self.annotations = annotations
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.timeoutSeconds = timeoutSeconds
        self.policyID = policyID
        self.source = source
    }

    /// What the ids the ingest hub makes start with (`hub:alertmanager:...`):
    /// the ones the store indexes, to recognise a sender's repeats.
    public static let hubIDPrefix = "hub:"

    /// The level of the push this event causes: `.recovery` once resolved.
    public var pushLevel: Level { status == .resolved ? .recovery : level }

    /// Labels policies match on: the event's own, plus `alertname`,
    /// `level` and `object_id` where the event has no label of that name.
    public var matchLabels: [String: String] {
        var all = labels
        if all["alertname"] == nil { all["alertname"] = name }
        if all["level"] == nil { all["level"] = level.rawValue }
        if all["object_id"] == nil { all["object_id"] = objectID }
        return all
    }

    /// The alert this event speaks about, the same for its firing and its
    /// resolved event: what auto-clear and recovery pair up on.
    public var alertKey: String { "\(team)\u{1F}\(name)\u{1F}\(objectID)" }
}
