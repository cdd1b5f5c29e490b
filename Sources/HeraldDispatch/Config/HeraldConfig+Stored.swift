import Foundation
public import HeraldCore
public import HeraldPluginHost
public import HeraldStore
import Yams

/// The config in force is the file's teams, endpoints and policies
/// (`provisioned`: read-only through the API) plus those made through the
/// API, kept in the store and read with the same checks as the file's.
extension HeraldConfig {
    /// Reads the file's text with the stored items merged in. A stored item
    /// the file now contradicts (its team gone, its name taken by the file,
    /// an endpoint it names gone) is left out and reported, so a change to
    /// the file never stops the daemon from starting.
    public static func parse(yaml: String, file: String, loadPlugins: (([String]) -> PluginCatalog)?,
                             stored: [StoredResource]) throws(ConfigError) -> (HeraldConfig, PluginCatalog, [LeftOut]) {
        var items = stored
        var leftOut: [LeftOut] = []
        var catalog: PluginCatalog?
        // Loads plugins once, however many tries it takes.
        let load = loadPlugins.map { load in
            { (directories: [String]) -> PluginCatalog in
                if let catalog { return catalog }
                let loaded = load(directories)
                catalog = loaded
                return loaded
            }
        }
        while true {
            let merged = try merge(yaml: yaml, file: file, items: items)
            do {
                var (config, plugins) = try parse(root: merged.root, file: file, loadPlugins: load)
                config.madeByAPI = Set(merged.included.map { "\($0.kind.rawValue)/\($0.name)" })
                return (config, plugins, leftOut + merged.shadowed)
            } catch {
                guard let culprit = merged.item(at: error.field) else { throw error }
                leftOut.append(LeftOut(item: culprit, error: error))
                items.removeAll { $0.kind == culprit.kind && $0.name == culprit.name }
            }
        }
    }

    /// A stored item not in force, and why.
    public struct LeftOut: Sendable, CustomStringConvertible {
        public let item: StoredResource
        /// The field within the item ("config.url"), nil for the item as a whole.
        public let field: String?
        public let message: String
        public var description: String {
            "\(item.kind.rawValue) \"\(item.name)\": \(field.map { "\($0): " } ?? "")\(message)"
        }

        init(item: StoredResource, field: String?, message: String) {
            self.item = item
            self.field = field
            self.message = message
        }

        /// From an error whose field points into the item ("endpoints[3].config.url").
        init(item: StoredResource, error: ConfigError) {
            var field = error.field
            if let close = field.firstIndex(of: "]") {
                field = String(field[field.index(after: close)...])
                if field.hasPrefix(".") { field.removeFirst() }
            }
            self.init(item: item, field: field.isEmpty ? nil : field, message: error.message)
        }
    }

    /// Whether an item comes from the config file (read-only through the API).
    public func isProvisioned(_ kind: StoredResource.Kind, _ name: String) -> Bool {
        !madeByAPI.contains("\(kind.rawValue)/\(name)")
    }

    private struct Merged {
        var root: Node
        /// Each section's stored items, after the file's entries of that section.
        var included: [StoredResource] = []
        var fileCounts: [StoredResource.Kind: Int] = [:]
        var shadowed: [LeftOut] = []

        /// The stored item an error's field ("endpoints[3].config.url") points into.
        func item(at field: String) -> StoredResource? {
            for kind in StoredResource.Kind.allCases {
                let prefix = "\(section(kind))["
                guard field.hasPrefix(prefix), let close = field.firstIndex(of: "]"),
                      let index = Int(field[field.index(field.startIndex, offsetBy: prefix.count)..<close]) else { continue }
                let ofKind = included.filter { $0.kind == kind }
                let position = index - (fileCounts[kind] ?? 0)
                return ofKind.indices.contains(position) ? ofKind[position] : nil
            }
            return nil
        }
    }

    static func section(_ kind: StoredResource.Kind) -> String {
        switch kind {
        case .team: "teams"
        case .endpoint: "endpoints"
        case .policy: "policies"
        }
    }

    private static func merge(yaml: String, file: String, items: [StoredResource]) throws(ConfigError) -> Merged {
        let root = try compose(yaml: yaml, file: file)
        guard !items.isEmpty, case .mapping(let mapping) = root else { return Merged(root: root) }
        var merged = Merged(root: root)
        var pairs = Array(mapping.map { ($0.key, $0.value) })
        for kind in StoredResource.Kind.allCases {
            let key = section(kind)
            let index = pairs.firstIndex { $0.0.string == key }
            var entries: [Node] = []
            if let index, case .sequence(let sequence) = pairs[index].1 { entries = Array(sequence) }
            merged.fileCounts[kind] = entries.count
            let fileNames = Set(entries.compactMap { $0.mapping?["name"]?.string })
            for item in items where item.kind == kind {
                if let field = readsTheHost(item.body) {
                    merged.shadowed.append(LeftOut(item: item, field: field, message: """
                        ${NAME} and *_file are for the config file: an item made through the API \
                        cannot read the daemon's environment or files
                        """))
                    continue
                }
                guard !fileNames.contains(item.name) else {
                    merged.shadowed.append(LeftOut(item: item, field: "name",
                                                   message: "the config file declares \(kind.rawValue) \"\(item.name)\""))
                    continue
                }
                entries.append(node(item.body))
                merged.included.append(item)
            }
            if let index { pairs[index].1 = Node(entries) } else if !entries.isEmpty { pairs.append((Node(key), Node(entries))) }
        }
        merged.root = Node(pairs)
        return merged
    }

    /// The first field of an API item that would read the daemon's
    /// environment (`${NAME}`) or a file (`*_file`): a team must not reach
    /// either through an endpoint's config.
    public static func readsTheHost(_ value: JSONValue, path: String = "") -> String? {
        switch value {
        case .string(let text): return text.contains("${") ? path : nil
        case .array(let items):
            for (index, item) in items.enumerated() {
                if let field = readsTheHost(item, path: "\(path)[\(index)]") { return field }
            }
            return nil
        case .object(let members):
            for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                let field = path.isEmpty ? key : "\(path).\(key)"
                if key.hasSuffix("_file") { return field }
                if let found = readsTheHost(member, path: field) { return found }
            }
            return nil
        default: return nil
        }
    }

    /// A stored item's JSON as the YAML node the file would hold: strings
    /// quoted (so "true" stays a string), numbers, booleans and null plain.
    static func node(_ value: JSONValue) -> Node {
        switch value {
        case .string(let text): return Node(text, .implicit, .doubleQuoted)
        case .number(let number):
            let exact = number.rounded() == number && abs(number) < 9e15
            return Node(exact ? String(Int64(number)) : String(number), .implicit, .plain)
        case .bool(let flag): return Node(flag ? "true" : "false", .implicit, .plain)
        case .null: return Node("null", .implicit, .plain)
        case .array(let items): return Node(items.map(node))
        case .object(let members): return Node(members.sorted { $0.key < $1.key }.map { (Node($0.key), node($0.value)) })
        }
    }
}
