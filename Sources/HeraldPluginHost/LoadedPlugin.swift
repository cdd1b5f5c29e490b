import Foundation
import CHeraldPlugin
import Logging
public import HeraldCore

/// A plugin the loader accepted: its descriptor as Swift values.
///
/// `@unchecked Sendable` is safe: every stored property is immutable, and
/// the descriptor it points to is, by the ABI's rule, valid and unchanged
/// until the process exits.
public final class LoadedPlugin: @unchecked Sendable {
    public let file: String
    public let channel: String
    public let version: String
    public let summary: String
    public let schema: ConfigSchema
    /// Template text for template fields an endpoint leaves out.
    public let defaultTemplates: [String: String]
    /// Where the host logs about this plugin (its rule breaks, its own lines).
    let logger: Logger
    private let descriptor: UnsafePointer<herald_plugin_descriptor>

    init(file: String, descriptor: UnsafePointer<herald_plugin_descriptor>, logger: Logger) throws(PluginLoadError) {
        let d = descriptor.pointee
        self.file = file
        self.logger = logger
        self.descriptor = descriptor
        channel = d.channel.map { String(cString: $0) } ?? ""
        version = d.version.map { String(cString: $0) } ?? ""
        summary = d.description.map { String(cString: $0) } ?? ""
        guard channel.range(of: "^[a-z0-9][a-z0-9_-]{0,63}$", options: .regularExpression) != nil else {
            throw PluginLoadError(file: file, reason: "channel name \"\(channel)\" is not lower case letters, digits, '-' or '_'")
        }
        guard d.validate_config != nil, d.open != nil, d.submit != nil, d.close != nil else {
            throw PluginLoadError(file: file, reason: "the descriptor leaves a function pointer NULL")
        }
        do {
            schema = try ConfigSchema(json: d.config_schema_json.map { String(cString: $0) } ?? "")
        } catch {
            throw PluginLoadError(file: file, reason: "config_schema_json is not a JSON Schema object: \(error)")
        }
        let templates = (try? JSONValue.parse(d.default_templates_json.map { String(cString: $0) } ?? "{}"))?.objectValue
        guard let templates else {
            throw PluginLoadError(file: file, reason: "default_templates_json is not a JSON object")
        }
        defaultTemplates = templates.compactMapValues(\.stringValue)
    }

    /// Checks an endpoint's channel config: the schema first, then the
    /// plugin's own `validate_config`. Blocks briefly; call off the
    /// cooperative pool.
    /// - Throws: `PluginConfigError` whose message names the field.
    public func validate(config: JSONValue) throws(PluginConfigError) {
        do {
            try schema.validate(config)
        } catch {
            throw PluginConfigError(field: error.path, message: error.message)
        }
        var message = [CChar](repeating: 0, count: Int(HERALD_ERROR_CAPACITY))
        let status = config.jsonText.withCString { descriptor.pointee.validate_config(
            $0, &message, message.count) }
        if status != 0 {
            let text = Self.text(message, or: "refused by the plugin")
            throw PluginConfigError(field: Self.field(in: text), message: text)
        }
    }

    /// Opens an instance for one endpoint. Blocks; call off the cooperative pool.
    public func open(config: JSONValue) throws(PluginConfigError) -> PluginInstance {
        var message = [CChar](repeating: 0, count: Int(HERALD_ERROR_CAPACITY))
        var handle: UnsafeMutableRawPointer?
        let status = config.jsonText.withCString { descriptor.pointee.open($0, &handle, &message, message.count) }
        guard status == 0 else {
            throw PluginConfigError(field: nil, message: Self.text(message, or: "the plugin could not open"))
        }
        return PluginInstance(plugin: self, descriptor: descriptor, handle: handle)
    }

    /// The field a "field: message" refusal names (the header's convention).
    private static func field(in message: String) -> String? {
        guard let colon = message.firstIndex(of: ":") else { return nil }
        let field = message[..<colon]
        return field.isEmpty || field.contains(" ") ? nil : String(field)
    }

    private static func text(_ buffer: [CChar], or fallback: String) -> String {
        let text = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return text.isEmpty ? fallback : text
    }
}

/// Why an endpoint's channel config was refused.
public struct PluginConfigError: Error, Sendable, CustomStringConvertible {
    /// Dotted path in the channel config, when known.
    public let field: String?
    public let message: String
    public var description: String { message }
}

/// Why a file in a plugins folder was not loaded.
public struct PluginLoadError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let reason: String
    public var description: String { "\(file): \(reason)" }
}
