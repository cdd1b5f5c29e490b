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

    /// Reads a stored body from `JSONShape`'s tree rather than with
    /// `JSONDecoder`: paging in a backlog decodes one body per delivery, and
    /// the decoder was 5 % of the daemon's CPU in
    /// `PROFILE=burst100 ONLY=alertmanager scripts/benchmark.sh`.
    init(stored data: Data) throws {
        guard case .object(let members)? = try? JSONShape.parse(Array(data)) else { throw StoredEventError(field: "body") }
        var text: [String: String] = [:]
        var maps: [String: [String: String]] = [:]
        var numbers: [String: Double] = [:]
        for (key, value) in members {
            switch value {
            case .string(let string): text[key] = string
            case .number(let number): numbers[key] = number
            case .object(let entries):
                var map: [String: String] = [:]
                for (name, entry) in entries {
                    guard case .string(let string) = entry else { throw StoredEventError(field: "\(key).\(name)") }
                    map[name] = string
                }
                maps[key] = map
            default: continue  // null: an absent optional key
            }
        }
        func required<T>(_ table: [String: T], _ key: String) throws -> T {
            guard let value = table[key] else { throw StoredEventError(field: key) }
            return value
        }
        guard let level = Level(rawValue: try required(text, "level")) else { throw StoredEventError(field: "level") }
        guard let status = EventStatus(rawValue: try required(text, "status")) else { throw StoredEventError(field: "status") }
        let startsAt = try required(numbers, "starts_at")
        let endsAt = numbers["ends_at"]
        guard startsAt.isFinite else { throw StoredEventError(field: "starts_at") }
        guard endsAt?.isFinite ?? true else { throw StoredEventError(field: "ends_at") }
        var timeout: Int?
        if let seconds = numbers["timeout"] {
            guard let whole = Int(exactly: seconds) else { throw StoredEventError(field: "timeout") }
            timeout = whole
        }
        self.init(id: try required(text, "id"), team: try required(text, "team"), name: try required(text, "name"),
                  level: level, status: status, objectID: try required(text, "object_id"),
                  labels: try required(maps, "labels"), annotations: try required(maps, "annotations"),
                  startsAt: Date(timeIntervalSince1970: startsAt),
                  endsAt: endsAt.map(Date.init(timeIntervalSince1970:)), timeoutSeconds: timeout,
                  policyID: text["policy"], source: text["source"] ?? "native")
    }
}

struct StoredEventError: Error, CustomStringConvertible {
    let field: String
    var description: String { "stored event has no valid \(field)" }
}
