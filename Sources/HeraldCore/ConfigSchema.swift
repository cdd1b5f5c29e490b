import Foundation

/// The JSON Schema a plugin declares for its endpoint config, and the
/// checks the host runs against it.
///
/// Only the subset the ABI documents is understood: type, properties,
/// required, additionalProperties (false), enum, minimum, maximum,
/// minLength, maxLength, pattern, items, minItems, default, plus Herald's
/// `x-herald-template`, `x-herald-secret` and `x-herald-levels` markers.
public struct ConfigSchema: Sendable {
    public let root: JSONValue

    public init(json: String) throws {
        root = try JSONValue.parse(json)
        guard root.objectValue != nil else { throw SchemaError(path: "", message: "the schema is not a JSON object") }
    }

    /// Top-level string properties the host renders per message.
    public var templateFields: [String] { properties(marked: "x-herald-template") }

    /// Top-level properties never logged or shown.
    public var secretFields: [String] { properties(marked: "x-herald-secret") }

    /// Each top-level property's name, type, default and description, for `herald plugins list`.
    public var fields: [(name: String, type: String, required: Bool, template: Bool, secret: Bool, description: String)] {
        let required = Set(root["required"].flatMap(Self.strings) ?? [])
        return (root["properties"]?.objectValue ?? [:]).sorted { $0.key < $1.key }.map { name, spec in
            (name, spec["type"]?.stringValue ?? "any", required.contains(name),
             spec["x-herald-template"] == .bool(true), spec["x-herald-secret"] == .bool(true),
             spec["description"]?.stringValue ?? "")
        }
    }

    /// Checks `value` against the schema.
    /// - Throws: `SchemaError` whose path names the first bad field ("headers.X-Token").
    public func validate(_ value: JSONValue) throws(SchemaError) {
        try Self.check(value, against: root, path: "")
    }

    private func properties(marked marker: String) -> [String] {
        (root["properties"]?.objectValue ?? [:]).filter { $0.value[marker] == .bool(true) }.map(\.key).sorted()
    }

    private static func strings(_ value: JSONValue) -> [String]? {
        guard case .array(let items) = value else { return nil }
        return items.compactMap(\.stringValue)
    }

    private static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private static func check(_ value: JSONValue, against schema: JSONValue, path: String) throws(SchemaError) {
        let name = path.isEmpty ? "config" : path
        if let type = schema["type"]?.stringValue, !matches(value, type: type) {
            throw SchemaError(path: path, message: "\(name): expected \(type), found \(value.typeName)")
        }
        if case .array(let allowed)? = schema["enum"], !allowed.contains(value) {
            let list = allowed.map(\.jsonText).joined(separator: ", ")
            throw SchemaError(path: path, message: "\(name): \(value.jsonText) is not one of \(list)")
        }
        switch value {
        case .string(let text):
            if case .number(let min)? = schema["minLength"], Double(text.count) < min {
                throw SchemaError(path: path, message: "\(name): shorter than \(JSONValue.number(min).jsonText) characters")
            }
            if case .number(let max)? = schema["maxLength"], Double(text.count) > max {
                throw SchemaError(path: path, message: "\(name): longer than \(JSONValue.number(max).jsonText) characters")
            }
            if let pattern = schema["pattern"]?.stringValue,
               let regex = try? NSRegularExpression(pattern: pattern),
               regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil {
                throw SchemaError(path: path, message: "\(name): does not match \(pattern)")
            }
        case .number(let number):
            if case .number(let min)? = schema["minimum"], number < min {
                throw SchemaError(path: path, message: "\(name): must be at least \(JSONValue.number(min).jsonText)")
            }
            if case .number(let max)? = schema["maximum"], number > max {
                throw SchemaError(path: path, message: "\(name): must be at most \(JSONValue.number(max).jsonText)")
            }
        case .array(let items):
            if case .number(let min)? = schema["minItems"], Double(items.count) < min {
                throw SchemaError(path: path, message: "\(name): needs at least \(JSONValue.number(min).jsonText) items")
            }
            if let itemSchema = schema["items"] {
                for (index, item) in items.enumerated() {
                    try check(item, against: itemSchema, path: "\(path)[\(index)]")
                }
            }
            // A list of alert levels (any case), which a form draws as level checkboxes.
            if schema["x-herald-levels"] == .bool(true) {
                for (index, item) in items.enumerated() where item.stringValue.flatMap(Level.init(name:)) == nil {
                    let names = Level.allCases.map(\.rawValue).joined(separator: ", ")
                    throw SchemaError(path: "\(path)[\(index)]", message: "\(name)[\(index)]: \(item.jsonText) is not a level (\(names))")
                }
            }
        case .object(let members):
            let properties = schema["properties"]?.objectValue ?? [:]
            for required in schema["required"].flatMap(strings) ?? [] where members[required] == nil {
                let field = join(path, required)
                throw SchemaError(path: field, message: "\(field): required")
            }
            for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                if let propertySchema = properties[key] {
                    try check(member, against: propertySchema, path: join(path, key))
                } else if schema["additionalProperties"] == .bool(false) {
                    let field = join(path, key)
                    let known = properties.keys.sorted().joined(separator: ", ")
                    throw SchemaError(path: field, message: "\(field): unknown field (known: \(known))")
                } else if let additional = schema["additionalProperties"], additional.objectValue != nil {
                    try check(member, against: additional, path: join(path, key))
                }
            }
        case .null, .bool:
            break
        }
    }

    private static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("string", .string), ("boolean", .bool), ("number", .number), ("array", .array),
             ("object", .object), ("null", .null):
            return true
        case ("integer", .number(let number)):
            return number == number.rounded()
        default:
            return false
        }
    }
}

public struct SchemaError: Error, Sendable, CustomStringConvertible {
    /// Dotted path of the bad field ("" for the whole config).
    public let path: String
    public let message: String
    public var description: String { message }
}
