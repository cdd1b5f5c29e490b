import Foundation
import HeraldCore

/// Decodes a JSON request body into `T`, turning every failure into an
/// `IngestError` that names the field: "events[2].metadata.event_severity:
/// expected a string". A body that is not UTF-8, not one JSON text, nested
/// too deeply or that names a key twice in one object is refused before
/// decoding.
public func decodeJSONBody<T: Decodable>(_ type: T.Type, from body: [UInt8]) throws(IngestError) -> T {
    try checkJSONBody(body) { bytes throws(JSONShape.Problem) in try JSONShape.check(bytes) }
    do {
        return try JSONDecoder().decode(T.self, from: Data(body))
    } catch let error as IngestError {
        throw error
    } catch let error as DecodingError {
        throw IngestError(decoding: error)
    } catch {
        throw IngestError("body", "not valid JSON")
    }
}

/// The checked tree of a JSON request body, refused as `decodeJSONBody`
/// refuses it; for formats read without Foundation's decoder.
func parseJSONBody(_ body: [UInt8]) throws(IngestError) -> JSONShape.Value {
    try checkJSONBody(body) { bytes throws(JSONShape.Problem) in try JSONShape.parse(bytes) }
}

/// Runs `read` on a body that is UTF-8, turning its problems into errors naming the field.
private func checkJSONBody<T>(_ body: [UInt8], _ read: ([UInt8]) throws(JSONShape.Problem) -> T) throws(IngestError) -> T {
    guard String(validating: body, as: UTF8.self) != nil else { throw IngestError("body", "not valid UTF-8") }
    do {
        return try read(body)
    } catch {
        switch error {
        case .malformed(let offset): throw IngestError("body", "not valid JSON (at byte \(offset))")
        case .tooDeep: throw IngestError("body", "nested deeper than \(JSONShape.maxDepth) levels")
        case .duplicate(let path, let key): throw IngestError(path.isEmpty ? key : "\(path).\(key)", "duplicate key")
        }
    }
}

extension IngestError {
    init(decoding error: DecodingError) {
        // The body itself when the fault is at its top level.
        let path = { (codingPath: [any CodingKey]) in codingPath.isEmpty ? "body" : FieldPath.of(codingPath) }
        switch error {
        case .keyNotFound(let key, let context):
            self.init(path(context.codingPath + [key]), "required")
        case .typeMismatch(let type, let context):
            self.init(path(context.codingPath), "expected \(Self.describe(type))")
        case .valueNotFound(let type, let context):
            self.init(path(context.codingPath), "expected \(Self.describe(type)), found null")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                self.init("body", "not valid JSON")
            } else {
                self.init(path(context.codingPath), context.debugDescription)
            }
        @unknown default:
            self.init("body", "could not be decoded")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is [String: String].Type: "an object of strings"
        default: "\(type)".hasPrefix("Array") ? "an array" : "an object"
        }
    }
}

/// Dotted paths of request fields, as error messages name them.
enum FieldPath {
    static func of(_ codingPath: [any CodingKey], _ key: String? = nil) -> String {
        var path = codingPath.reduce("") { path, key in
            // Foundation names an array position "Index N"; an object's key
            // that reads as a number (a label named "8") has an intValue too.
            if let index = key.intValue, key.stringValue == "Index \(index)" { return "\(path)[\(index)]" }
            return path.isEmpty ? name(key.stringValue) : "\(path).\(name(key.stringValue))"
        }
        if let key { path = path.isEmpty ? key : "\(path).\(key)" }
        return path
    }

    static func name(_ key: String) -> String { JSONShape.name(key) }
}

extension KeyedDecodingContainer {
    /// A JSON number that must be a whole number, however it is written
    /// (`1000`, `1e3`), as Int64; nil when the key is absent.
    ///
    /// Read as a Double, so an out-of-range or fractional number is refused
    /// naming the key (Foundation's own Int64 decoding reports such numbers
    /// without their place). Exact for every integer up to 2^53, which
    /// covers every time and timeout ingest accepts; larger ones only need
    /// to be told apart as too large.
    func decodeWholeNumber(forKey key: Key, at field: String) throws -> Int64? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        let number: Double
        do {
            number = try decode(Double.self, forKey: key)
        } catch DecodingError.typeMismatch {
            throw IngestError(field, "expected an integer")
        } catch {
            throw IngestError(field, "expected an integer in range")
        }
        guard number.isFinite, number == number.rounded() else { throw IngestError(field, "expected an integer") }
        // Int64(exactly:) is nil past Int64's range: clamp to the edge, the
        // callers only check a range far inside it.
        return Int64(exactly: number) ?? (number < 0 ? .min : .max)
    }
}
