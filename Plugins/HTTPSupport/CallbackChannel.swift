public import HeraldPluginKit

/// One vendor's callback format: what a callback adapter plugin is made of.
/// `CallbackChannel` does the rest (config checks, sending, outcomes).
public protocol CallbackFormat: Sendable {
    associatedtype Config: Decodable & Sendable
    static var info: PluginInfo { get }
    static func validate(_ config: Config) throws(ConfigProblem)
    static func target(of config: Config) -> CallbackTarget
    /// The request body for one message, and its content type.
    static func body(for message: Message, config: Config) throws -> (bytes: [UInt8], contentType: String)
}

/// A channel that posts each message in `Format` to the config's target;
/// 2xx is delivered, 408/429/5xx retried (after Retry-After), the rest fail.
public final class CallbackChannel<Format: CallbackFormat>: ChannelPlugin {
    public typealias Config = Format.Config

    public static var info: PluginInfo { Format.info }

    private let config: Config
    private let sender: Sender

    public static func validate(_ config: Config) throws(ConfigProblem) { try Format.validate(config) }

    public init(config: Config, host: HostServices) throws(ConfigProblem) {
        try Format.validate(config)
        self.config = config
        sender = Sender(maxConnections: 8)  // its thread starts here: only for a valid config
    }

    public func submit(_ message: Message, completion: Completion) {
        let request: (bytes: [UInt8], contentType: String)
        do { request = try Format.body(for: message, config: config) } catch {
            completion(.fail("event: \(error)"))
            return
        }
        sender.post(request.bytes, contentType: request.contentType, to: Format.target(of: config),
                    timeout: message.timeout, completion: completion)
    }

    public func close() { sender.close() }
}
