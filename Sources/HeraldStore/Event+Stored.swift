import Foundation
import HeraldCore

/// How an event is kept in the `event.body` column: a JSON object with
/// fixed keys and Unix-second times.
///
/// Written with `JSONValue` rather than `Codable`, which is slow on the
/// ingest path and would tie the stored format to Swift property names.
/// Only ever add keys; a reader must accept rows written before them.
extension Event {
    var storedJSON: Data {
        var members: [String: JSONValue] = [
            "id": .string(id), "team": .string(team), "name": .string(name), "level": .string(level.rawValue),
            "status": .string(status.rawValue), "object_id": .string(objectID),
            "labels": .object(labels.mapValues(JSONValue.string)),
            "annotations": .object(annotations.mapValues(JSONValue.string)),
            "starts_at": .number(startsAt.timeIntervalSince1970), "source": .string(source),
        ]
        if let endsAt { members["ends_at"] = .number(endsAt.timeIntervalSince1970) }
        if let timeoutSeconds { members["timeout"] = .number(Double(timeoutSeconds)) }
        if let policyID { members["policy"] = .string(policyID) }
        return Data(JSONValue.object(members).jsonBytes)
    }

    init(stored data: Data) throws {
        let stored = try JSONDecoder().decode(StoredEvent.self, from: data)
        guard let level = Level(rawValue: stored.level) else { throw StoredEventError(field: "level") }
        guard let status = EventStatus(rawValue: stored.status) else { throw StoredEventError(field: "status") }
        self.init(id: stored.id, team: stored.team, name: stored.name, level: level, status: status,
                  objectID: stored.objectID, labels: stored.labels, annotations: stored.annotations,
                  startsAt: Date(timeIntervalSince1970: stored.startsAt),
                  endsAt: stored.endsAt.map(Date.init(timeIntervalSince1970:)), timeoutSeconds: stored.timeout,
                  policyID: stored.policy, source: stored.source ?? "native")
    }
}

/// The stored keys, for decoding (a struct decodes several times faster
/// than a generic `JSONValue`, which matters when a backlog is paged in).
private struct StoredEvent: Decodable {
    let id, team, name, level, status, objectID: String
    let labels, annotations: [String: String]
    let startsAt: Double
    let endsAt: Double?
    let timeout: Int?
    let policy, source: String?

    enum CodingKeys: String, CodingKey {
        case id, team, name, level, status, labels, annotations, timeout, policy, source
        case objectID = "object_id", startsAt = "starts_at", endsAt = "ends_at"
    }
}

struct StoredEventError: Error, CustomStringConvertible {
    let field: String
    var description: String { "stored event has no valid \(field)" }
}
