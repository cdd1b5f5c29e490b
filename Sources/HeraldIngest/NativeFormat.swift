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
        id = try Self.checkedID(c.decodeIfPresent(String.self, forKey: .id), at: at(.id))
        name = try Self.nonEmpty(c.decode(String.self, forKey: .name), at: at(.name))
        level = try Self.level(named: c.decode(String.self, forKey: .level), at: at(.level))
        status = try Self.status(named: c.decodeIfPresent(String.self, forKey: .status), at: at(.status))
        objectID = try Self.nonEmpty(c.decode(String.self, forKey: .objectID), at: at(.objectID))
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        annotations = try c.decodeIfPresent([String: String].self, forKey: .annotations) ?? [:]
        startsAt = try Self.time(c.decodeIfPresent(String.self, forKey: .startsAt), at: at(.startsAt))
        endsAt = try Self.time(c.decodeIfPresent(String.self, forKey: .endsAt), at: at(.endsAt))
        try Self.checkOrder(startsAt, endsAt, at: at(.endsAt))
        timeout = try Self.timeout(c.decodeWholeNumber(forKey: .timeout, at: at(.timeout)), at: at(.timeout))
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
            let items = try TreeReader.items(list, at: "events")
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
        let string = { (key: String) throws(IngestError) in
            try TreeReader.optional(members, key, at: path, TreeReader.string(_:at:))
        }
        id = try Self.checkedID(string("id"), at: at("id"))
        name = try Self.nonEmpty(TreeReader.string(members, "name", at: path), at: at("name"))
        level = try Self.level(named: TreeReader.string(members, "level", at: path), at: at("level"))
        status = try Self.status(named: string("status"), at: at("status"))
        objectID = try Self.nonEmpty(TreeReader.string(members, "object_id", at: path), at: at("object_id"))
        labels = try TreeReader.optional(members, "labels", at: path, TreeReader.strings(_:at:)) ?? [:]
        annotations = try TreeReader.optional(members, "annotations", at: path, TreeReader.strings(_:at:)) ?? [:]
        startsAt = try Self.time(string("starts_at"), at: at("starts_at"))
        endsAt = try Self.time(string("ends_at"), at: at("ends_at"))
        try Self.checkOrder(startsAt, endsAt, at: at("ends_at"))
        timeout = try Self.timeout(TreeReader.optional(members, "timeout", at: path, TreeReader.wholeNumber(_:at:)),
                                   at: at("timeout"))
        policy = try string("policy")
    }
}

// MARK: - The checks both readers make of a field's value

extension NativeEvent {
    static func checkedID(_ id: String?, at field: String) throws(IngestError) -> String? {
        if let id, id.isEmpty { throw IngestError(field, "must not be empty (leave it out for a new one)") }
        return id
    }

    static func nonEmpty(_ text: String, at field: String) throws(IngestError) -> String {
        guard !text.isEmpty else { throw IngestError(field, "must not be empty") }
        return text
    }

    static func level(named name: String, at field: String) throws(IngestError) -> Level {
        guard let level = Level(name: name), level != .recovery else {
            throw IngestError(field, "unknown level \"\(name)\" (use Critical, Error, Warning or Info; send status \"resolved\" to recover)")
        }
        return level
    }

    /// Firing when not given.
    static func status(named name: String?, at field: String) throws(IngestError) -> EventStatus {
        let name = name ?? "firing"
        guard let status = EventStatus(rawValue: name) else {
            throw IngestError(field, "expected \"firing\" or \"resolved\", found \"\(name)\"")
        }
        return status
    }

    static func time(_ text: String?, at field: String) throws(IngestError) -> Date? {
        guard let text else { return nil }
        guard let date = Timestamp.parse(text) else {
            throw IngestError(field, "expected an RFC 3339 time such as 2026-11-22T10:00:00Z")
        }
        guard EventLimits.contains(date) else { throw IngestError(field, EventLimits.rangeMessage) }
        return date
    }

    static func checkOrder(_ startsAt: Date?, _ endsAt: Date?, at field: String) throws(IngestError) {
        if let startsAt, let endsAt, endsAt < startsAt { throw IngestError(field, "must not be before starts_at") }
    }

    /// Clamped, as documented: a timeout past a year is a year.
    static func timeout(_ seconds: Int64?, at field: String) throws(IngestError) -> Int? {
        guard let seconds else { return nil }
        guard seconds >= 0 else { throw IngestError(field, "must not be negative") }
        return Int(min(seconds, Int64(EventLimits.maxTimeoutSeconds)))
    }
}
