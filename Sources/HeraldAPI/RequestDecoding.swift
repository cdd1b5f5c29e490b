import Foundation

/// Decodes a request body into `T`, turning every failure into a 400 that
/// names the field: "events[2].metadata.event_severity: expected a string".
func decodeBody<T: Decodable>(_ type: T.Type, from body: [UInt8]) throws(APIError) -> T {
    guard String(validating: body, as: UTF8.self) != nil else { throw .badRequest("body", "not valid UTF-8") }
    do {
        return try JSONDecoder().decode(T.self, from: Data(body))
    } catch let error as APIError {
        throw error
    } catch let error as DecodingError {
        throw APIError(decoding: error)
    } catch {
        throw .badRequest("body", "not valid JSON")
    }
}

extension APIError {
    init(decoding error: DecodingError) {
        // The body itself when the fault is at its top level.
        let path = { (codingPath: [any CodingKey]) in codingPath.isEmpty ? "body" : FieldPath.of(codingPath) }
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            self = .badRequest(field, "required")
        case .typeMismatch(let type, let context):
            self = .badRequest(path(context.codingPath), "expected \(Self.describe(type))")
        case .valueNotFound(let type, let context):
            self = .badRequest(path(context.codingPath), "expected \(Self.describe(type)), found null")
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            if context.codingPath.isEmpty {
                self = .badRequest("body", "not valid JSON")
            } else {
                self = .badRequest(field, context.debugDescription)
            }
        @unknown default:
            self = .badRequest("body", "could not be decoded")
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
            if let index = key.intValue { return "\(path)[\(index)]" }
            return path.isEmpty ? key.stringValue : "\(path).\(key.stringValue)"
        }
        if let key { path = path.isEmpty ? key : "\(path).\(key)" }
        return path
    }
}
