import HeraldCore

/// Typed reads of a tree's object members, with `IngestError`s worded as
/// `IngestError(decoding:)` words Foundation's. `path` is the object's
/// field path, "" for the body.
enum TreeReader {
    typealias Members = [(key: String, value: JSONShape.Value)]

    static func field(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    static func members(of value: JSONShape.Value, at path: String) throws(IngestError) -> Members {
        switch value {
        case .object(let members): return members
        case .null: throw IngestError(path.isEmpty ? "body" : path, "expected an object, found null")
        default: throw IngestError(path.isEmpty ? "body" : path, "expected an object")
        }
    }

    /// The items of an array at `field`.
    static func items(_ value: JSONShape.Value, at field: String) throws(IngestError) -> [JSONShape.Value] {
        switch value {
        case .array(let items): return items
        case .null: throw IngestError(field, "expected an array, found null")
        default: throw IngestError(field, "expected an array")
        }
    }

    static func member(_ members: Members, _ key: String) -> JSONShape.Value? {
        members.first { $0.key == key }?.value
    }

    /// A member that must be there and not null; `kind` names what it should be.
    static func required(_ members: Members, _ key: String, at path: String, _ kind: String) throws(IngestError) -> JSONShape.Value {
        switch member(members, key) {
        case nil: throw IngestError(field(path, key), "required")
        case .null?: throw IngestError(field(path, key), "expected \(kind), found null")
        case let value?: return value
        }
    }

    /// A member read by `read` when there and not null.
    static func optional<T>(_ members: Members, _ key: String, at path: String,
                            _ read: (JSONShape.Value, String) throws(IngestError) -> T) throws(IngestError) -> T? {
        switch member(members, key) {
        case nil, .null?: return nil
        case let value?: return try read(value, field(path, key))
        }
    }

    static func string(_ members: Members, _ key: String, at path: String) throws(IngestError) -> String {
        try string(required(members, key, at: path, "a string"), at: field(path, key))
    }

    static func string(_ value: JSONShape.Value, at field: String) throws(IngestError) -> String {
        guard case .string(let text) = value else { throw IngestError(field, "expected a string") }
        return text
    }

    static func strings(_ value: JSONShape.Value, at field: String) throws(IngestError) -> [String: String] {
        guard case .object(let entries) = value else { throw IngestError(field, "expected an object") }
        var strings: [String: String] = [:]
        strings.reserveCapacity(entries.count)
        for (name, value) in entries {
            switch value {
            case .string(let text): strings[name] = text
            case .null: throw IngestError("\(field).\(FieldPath.name(name))", "expected a string, found null")
            default: throw IngestError("\(field).\(FieldPath.name(name))", "expected a string")
            }
        }
        return strings
    }

    /// A JSON number that must be a whole number, as `decodeWholeNumber`
    /// reads it for the decoder: refused when fractional or not finite,
    /// clamped to Int64's range.
    static func wholeNumber(_ value: JSONShape.Value, at field: String) throws(IngestError) -> Int64 {
        guard case .number(let number) = value else { throw IngestError(field, "expected an integer") }
        guard number.isFinite else { throw IngestError(field, "expected an integer in range") }
        guard number == number.rounded() else { throw IngestError(field, "expected an integer") }
        return Int64(exactly: number) ?? (number < 0 ? .min : .max)
    }
}
