import Foundation
import CHeraldPlugin
import Logging
public import HeraldCore

/// A plugin the loader accepted: its descriptor as Swift values.
///
/// Herald's own plugins are loaded into the daemon (`native`); any other
/// is described by a short-lived worker process, so a plugin that crashes
/// or hangs while loading cannot take the daemon with it, and is loaded
/// into the daemon only if an endpoint asks for `isolation: none`.
///
/// `@unchecked Sendable` is safe: every stored property is immutable, the
/// descriptor is a copy, and what its pointers point to is, by the ABI's
/// rule, valid and unchanged until the process exits.
public final class LoadedPlugin: @unchecked Sendable {
    public let file: String
    public let channel: String
    public let version: String
    public let summary: String
    /// The plugin's declared ABI version (major << 16 | minor).
    public let abiVersion: UInt32
    public let schema: ConfigSchema
    /// Template text for template fields an endpoint leaves out, checked at load.
    public let defaultTemplates: [String: String]
    /// One of the plugins Herald ships (by file and channel): trusted to
    /// run in the daemon's process unless an endpoint says otherwise.
    public let isShipped: Bool
    /// Where the host logs about this plugin (its rule breaks, its own lines).
    let logger: Logger
    /// The ABI rules this plugin broke so far, as the host saw them.
    public let ruleBreaks = RuleBreaks()
    /// The plugin in this process, when it is loaded here.
    let native: Native?
    /// How to run the plugin in a worker process, when the host can.
    public let worker: WorkerCommand?

    /// `@unchecked Sendable`: a copy of the descriptor and the table's
    /// address, both immutable and valid until the process exits (the ABI's
    /// rule); the host calls the functions they point to as the threading
    /// rule allows.
    struct Native: @unchecked Sendable {
        let descriptor: herald_plugin_descriptor
        /// The host table this plugin was given at its entry.
        let table: UnsafePointer<herald_host_api>
    }

    /// How long `validate_config` and `open` may take before the host gives up.
    public static let callTimeout: Double = 10

    /// What a loaded descriptor or a worker's description says.
    struct Description: Codable {
        var channel, version, description, configSchema, defaultTemplates: String
        var abiVersion: UInt32

        enum CodingKeys: String, CodingKey {
            case channel, version, description, configSchema = "config_schema", defaultTemplates = "default_templates"
            case abiVersion = "abi_version"
        }
    }

    /// A plugin loaded into this process.
    convenience init(file: String, descriptor d: herald_plugin_descriptor, table: UnsafePointer<herald_host_api>,
                     worker: WorkerCommand?, logger: Logger) throws(PluginLoadError) {
        let missing = [("validate_config", d.validate_config == nil), ("open", d.open == nil),
                       ("submit", d.submit == nil), ("close", d.close == nil)].filter(\.1).map(\.0)
        guard missing.isEmpty else {
            throw PluginLoadError(file: file, reason: "the descriptor leaves \(missing.joined(separator: ", ")) NULL")
        }
        let text = { (pointer: UnsafePointer<CChar>?) in pointer.map { String(cString: $0) } ?? "" }
        try self.init(file: file, description: Description(
            channel: text(d.channel), version: text(d.version), description: text(d.description),
            configSchema: text(d.config_schema_json), defaultTemplates: d.default_templates_json.map { String(cString: $0) } ?? "{}",
            abiVersion: d.abi_version), native: Native(descriptor: d, table: table), worker: worker, logger: logger)
    }

    init(file: String, description d: Description, native: Native?, worker: WorkerCommand?,
         logger: Logger) throws(PluginLoadError) {
        self.file = file
        self.logger = logger
        self.native = native
        self.worker = worker
        abiVersion = d.abiVersion
        channel = d.channel
        version = d.version
        summary = d.description
        isShipped = ShippedPlugins.channel(ofFile: file) == d.channel
        guard channel.range(of: "^[a-z0-9][a-z0-9_-]{0,63}$", options: .regularExpression) != nil else {
            throw PluginLoadError(file: file, reason: "channel name \"\(channel)\" is not 1-64 lower case letters, digits, '-' or '_'")
        }
        do {
            schema = try ConfigSchema(json: d.configSchema)
        } catch {
            throw PluginLoadError(file: file, reason: "config_schema_json is not a JSON Schema object: \(error)")
        }
        let templates = (try? JSONValue.parse(d.defaultTemplates))?.objectValue
        guard let templates, templates.values.allSatisfy({ $0.stringValue != nil }) else {
            throw PluginLoadError(file: file, reason: "default_templates_json is not a JSON object of strings")
        }
        defaultTemplates = templates.compactMapValues(\.stringValue)
        do {
            _ = try TemplateSet(fields: defaultTemplates)
        } catch {
            throw PluginLoadError(file: file, reason: "default_templates_json: \(error)")
        }
    }

    var description: Description {
        Description(channel: channel, version: version, description: summary, configSchema: schema.root.jsonText,
                    defaultTemplates: JSONValue.object(defaultTemplates.mapValues(JSONValue.string)).jsonText,
                    abiVersion: abiVersion)
    }

    /// Checks an endpoint's channel config: the schema first, then the
    /// plugin's own `validate_config`, on a thread of its own for at most
    /// `callTimeout` seconds. Blocks the caller meanwhile; call it off the
    /// cooperative pool.
    /// - Throws: `PluginConfigError` whose message names the field.
    public func validate(config: JSONValue, endpoint: String = "") throws(PluginConfigError) {
        do {
            try schema.validate(config)
        } catch {
            throw PluginConfigError(field: error.path, message: error.message)
        }
        let refusal: String?
        if let native {
            let result = PluginCall.blocking(timeout: Self.callTimeout, name: channel) { () -> (Int32, [CChar]) in
                var message = [CChar](repeating: 0, count: Int(HERALD_ERROR_CAPACITY))
                let status = PluginConfig(config, endpoint: endpoint).withConfig {
                    native.descriptor.validate_config?($0, &message, message.count) ?? 1
                }
                return (status, message)
            }
            guard let (status, message) = result else {
                throw PluginConfigError(field: nil, message: "the plugin's validate_config did not return within \(Int(Self.callTimeout)) s")
            }
            refusal = status == 0 ? nil : HostServices.text(message, or: "refused by the plugin")
        } else if let worker {
            refusal = try worker.validate(file: file, config: config, endpoint: endpoint)
        } else {
            throw PluginConfigError(field: nil, message: "the plugin is neither loaded nor runnable in a worker")
        }
        if let refusal { throw PluginConfigError(field: field(in: refusal), message: refusal) }
    }

    /// The field a "field: message" refusal names (the header's convention):
    /// a path that starts with one of the schema's properties, up to the first
    /// ": " (so "headers.X Y:: ..." names a header whose name has a space and
    /// a colon), or else a word before the first colon.
    private func field(in message: String) -> String? {
        if let separator = message.range(of: ": ") {
            let path = message[..<separator.lowerBound]
            let property = path.prefix { $0 != "." && $0 != "[" }
            if schema.root["properties"]?[String(property)] != nil { return String(path) }
        }
        guard let colon = message.firstIndex(of: ":") else { return nil }
        let field = message[..<colon]
        return field.isEmpty || field.contains(" ") ? nil : String(field)
    }
}

/// An endpoint's config as the ABI's `herald_config`.
struct PluginConfig: Sendable {
    let json: String
    let fields: FieldList
    let endpoint: String

    init(_ config: JSONValue, endpoint: String) {
        json = config.jsonText
        fields = FieldList(flattening: config)
        self.endpoint = endpoint
    }

    func withConfig<R>(_ body: (UnsafePointer<herald_config>) -> R) -> R {
        json.withCString { text in
            endpoint.withCString { name in
                fields.withFields { list, count in
                    var config = herald_config()
                    config.abi_version = PluginLoader.hostVersion
                    config.struct_size = UInt32(MemoryLayout<herald_config>.size)
                    config.json = text
                    config.json_length = json.utf8.count
                    config.fields = list
                    config.field_count = count
                    config.endpoint = name
                    return withUnsafePointer(to: &config) { body($0) }
                }
            }
        }
    }
}

/// Why an endpoint's channel config was refused.
public struct PluginConfigError: Error, Sendable, CustomStringConvertible {
    /// Dotted path in the channel config, when known.
    public let field: String?
    public let message: String
    public var description: String { message }

    public init(field: String?, message: String) {
        self.field = field
        self.message = message
    }
}

/// Why a file in a plugins folder was not loaded.
public struct PluginLoadError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let reason: String
    public var description: String { "\(file): \(reason)" }

    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }
}
