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
        return Data(JSONValue.object(members).jsonText.utf8)
    }

    init(stored data: Data) throws {
        let value = try JSONDecoder().decode(JSONValue.self, from: data)
        func string(_ key: String) throws -> String {
            guard let text = value[key]?.stringValue else { throw StoredEventError(field: key) }
            return text
        }
        func number(_ key: String) -> Double? {
            if case .number(let number)? = value[key] { return number }
            return nil
        }
        func strings(_ key: String) -> [String: String] {
            (value[key]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        }
        guard let level = Level(rawValue: try string("level")) else { throw StoredEventError(field: "level") }
        guard let status = EventStatus(rawValue: try string("status")) else { throw StoredEventError(field: "status") }
        guard let startsAt = number("starts_at") else { throw StoredEventError(field: "starts_at") }
        self.init(id: try string("id"), team: try string("team"), name: try string("name"), level: level,
                  status: status, objectID: try string("object_id"), labels: strings("labels"),
                  annotations: strings("annotations"), startsAt: Date(timeIntervalSince1970: startsAt),
                  endsAt: number("ends_at").map(Date.init(timeIntervalSince1970:)),
                  timeoutSeconds: number("timeout").map { Int($0) }, policyID: value["policy"]?.stringValue,
                  source: (try? string("source")) ?? "native")
    }
}

struct StoredEventError: Error, CustomStringConvertible {
    let field: String
    var description: String { "stored event has no valid \(field)" }
}
