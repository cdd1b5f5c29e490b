import Foundation
import HeraldCore
import Yams

/// A YAML node with where it came from, so every config error can name the
/// file, line and field.
struct ConfigNode {
    let node: Node
    /// Dotted path from the root: "endpoints[2].levels[0]".
    let path: String
    let file: String

    func error(_ message: String) -> ConfigError {
        ConfigError(file: file, line: node.mark?.line, column: node.mark?.column, field: path, message: message)
    }

    private func child(_ node: Node, _ key: String) -> ConfigNode {
        ConfigNode(node: node, path: path.isEmpty ? key : "\(path).\(key)", file: file)
    }

    /// The mapping's entries, refusing keys not in `allowed`.
    func mapping(allowed: Set<String>) throws(ConfigError) -> [String: ConfigNode] {
        guard case .mapping(let mapping) = node else { throw error("expected a mapping") }
        var entries: [String: ConfigNode] = [:]
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { throw error("a key is not a string") }
            let entry = child(value, key)
            guard allowed.contains(key) else {
                throw ConfigNode(node: keyNode, path: entry.path, file: file)
                    .error("unknown field (known: \(allowed.sorted().joined(separator: ", ")))")
            }
            entries[key] = entry
        }
        return entries
    }

    func sequence() throws(ConfigError) -> [ConfigNode] {
        guard case .sequence(let sequence) = node else { throw error("expected a list") }
        return sequence.enumerated().map { ConfigNode(node: $1, path: "\(path)[\($0)]", file: file) }
    }

    func string() throws(ConfigError) -> String {
        guard case .scalar(let scalar) = node else { throw error("expected a string") }
        return try expand(scalar.string)
    }

    /// `${NAME}` replaced by the environment variable, so no secret has to
    /// sit in the file; `$${` is a literal `${`. An unset variable is an
    /// error naming the field.
    func expand(_ text: String) throws(ConfigError) -> String {
        guard text.contains("${") else { return text }
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            if rest[..<start.lowerBound].hasSuffix("$") {
                result += rest[..<rest.index(before: start.lowerBound)] + "${"
                rest = rest[start.upperBound...]
                continue
            }
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else { throw error("\"${\" without a closing \"}\"") }
            let name = String(rest[start.upperBound..<end])
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw error("\"${\(name)}\" is not an environment variable name")
            }
            guard let value = ProcessInfo.processInfo.environment[name] else {
                throw error("environment variable \(name) is not set")
            }
            result += value
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }

    /// The contents of the file this string names, without the final
    /// newline: a secret kept out of the config (`password_file`, `tokens_file`).
    func fileContents() throws(ConfigError) -> String {
        let path = try nonEmptyString()
        let resolved = path.hasPrefix("/") ? path : ((file as NSString).deletingLastPathComponent as NSString).appendingPathComponent(path)
        guard let text = try? String(contentsOfFile: resolved, encoding: .utf8) else { throw error("cannot read \(resolved)") }
        return text.hasSuffix("\n") ? String(text.dropLast()) : text
    }

    func nonEmptyString() throws(ConfigError) -> String {
        let text = try string()
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { throw error("must not be empty") }
        return text
    }

    func strings() throws(ConfigError) -> [String] {
        var result: [String] = []
        for item in try sequence() { result.append(try item.nonEmptyString()) }
        return result
    }

    func int(min: Int = .min, max: Int = .max) throws(ConfigError) -> Int {
        guard let value = integer else { throw error("expected an integer, found \"\(node.string ?? "?")\"") }
        guard value >= min, value <= max else { throw error("must be between \(min) and \(max), found \(value)") }
        return value
    }

    /// A plain scalar written as a decimal integer that fits an Int.
    ///
    /// Not Yams's `Node.int`: it also reads YAML 1.1's base-60 numbers
    /// ("1:30") and multiplies them without overflow checks, so a long
    /// one ("1:2:3:4:5:6:7:8:9:10:11") traps.
    private var integer: Int? {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any else { return nil }
        return Int(scalar.string)
    }

    /// A plain scalar written as a finite decimal number.
    private var number: Double? {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any,
              let value = Double(scalar.string), value.isFinite else { return nil }
        return value
    }

    func bool() throws(ConfigError) -> Bool {
        guard let value = node.bool else { throw error("expected true or false") }
        return value
    }

    /// Seconds, from a number or a string with a unit: "500ms", "5s", "10m",
    /// "2h", "3d"; at most `max` (a year unless said otherwise).
    func duration(max: Double = 366 * 86_400) throws(ConfigError) -> Double {
        var seconds = number
        if seconds == nil {
            let text = try string().trimmingCharacters(in: .whitespaces).lowercased()
            let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
            for (suffix, factor) in units where text.hasSuffix(suffix) {
                if let value = Double(text.dropLast(suffix.count)), value.isFinite {
                    seconds = value * factor
                    break
                }
            }
        }
        guard let seconds else {
            throw error("expected a duration such as 30s, 5m, 2h or 3d, found \"\(node.string ?? "?")\"")
        }
        guard seconds >= 0 else { throw error("must not be negative") }
        guard seconds <= max else { throw error("must be at most \(Self.describe(seconds: max))") }
        return seconds
    }

    private static func describe(seconds: Double) -> String {
        seconds >= 86400 && seconds.truncatingRemainder(dividingBy: 86400) == 0 ? "\(Int(seconds / 86400))d"
            : seconds >= 1 ? "\(Int(seconds))s" : "\(Int(seconds * 1000))ms"
    }

    /// The node as JSON, for a channel config the plugin's schema checks.
    func json() throws(ConfigError) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            if scalar.style != .plain { return .string(try expand(scalar.string)) }
            if node.null != nil { return .null }
            if let value = node.bool { return .bool(value) }
            if let value = integer { return .number(Double(value)) }
            if let value = number { return .number(value) }
            return .string(try expand(scalar.string))
        case .sequence:
            var items: [JSONValue] = []
            for item in try sequence() { items.append(try item.json()) }
            return .array(items)
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (keyNode, value) in mapping {
                guard let key = keyNode.string else { throw error("a key is not a string") }
                members[key] = try child(value, key).json()
            }
            return .object(members)
        case .alias:
            throw error("YAML aliases are not supported here")
        }
    }

    /// The node at a dotted path below this one ("headers.X-Token"), for
    /// pointing at a field a plugin refused.
    func descendant(_ dotted: String) -> ConfigNode? {
        var current = self
        for key in dotted.split(separator: ".").map(String.init) {
            guard case .mapping(let mapping) = current.node,
                  let value = mapping.first(where: { $0.key.string == key })?.value else { return nil }
            current = current.child(value, key)
        }
        return current
    }
}

/// A config file Herald cannot start with; says where and why.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int?
    public let column: Int?
    public let field: String
    public let message: String

    public init(file: String, line: Int?, column: Int?, field: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    public var description: String {
        let place = [file, line.map(String.init), column.map(String.init)].compactMap { $0 }.joined(separator: ":")
        return field.isEmpty ? "\(place): \(message)" : "\(place): \(field): \(message)"
    }
}
