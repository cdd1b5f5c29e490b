import Foundation
import HeraldCore

/// Herald's own ingest format: one event object, or `{"events":[...]}`.
///
/// ```json
/// {"name": "HighCPU", "level": "Critical", "object_id": "host-1",
///  "labels": {"service": "api"}, "annotations": {"summary": "CPU at 97%"},
///  "status": "firing", "timeout": 3600}
/// ```
struct NativeIngestBody: Decodable {
    let events: [NativeEvent]

    private enum Keys: String, CodingKey { case events }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        if container.contains(.events) {
            events = try container.decode([NativeEvent].self, forKey: .events)
            guard !events.isEmpty else { throw APIError.badRequest("events", "must not be empty") }
        } else {
            events = [try NativeEvent(from: decoder)]
        }
    }
}

struct NativeEvent: Decodable {
    let id: String?
    let name: String
    let level: Level
    let status: EventStatus
    let objectID: String
    let labels: [String: String]
    let annotations: [String: String]
    let startsAt: Date?
    let endsAt: Date?
    let timeout: Int?
    let policy: String?

    private enum Keys: String, CodingKey {
        case id, name, level, status, labels, annotations, timeout, policy
        case objectID = "object_id", startsAt = "starts_at", endsAt = "ends_at"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let at = { (key: Keys) in FieldPath.of(decoder.codingPath, key.stringValue) }
        id = try c.decodeIfPresent(String.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        guard !name.isEmpty else { throw APIError.badRequest(at(.name), "must not be empty") }
        let levelName = try c.decode(String.self, forKey: .level)
        guard let level = Level(name: levelName), level != .recovery else {
            throw APIError.badRequest(at(.level), "unknown level \"\(levelName)\" (use Critical, Error, Warning or Info; send status \"resolved\" to recover)")
        }
        self.level = level
        let statusName = try c.decodeIfPresent(String.self, forKey: .status) ?? "firing"
        guard let status = EventStatus(rawValue: statusName) else {
            throw APIError.badRequest(at(.status), "expected \"firing\" or \"resolved\", found \"\(statusName)\"")
        }
        self.status = status
        objectID = try c.decode(String.self, forKey: .objectID)
        guard !objectID.isEmpty else { throw APIError.badRequest(at(.objectID), "must not be empty") }
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        annotations = try c.decodeIfPresent([String: String].self, forKey: .annotations) ?? [:]
        func date(_ key: Keys) throws -> Date? {
            guard let text = try c.decodeIfPresent(String.self, forKey: key) else { return nil }
            guard let date = Timestamp.parse(text) else {
                throw APIError.badRequest(at(key), "expected an RFC 3339 time such as 2026-11-22T10:00:00Z")
            }
            return date
        }
        startsAt = try date(.startsAt)
        endsAt = try date(.endsAt)
        timeout = try c.decodeIfPresent(Int.self, forKey: .timeout)
        if let timeout, timeout < 0 { throw APIError.badRequest(at(.timeout), "must not be negative") }
        policy = try c.decodeIfPresent(String.self, forKey: .policy)
    }

    func event(team: String, now: Date) -> Event {
        Event(id: id ?? UUID().uuidString, team: team, name: name, level: level, status: status, objectID: objectID,
              labels: labels, annotations: annotations, startsAt: startsAt ?? now,
              endsAt: endsAt ?? (status == .resolved ? now : nil), timeoutSeconds: timeout, policyID: policy,
              source: "native")
    }
}
