import Foundation

/// An `application/x-www-form-urlencoded` body: `+` is a space, `%XX` a byte, UTF-8 throughout.
struct FormBody {
    let values: [String: String]

    init(_ body: [UInt8]) throws(IngestError) {
        guard let text = String(validating: body, as: UTF8.self) else { throw .invalid("body", "not valid UTF-8") }
        var values: [String: String] = [:]
        for pair in text.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) throws(IngestError) -> String {
                guard let decoded = part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding else {
                    throw .invalid(parts[0].isEmpty ? "body" : String(parts[0].prefix(64)), "bad percent-encoding or not UTF-8")
                }
                return decoded
            }
            let name = try decode(parts[0])
            // One meaning per field, as ingest's JSON refuses repeated keys.
            guard values[name] == nil else { throw .invalid(FieldPath.name(String(name.prefix(64))), "given twice") }
            values[name] = parts.count > 1 ? try decode(parts[1]) : ""
        }
        self.values = values
    }

    func required(_ name: String) throws(IngestError) -> String {
        guard let value = values[name], !value.isEmpty else { throw .invalid(name, "required") }
        return value
    }
}
