public import Foundation
public import HeraldCore

/// Huawei Cloud's `PUT /v2/{project_id}/push/events` (AOM PushEvents):
/// `{"events":[EventModel...]}`.
///
/// Times are Unix milliseconds; `timeout` is milliseconds too. Metadata
/// must carry event_name, event_severity (Critical, Major, Minor, Info),
/// event_type (event, alarm), resource_provider, resource_type and
/// resource_id; its entries become the event's labels. As the API
/// defines them, `metadata`, `annotations` and `attach_rule` are maps of
/// strings, and every number is an integer.
public enum HuaweiFormat {
    /// The events of a push body.
    /// - Parameters:
    ///   - clear: the request had `?action=clear`.
    ///   - defaultTimeout: auto-clear seconds for an alarm that gives none.
    public static func events(body: [UInt8], team: String, clear: Bool, defaultTimeout: Int,
                              now: Date) throws(IngestError) -> [Event] {
        try decodeJSONBody(HuaweiIngestBody.self, from: body).events.map {
            $0.event(team: team, clear: clear, defaultTimeout: defaultTimeout, now: now)
        }
    }
}

struct HuaweiIngestBody: Decodable {
    let events: [HuaweiEvent]

    private enum Keys: String, CodingKey { case events }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        events = try c.decode([HuaweiEvent].self, forKey: .events)
        guard !events.isEmpty else { throw IngestError("events", "must not be empty") }
    }
}

struct HuaweiEvent: Decodable {
    let id: String?
    let name: String
    let objectID: String
    let isAlarm: Bool
    let startsAt: Date?
    /// nil when absent or 0 ("not cleared").
    let endsAt: Date?
    let timeout: Int64?
    let metadata: [String: String]
    let severity: HuaweiSeverity
    let annotations: [String: String]
    let attachRule: [String: String]

    private enum Keys: String, CodingKey {
        case id, metadata, annotations, timeout
        case startsAt = "starts_at", endsAt = "ends_at", attachRule = "attach_rule"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let at = { (key: String) in FieldPath.of(decoder.codingPath, key) }
        id = try c.decodeIfPresent(String.self, forKey: .id)
        if let id, id.isEmpty { throw IngestError(at("id"), "must not be empty (leave it out for a new one)") }
        func time(_ key: Keys) throws -> Date? {
            guard let milliseconds = try c.decodeWholeNumber(forKey: key, at: at(key.stringValue)) else { return nil }
            guard let date = EventLimits.date(milliseconds: milliseconds) else {
                throw IngestError(at(key.stringValue), "\(EventLimits.rangeMessage) (Unix milliseconds)")
            }
            return date
        }
        startsAt = try time(.startsAt)
        let ended = try time(.endsAt)
        endsAt = ended?.timeIntervalSince1970 == 0 ? nil : ended
        if let startsAt, let endsAt, endsAt < startsAt {
            throw IngestError(at("ends_at"), "must not be before starts_at (0 means not cleared)")
        }
        timeout = try c.decodeWholeNumber(forKey: .timeout, at: at("timeout"))
        if let timeout, timeout < 0 { throw IngestError(at("timeout"), "must not be negative") }
        let metadata = try c.decode([String: String].self, forKey: .metadata)
        self.metadata = metadata
        func required(_ key: String) throws -> String {
            guard let value = metadata[key], !value.isEmpty else { throw IngestError(at("metadata.\(key)"), "required") }
            return value
        }
        name = try required("event_name")
        let severityName = try required("event_severity")
        guard let severity = HuaweiSeverity(rawValue: severityName) else {
            throw IngestError(at("metadata.event_severity"),
                              "unknown severity \"\(severityName)\" (use Critical, Major, Minor or Info)")
        }
        self.severity = severity
        let type = try required("event_type")
        guard type == "event" || type == "alarm" else {
            throw IngestError(at("metadata.event_type"), "expected \"event\" or \"alarm\", found \"\(type)\"")
        }
        isAlarm = type == "alarm"
        _ = try required("resource_provider")
        _ = try required("resource_type")
        objectID = try required("resource_id")
        annotations = try c.decodeIfPresent([String: String].self, forKey: .annotations) ?? [:]
        attachRule = try c.decodeIfPresent([String: String].self, forKey: .attachRule) ?? [:]
    }

    func event(team: String, clear: Bool, defaultTimeout: Int, now: Date) -> Event {
        var annotations = annotations
        for (key, value) in attachRule { annotations["attach_rule.\(key)"] = value }
        let ended = clear ? (endsAt ?? now) : nil
        return Event(
            id: id ?? UUID().uuidString, team: team, name: name, level: severity.level,
            status: clear ? .resolved : .firing, objectID: objectID, labels: metadata,
            annotations: annotations, startsAt: startsAt ?? min(now, ended ?? now), endsAt: ended,
            // One-shot events have nothing to clear; alarms clear themselves
            // after their timeout (clamped to a year, as documented).
            timeoutSeconds: clear || !isAlarm ? nil
                : timeout.map(EventLimits.timeoutSeconds(milliseconds:)) ?? defaultTimeout,
            policyID: attachRule["policy_id"], source: "huawei")
    }
}
