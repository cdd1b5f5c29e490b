import Foundation
import HeraldCore

/// The body of Huawei Cloud's `PUT /v2/{project_id}/push/events`
/// (AOM PushEvents): `{"events":[EventModel...]}`.
///
/// Times are Unix milliseconds; `timeout` is milliseconds too. Metadata
/// must carry event_name, event_severity (Critical, Major, Minor, Info),
/// event_type (event, alarm), resource_provider, resource_type and
/// resource_id; its entries become the event's labels.
struct HuaweiIngestBody: Decodable {
    let events: [HuaweiEvent]

    private enum Keys: String, CodingKey { case events }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        events = try c.decode([HuaweiEvent].self, forKey: .events)
        guard !events.isEmpty else { throw APIError.badRequest("events", "must not be empty") }
    }
}

struct HuaweiEvent: Decodable {
    static let requiredMetadata = ["event_name", "event_severity", "event_type", "resource_provider",
                                   "resource_type", "resource_id"]

    let id: String?
    let startsAt: Int64?
    let endsAt: Int64?
    let timeout: Int64?
    let metadata: [String: String]
    let severity: HuaweiSeverity
    let annotations: [String: String]
    let attachRule: [String: String]
    /// Where this event sits in the request, for errors found after decoding.
    let path: String

    private enum Keys: String, CodingKey {
        case id, metadata, annotations, timeout
        case startsAt = "starts_at", endsAt = "ends_at", attachRule = "attach_rule"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        path = FieldPath.of(decoder.codingPath)
        let at = { (key: String) in FieldPath.of(decoder.codingPath, key) }
        id = try c.decodeIfPresent(String.self, forKey: .id)
        startsAt = try c.decodeIfPresent(Int64.self, forKey: .startsAt)
        endsAt = try c.decodeIfPresent(Int64.self, forKey: .endsAt)
        timeout = try c.decodeIfPresent(Int64.self, forKey: .timeout)
        for (key, value) in [("starts_at", startsAt), ("ends_at", endsAt), ("timeout", timeout)] {
            if let value, value < 0 { throw APIError.badRequest(at(key), "must not be negative") }
        }
        metadata = try c.decode([String: String].self, forKey: .metadata)
        for key in Self.requiredMetadata where (metadata[key] ?? "").isEmpty {
            throw APIError.badRequest(at("metadata.\(key)"), "required")
        }
        guard let severity = HuaweiSeverity(rawValue: metadata["event_severity"]!) else {
            throw APIError.badRequest(at("metadata.event_severity"),
                                      "unknown severity \"\(metadata["event_severity"]!)\" (use Critical, Major, Minor or Info)")
        }
        self.severity = severity
        guard ["event", "alarm"].contains(metadata["event_type"]!) else {
            throw APIError.badRequest(at("metadata.event_type"), "expected \"event\" or \"alarm\", found \"\(metadata["event_type"]!)\"")
        }
        annotations = try Self.flatten(c.decodeIfPresent(JSONValueMap.self, forKey: .annotations))
        attachRule = try Self.flatten(c.decodeIfPresent(JSONValueMap.self, forKey: .attachRule))
    }

    /// - Parameters:
    ///   - clear: the request had `?action=clear`.
    ///   - defaultTimeout: auto-clear seconds for an alarm that gives none.
    func event(team: String, clear: Bool, defaultTimeout: Int, now: Date) -> Event {
        var annotations = annotations
        for (key, value) in attachRule { annotations["attach_rule.\(key)"] = value }
        let isAlarm = metadata["event_type"] == "alarm"
        return Event(
            id: id ?? UUID().uuidString, team: team, name: metadata["event_name"]!, level: severity.level,
            status: clear ? .resolved : .firing, objectID: metadata["resource_id"]!, labels: metadata,
            annotations: annotations,
            startsAt: startsAt.map { Date(timeIntervalSince1970: Double($0) / 1000) } ?? now,
            endsAt: clear ? (endsAt.flatMap { $0 > 0 ? Date(timeIntervalSince1970: Double($0) / 1000) : nil } ?? now) : nil,
            // One-shot events have nothing to clear; alarms clear themselves after their timeout.
            timeoutSeconds: clear || !isAlarm ? nil : timeout.map { Int(($0 + 999) / 1000) } ?? defaultTimeout,
            policyID: attachRule["policy_id"], source: "huawei")
    }

    private static func flatten(_ map: JSONValueMap?) -> [String: String] {
        (map?.values ?? [:]).mapValues { $0.stringValue ?? $0.jsonText }
    }
}

/// A JSON object whose values may be of any type.
struct JSONValueMap: Decodable {
    let values: [String: JSONValue]
    init(from decoder: any Decoder) throws { values = try [String: JSONValue](from: decoder) }
}
