import Foundation

/// What a plugin says about itself; becomes the ABI descriptor.
public struct PluginInfo: Sendable {
    /// The name endpoints use in `channel:`: lower case, digits, '-' and '_'.
    public var channel: String
    public var version: String
    public var description: String
    /// JSON Schema of the endpoint config; mark templates with
    /// `"x-herald-template": true` and secrets with `"x-herald-secret": true`.
    public var configSchema: String
    /// Default text of template fields an endpoint leaves out, as a JSON object.
    public var defaultTemplates: String

    public init(channel: String, version: String, description: String, configSchema: String,
                defaultTemplates: String = "{}") {
        self.channel = channel
        self.version = version
        self.description = description
        self.configSchema = configSchema
        self.defaultTemplates = defaultTemplates
    }
}

/// One message to deliver, copied out of the host's buffers.
public struct Message: Sendable {
    /// Stable across attempts and restarts: what a receiver deduplicates on.
    public let deliveryID: String
    public let attempt: Int
    /// Seconds the host waits for the outcome; bound your I/O by it.
    public let timeout: Double
    /// The event as JSON (see plugin-sdk/README.md for its fields).
    public let eventJSON: [UInt8]
    /// The endpoint's template fields, rendered for this event.
    public let rendered: [String: String]
}

extension Message {
    func withTimeout(_ seconds: Double) -> Message {
        Message(deliveryID: deliveryID, attempt: attempt, timeout: seconds, eventJSON: eventJSON, rendered: rendered)
    }
}

/// The outcome of one delivery attempt.
public enum Outcome: Sendable, Equatable {
    case ok
    /// Transient: the host tries again, after `after` seconds when given.
    /// `endpointDown`: the endpoint itself is unreachable or overloaded
    /// (connection refused, a timeout, 5xx, 429), not this one message; the
    /// host then holds the endpoint's queue and probes it.
    case retry(String, after: Double? = nil, endpointDown: Bool = false)
    /// Permanent: the delivery goes to the dead letters.
    case fail(String)
}

/// A config the plugin refuses; `field` names the option at fault.
public struct ConfigProblem: Error, Sendable, CustomStringConvertible {
    public let field: String
    public let message: String

    public init(field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { field.isEmpty ? message : "\(field): \(message)" }
}

/// A channel plugin written in Swift.
///
/// Conform a final class, then export it with one line (the kit does the
/// rest of the ABI):
///
/// ```swift
/// @_cdecl("herald_plugin_entry")
/// public func entry(_ abi: UInt32, _ host: UnsafeRawPointer?, _ error: UnsafeMutablePointer<CChar>?,
///                   _ capacity: Int) -> UnsafeRawPointer? {
///     PluginExport.entry(MyChannel.self, abi: abi, host: host, error: error, capacity: capacity)
/// }
/// ```
///
/// Implementation requirements:
/// - `submit` must not block: queue the work and return. Call
///   `completion` exactly once, from any thread (the kit drops and logs a
///   second call). Conform to `BlockingChannelPlugin` instead to write a
///   plain blocking `deliver` that the kit runs on its own threads.
/// - `submit` and `close` of one instance are called from that instance's
///   own host thread, one at a time; completions and your own threads may
///   run meanwhile, so guard state they share.
/// - `close` finishes or abandons work in flight, completing each
///   submission, and returns once nothing runs any more.
public protocol ChannelPlugin: AnyObject, Sendable {
    associatedtype Config: Decodable & Sendable

    static var info: PluginInfo { get }

    /// Checks what the schema cannot: called at config load. Throw a
    /// `ConfigProblem` naming the field.
    static func validate(_ config: Config) throws(ConfigProblem)

    init(config: Config, host: HostServices) throws(ConfigProblem)

    func submit(_ message: Message, completion: Completion)

    func close()
}

extension ChannelPlugin {
    public static func validate(_ config: Config) throws(ConfigProblem) {}
}
