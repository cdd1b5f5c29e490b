public import HeraldPluginKit

/// Where a callback adapter takes a field's value from, in order of
/// preference: `labels.KEY`, `annotations.KEY`, an event field (`name`,
/// `object_id`, `id`, `policy`, `policy_matchers`, `team`, `level`, `event_level`, `status`,
/// `dedup_key`, `starts_at`, `ends_at`), or `=text` for a fixed value.
public struct FieldSources: Sendable, Equatable {
    public var sources: [String]

    public init(_ sources: [String]) { self.sources = sources }

    /// The first source that has a value for `event`.
    public func value(in event: Event) -> String? {
        for source in sources {
            if source.hasPrefix("=") { return String(source.dropFirst()) }
            if source.hasPrefix("labels.") {
                if let value = event.labels[String(source.dropFirst(7))] { return value }
            } else if source.hasPrefix("annotations.") {
                if let value = event.annotations[String(source.dropFirst(12))] { return value }
            } else if let value = Self.eventField(source, event) {
                return value
            }
        }
        return nil
    }

    static let eventFields = ["name", "object_id", "id", "policy", "policy_matchers", "team", "level", "event_level",
                              "status", "dedup_key", "starts_at", "ends_at"]

    static func eventField(_ name: String, _ event: Event) -> String? {
        switch name {
        case "name": event.name
        case "object_id": event.objectID
        case "id": event.id
        case "policy": event.policy
        case "policy_matchers": event.policyMatchers
        case "team": event.team
        case "level": event.level.rawValue
        case "event_level": event.eventLevel.rawValue
        case "status": event.status
        case "dedup_key": event.dedupKey
        case "starts_at": event.startsAt
        case "ends_at": event.endsAt
        default: nil
        }
    }

    /// Checks an endpoint's `fields` option: known field names, sources of a known kind.
    static func parse(_ mapping: [String: [String]], allowed: [String]) throws(ConfigProblem) -> [String: FieldSources] {
        var parsed: [String: FieldSources] = [:]
        for (field, sources) in mapping {
            guard allowed.contains(field) else {
                throw ConfigProblem(field: "fields.\(field)", "not a field of this format (\(allowed.joined(separator: ", ")))")
            }
            for source in sources where !(source.hasPrefix("=") || source.hasPrefix("labels.")
                                          || source.hasPrefix("annotations.") || eventFields.contains(source)) {
                throw ConfigProblem(field: "fields.\(field)",
                                    "\"\(source)\" is not labels.KEY, annotations.KEY, =text or one of \(eventFields.joined(separator: ", "))")
            }
            parsed[field] = FieldSources(sources)
        }
        return parsed
    }
}

/// A `fields` option value: one source or a list of them.
struct SourceList: Decodable, Sendable {
    let sources: [String]

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let one = try? container.decode(String.self) { sources = [one] } else { sources = try container.decode([String].self) }
    }
}
