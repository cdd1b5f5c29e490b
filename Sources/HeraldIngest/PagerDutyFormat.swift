public import Foundation
public import HeraldCore

public enum PagerDutyFormat {
    /// A checked Events API v2 body.
    public static func parse(body: [UInt8]) throws(IngestError) -> PagerDutyEvent {
        let event = try decodeJSONBody(PagerDutyEvent.self, from: body)
        try event.validated()
        return event
    }
}

/// A PagerDuty Events API v2 event, taken in (`POST /v2/enqueue`).
///
/// | PagerDuty | event |
/// |---|---|
/// | `routing_key` | a team token (authenticates the sender) |
/// | `event_action` trigger / resolve | firing / resolved; a trigger while its dedup_key is open is a repeat, stored once; acknowledge is accepted and ignored |
/// | `dedup_key` | label `dedup_key`; a resolve resolves the team's last trigger with that key (its payload is used only when there was none) |
/// | `payload.class`, else `payload.summary` | `name` |
/// | `payload.source` | `object_id` |
/// | `payload.severity` critical / error / warning / info | level Critical / Error / Warning / Info |
/// | `payload.timestamp` | `starts_at` |
/// | `payload.summary`, `component`, `group` | annotation `summary`, labels `component`, `group` |
/// | `payload.custom_details.labels`, `.annotations` (objects of strings) | labels, annotations; other details as annotations (JSON text) |
public struct PagerDutyEvent: Decodable, Sendable {
    struct Payload: Decodable, Sendable {
        let summary: String
        let source: String
        let severity: String
        let timestamp: String?
        let component: String?
        let group: String?
        let `class`: String?
        let customDetails: JSONValue?

        enum CodingKeys: String, CodingKey {
            case summary, source, severity, timestamp, component, group, `class`, customDetails = "custom_details"
        }
    }

    public let routingKey: String
    public let eventAction: String
    public let dedupKey: String?
    let payload: Payload?

    enum CodingKeys: String, CodingKey {
        case routingKey = "routing_key", eventAction = "event_action", dedupKey = "dedup_key", payload
    }

    static let levels: [String: Level] = ["critical": .critical, "error": .error, "warning": .warning, "info": .info]

    /// The event id a trigger is stored under, so a payload-less resolve can find it.
    public static func eventID(dedupKey: String) -> String { "\(Event.hubIDPrefix)pagerduty:\(dedupKey)" }

    func validated() throws(IngestError) {
        guard ["trigger", "acknowledge", "resolve"].contains(eventAction) else {
            throw .invalid("event_action", "expected trigger, acknowledge or resolve, found \"\(eventAction)\"")
        }
        if let dedupKey, dedupKey.count > 255 { throw .invalid("dedup_key", "longer than 255 characters") }
        if eventAction != "trigger", dedupKey?.isEmpty ?? true { throw .invalid("dedup_key", "required for \(eventAction)") }
        if eventAction == "trigger", payload == nil { throw .invalid("payload", "required for trigger") }
        if let payload {
            if payload.summary.isEmpty { throw .invalid("payload.summary", "must not be empty") }
            if payload.summary.count > 1024 { throw .invalid("payload.summary", "longer than 1024 characters") }
            if payload.source.isEmpty { throw .invalid("payload.source", "must not be empty") }
            if Self.levels[payload.severity] == nil {
                throw .invalid("payload.severity", "expected critical, error, warning or info, found \"\(payload.severity)\"")
            }
            if let timestamp = payload.timestamp {
                guard let date = Timestamp.parse(timestamp) else {
                    throw .invalid("payload.timestamp", "expected an ISO 8601 date-time")
                }
                guard EventLimits.contains(date) else { throw .invalid("payload.timestamp", EventLimits.rangeMessage) }
            }
        }
    }

    /// The event, from the payload (nil for a payload-less resolve: see `resolving`).
    public func event(team: String, now: Date) -> Event? {
        guard let payload else { return nil }
        var labels: [String: String] = [:]
        var annotations: [String: String] = ["summary": payload.summary]
        if case .object(let details) = payload.customDetails {
            for (key, value) in details {
                if (key == "labels" || key == "annotations"), case .object(let members) = value {
                    for (name, member) in members {
                        let text = member.stringValue ?? member.jsonText
                        if key == "labels" { labels[name] = text } else { annotations[name] = text }
                    }
                } else {
                    annotations[key] = value.stringValue ?? value.jsonText
                }
            }
        } else if let details = payload.customDetails {
            annotations["custom_details"] = details.stringValue ?? details.jsonText
        }
        if let component = payload.component { labels["component"] = component }
        if let group = payload.group { labels["group"] = group }
        if let dedupKey { labels["dedup_key"] = dedupKey }
        let resolved = eventAction == "resolve"
        return Event(id: dedupKey.map(Self.eventID) ?? UUID().uuidString, team: team,
                     name: payload.class.flatMap { $0.isEmpty ? nil : $0 } ?? payload.summary,
                     level: Self.levels[payload.severity] ?? .warning, status: resolved ? .resolved : .firing,
                     objectID: payload.source, labels: labels, annotations: annotations,
                     startsAt: payload.timestamp.flatMap(Timestamp.parse) ?? now, endsAt: resolved ? now : nil,
                     source: "pagerduty")
    }

    /// A payload-less resolve: the trigger it closes, resolved now.
    public static func resolving(_ trigger: Event, now: Date) -> Event {
        var event = trigger
        event.status = .resolved
        event.endsAt = now
        return event
    }
}
