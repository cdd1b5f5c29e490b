public import Foundation
import Stencil

/// The templated fields of one endpoint, parsed once and rendered per push
/// with a Jinja-compatible syntax: `{{ level }}`, `{{ labels.host }}`,
/// `{% if status == "resolved" %}…{% endif %}`, filters such as
/// `{{ name | upper }}` and `{{ annotations | tojson }}`.
///
/// Not thread-safe: each endpoint worker owns its own set.
public final class TemplateSet {
    private let templates: [(field: String, template: Template)]

    /// - Parameter fields: field name → template text.
    /// - Throws: `TemplateError` naming the field whose template does not parse.
    public init(fields: [String: String]) throws(TemplateError) {
        let environment = Environment(extensions: [Self.jinjaFilters()])
        templates = fields.sorted { $0.key < $1.key }.map {
            ($0.key, Template(templateString: $0.value, environment: environment))
        }
        // Stencil parses when it renders, so a trial render finds syntax errors at load.
        let sample = Push(event: Event(id: "sample", team: "t", name: "n", level: .critical, objectID: "o",
                                       startsAt: Date(timeIntervalSince1970: 0)),
                          policy: "p", endpoint: "e", level: .critical, deliveryID: "d")
        _ = try render(sample.fields)
    }

    /// Renders every field for one push.
    public func render(_ fields: [String: JSONValue]) throws(TemplateError) -> [String: String] {
        let context = fields.mapValues(\.stencilValue)
        var rendered: [String: String] = [:]
        for (field, template) in templates {
            do {
                rendered[field] = try template.render(context)
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
