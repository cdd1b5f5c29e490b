public import Foundation
public import HeraldCore

/// Herald's own ingest format: one event object, or `{"events":[...]}`.
///
/// ```json
/// {"name": "HighCPU", "level": "Critical", "object_id": "host-1",
///  "labels": {"service": "api"}, "annotations": {"summary": "CPU at 97%"},
///  "status": "firing", "timeout": 3600}
/// ```
public enum NativeFormat {
    /// The events of a `POST /api/v1/events` body.
    public static func events(body: [UInt8], team: String, now: Date) throws(IngestError) -> [Event] {
        try NativeIngestBody(parseJSONBody(body)).events.map { $0.event(team: team, now: now) }
    }

    /// The same through Foundation's decoder (the `Decodable` conformances
    /// below): the reference the fuzz target holds the tree reader to.
    /// Events given no id get a random one, so the fuzz target compares all but ids.
    static func decodedEvents(body: [UInt8], team: String, now: Date) throws(IngestError) -> [Event] {
        try decodeJSONBody(NativeIngestBody.self, from: body).events.map { $0.event(team: team, now: now) }
    }
}

struct NativeIngestBody: Decodable {
    let events: [NativeEvent]

    private enum Keys: String, CodingKey { case events }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        if container.contains(.events) {
            events = try container.decode([NativeEvent].self, forKey: .events)
            guard !events.isEmpty else { throw IngestError("events", "must not be empty") }
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
        if let id, id.isEmpty { throw IngestError(at(.id), "must not be empty (leave it out for a new one)") }
        name = try c.decode(String.self, forKey: .name)
        guard !name.isEmpty else { throw IngestError(at(.name), "must not be empty") }
        let levelName = try c.decode(String.self, forKey: .level)
        guard let level = Level(name: levelName), level != .recovery else {
            throw IngestError(at(.level), "unknown level \"\(levelName)\" (use Critical, Error, Warning or Info; send status \"resolved\" to recover)")
        }
        self.level = level
        let statusName = try c.decodeIfPresent(String.self, forKey: .status) ?? "firing"
        guard let status = EventStatus(rawValue: statusName) else {
            throw IngestError(at(.status), "expected \"firing\" or \"resolved\", found \"\(statusName)\"")
        }
        self.status = status
        objectID = try c.decode(String.self, forKey: .objectID)
        guard !objectID.isEmpty else { throw IngestError(at(.objectID), "must not be empty") }
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        annotations = try c.decodeIfPresent([String: String].self, forKey: .annotations) ?? [:]
        func date(_ key: Keys) throws -> Date? {
            guard let text = try c.decodeIfPresent(String.self, forKey: key) else { return nil }
            guard let date = Timestamp.parse(text) else {
                throw IngestError(at(key), "expected an RFC 3339 time such as 2026-11-22T10:00:00Z")
            }
            guard EventLimits.contains(date) else { throw IngestError(at(key), EventLimits.rangeMessage) }
            return date
        }
        startsAt = try date(.startsAt)
        endsAt = try date(.endsAt)
        if let startsAt, let endsAt, endsAt < startsAt {
            throw IngestError(at(.endsAt), "must not be before starts_at")
        }
        let timeout = try c.decodeWholeNumber(forKey: .timeout, at: at(.timeout))
        if let timeout, timeout < 0 { throw IngestError(at(.timeout), "must not be negative") }
        // Clamped, as documented: a timeout past a year is a year.
        self.timeout = timeout.map { Int(min($0, Int64(EventLimits.maxTimeoutSeconds))) }
        policy = try c.decodeIfPresent(String.self, forKey: .policy)
    }

    func event(team: String, now: Date) -> Event {
        Event(id: id ?? UUID().uuidString, team: team, name: name, level: level, status: status, objectID: objectID,
              labels: labels, annotations: annotations, startsAt: startsAt ?? now,
              endsAt: endsAt ?? (status == .resolved ? now : nil), timeoutSeconds: timeout, policyID: policy,
              source: "native")
    }
}

// MARK: - Reading the checked tree
//
// Read from `JSONShape`'s tree rather than with `JSONDecoder`, which was 27 %
// of the daemon's CPU in batched native ingest (100 events per request, a
// perf profile during `ONLY=http scripts/benchmark.sh`'s ingest run). Each
// check runs in the order of the `Decodable` initialisers above, with the
// same field and message; the fuzz target checks both on every input.

extension NativeIngestBody {
    init(_ value: JSONShape.Value) throws(IngestError) {
        let members = try TreeReader.members(of: value, at: "")
        // Like `contains`: a member named events, whatever its value.
        if let list = TreeReader.member(members, "events") {
            if case .null = list { throw IngestError("events", "expected an array, found null") }
            guard case .array(let items) = list else { throw IngestError("events", "expected an array") }
            var events: [NativeEvent] = []
            events.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                let path = "events[\(index)]"
                events.append(try NativeEvent(TreeReader.members(of: item, at: path), at: path))
            }
            guard !events.isEmpty else { throw IngestError("events", "must not be empty") }
            self.events = events
        } else {
            events = [try NativeEvent(members, at: "")]
        }
    }
}

extension NativeEvent {
    init(_ members: TreeReader.Members, at path: String) throws(IngestError) {
        let at = { (key: String) in TreeReader.field(path, key) }
        id = try TreeReader.optional(members, "id", at: path, TreeReader.string(_:at:))
        if let id, id.isEmpty { throw IngestError(at("id"), "must not be empty (leave it out for a new one)") }
        name = try TreeReader.string(members, "name", at: path)
        guard !name.isEmpty else { throw IngestError(at("name"), "must not be empty") }
        let levelName = try TreeReader.string(members, "level", at: path)
        guard let level = Level(name: levelName), level != .recovery else {
            throw IngestError(at("level"), "unknown level \"\(levelName)\" (use Critical, Error, Warning or Info; send status \"resolved\" to recover)")
        }
        self.level = level
        let statusName = try TreeReader.optional(members, "status", at: path, TreeReader.string(_:at:)) ?? "firing"
        guard let status = EventStatus(rawValue: statusName) else {
            throw IngestError(at("status"), "expected \"firing\" or \"resolved\", found \"\(statusName)\"")
        }
        self.status = status
        objectID = try TreeReader.string(members, "object_id", at: path)
        guard !objectID.isEmpty else { throw IngestError(at("object_id"), "must not be empty") }
        labels = try TreeReader.optional(members, "labels", at: path, TreeReader.strings(_:at:)) ?? [:]
        annotations = try TreeReader.optional(members, "annotations", at: path, TreeReader.strings(_:at:)) ?? [:]
        func date(_ key: String) throws(IngestError) -> Date? {
            guard let text = try TreeReader.optional(members, key, at: path, TreeReader.string(_:at:)) else { return nil }
            guard let date = Timestamp.parse(text) else {
                throw IngestError(at(key), "expected an RFC 3339 time such as 2026-11-22T10:00:00Z")
            }
            guard EventLimits.contains(date) else { throw IngestError(at(key), EventLimits.rangeMessage) }
            return date
        }
        startsAt = try date("starts_at")
        endsAt = try date("ends_at")
        if let startsAt, let endsAt, endsAt < startsAt {
            throw IngestError(at("ends_at"), "must not be before starts_at")
        }
        let timeout = try TreeReader.optional(members, "timeout", at: path, TreeReader.wholeNumber(_:at:))
        if let timeout, timeout < 0 { throw IngestError(at("timeout"), "must not be negative") }
        // Clamped, as documented: a timeout past a year is a year.
        self.timeout = timeout.map { Int(min($0, Int64(EventLimits.maxTimeoutSeconds))) }
        policy = try TreeReader.optional(members, "policy", at: path, TreeReader.string(_:at:))
    }
}
