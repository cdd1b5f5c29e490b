import Foundation
import Stencil

/// The templated fields of one endpoint, parsed once and rendered per push
/// with a Jinja-compatible syntax: `{{ level }}`, `{{ labels.host }}`,
/// `{% if status == "resolved" %}…{% endif %}`, filters such as
/// `{{ name | upper }}` and `{{ annotations | tojson }}`.
///
/// Not thread-safe: each endpoint worker owns its own set.
public final class TemplateSet {
    private let templates: [(field: String, template: Template)]
    /// Templates that are only text and `{{ name }}` / `{{ a.b }}`
    /// substitutions, rendered without Stencil (which parses on every render).
    private let substitutions: [String: [Substitution.Part]]

    /// - Parameter fields: field name → template text.
    /// - Throws: `TemplateError` naming the field whose template does not parse.
    public init(fields: [String: String]) throws(TemplateError) {
        let environment = Environment(extensions: [Self.jinjaFilters()])
        templates = fields.sorted { $0.key < $1.key }.map {
            ($0.key, Template(templateString: $0.value, environment: environment))
        }
        substitutions = fields.compactMapValues(Substitution.parse)
        // Stencil parses when it renders, so a trial render finds syntax errors at load.
        let sample = Push(event: Event(id: "sample", team: "t", name: "n", level: .critical, objectID: "o",
                                       startsAt: Date(timeIntervalSince1970: 0)),
                          policy: "p", endpoint: "e", level: .critical, deliveryID: "d")
        _ = try render(sample.fields)
    }

    /// Renders every field for one push.
    public func render(_ fields: [String: JSONValue]) throws(TemplateError) -> [String: String] {
        var rendered: [String: String] = [:]
        var context: [String: Any]?
        for (field, template) in templates {
            if let parts = substitutions[field], let text = Substitution.render(parts, fields) {
                rendered[field] = text
                continue
            }
            do {
                if context == nil { context = fields.mapValues(\.stencilValue) }
                rendered[field] = try template.render(context!)
            } catch {
                throw TemplateError(field: field, message: "\(error)")
            }
        }
        return rendered
    }

    /// Filters Jinja has and Stencil lacks, so templates written for
    /// Jinja (Alertmanager, Grafana users) work as they are.
    private static func jinjaFilters() -> Extension {
        let filters = Extension()
        filters.registerFilter("upper") { ($0.map { "\($0)" } ?? "").uppercased() }
        filters.registerFilter("lower") { ($0.map { "\($0)" } ?? "").lowercased() }
        filters.registerFilter("tojson") { JSONValue(stencil: $0).jsonText }
        filters.registerFilter("replace") { value, arguments in
            guard arguments.count == 2, let old = arguments[0] as? String, let new = arguments[1] as? String else {
                throw TemplateSyntaxError("replace takes two strings")
            }
            return (value.map { "\($0)" } ?? "").replacingOccurrences(of: old, with: new)
        }
        filters.registerFilter("truncate") { value, arguments in
            let text = value.map { "\($0)" } ?? ""
            let length = (arguments.first as? Int) ?? 255
            return text.count <= length ? text : String(text.prefix(max(0, length - 3))) + "..."
        }
        return filters
    }
}

public struct TemplateError: Error, Sendable, CustomStringConvertible {
    public let field: String
    public let message: String
    public var description: String { "\(field): template error: \(message)" }
}

extension JSONValue {
    /// The value as Stencil's context wants it (Foundation types in `Any`).
    var stencilValue: Any {
        switch self {
        case .null: return ""
        case .bool(let value): return value
        case .number(let value): return value == value.rounded() && abs(value) < 1e15 ? Int(value) as Any : value
        case .string(let value): return value
        case .array(let items): return items.map(\.stencilValue)
        case .object(let members): return members.mapValues(\.stencilValue)
        }
    }

    init(stencil value: Any?) {
        switch value {
        case nil: self = .null
        case let value as String: self = .string(value)
        case let value as Bool: self = .bool(value)
        case let value as Int: self = .number(Double(value))
        case let value as Double: self = .number(value)
        case let value as [Any]: self = .array(value.map { JSONValue(stencil: $0) })
        case let value as [String: Any]: self = .object(value.mapValues { JSONValue(stencil: $0) })
        case let value?: self = .string("\(value)")
        }
    }
}

/// The fast path of `TemplateSet`: a template that is only text and plain
/// variable substitutions renders as Stencil would, without Stencil.
enum Substitution {
    enum Part {
        case text(String)
        case variable([String])
    }

    /// The template's parts, or nil when it uses anything else (tags,
    /// filters, comments, literals).
    static func parse(_ template: String) -> [Part]? {
        if template.contains("{%") || template.contains("{#") { return nil }
        var parts: [Part] = []
        var rest = Substring(template)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { parts.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else { return nil }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            let path = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            let valid = path.allSatisfy { component in
                guard let first = component.unicodeScalars.first, first == "_" || first.properties.isAlphabetic
                else { return false }
                return component.unicodeScalars.allSatisfy { $0 == "_" || $0 == "-" || $0.properties.isAlphabetic
                    || ("0"..."9").contains($0) }
            }
            guard valid else { return nil }
            parts.append(.variable(path))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        return parts
    }

    /// The rendered text, or nil when a variable is not a plain string or
    /// number (then Stencil renders it, to keep its formatting).
    static func render(_ parts: [Part], _ fields: [String: JSONValue]) -> String? {
        var text = ""
        for part in parts {
            switch part {
            case .text(let literal):
                text += literal
            case .variable(let path):
                var value: JSONValue? = fields[path[0]]
                for key in path.dropFirst() { value = value?[key] }
                switch value {
                case nil: break  // Stencil renders an unknown variable as nothing
                case .string(let string)?: text += string
                case .number(let number)? where number == number.rounded() && abs(number) < 1e15:
                    text += String(Int64(number))
                default: return nil
                }
            }
        }
        return text
    }
}
