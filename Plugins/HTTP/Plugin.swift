import HeraldPluginKit
import HTTPSupport

/// The HTTP channel: POST (or PUT, PATCH) a rendered body to a rendered URL.
final class HTTPChannel: ChannelPlugin {
    static let info = PluginInfo(
        channel: "http", version: "1.0.0",
        description: "Sends each alert as an HTTP(S) request; 2xx is delivered, 408/429/5xx are retried.",
        configSchema: Config.schema)

    private let config: Config
    private let sender: Sender

    static func validate(_ config: Config) throws(ConfigProblem) { try config.validate() }

    init(config: Config, host: HostServices) throws(ConfigProblem) {
        try config.validate()
        self.config = config
        sender = Sender(maxConnections: config.maxConnections)
    }

    func submit(_ message: Message, completion: Completion) {
        guard let url = Config.normalisedURL(message.rendered["url"] ?? config.url) else {
            completion(.fail("rendered url is not http:// or https://"))
            return
        }
        var headers = config.headers
        headers["Content-Type"] = headers["Content-Type"] ?? config.contentType
        headers["Idempotency-Key"] = headers["Idempotency-Key"] ?? message.deliveryID
        let body = message.rendered["body"].map { Array($0.utf8) } ?? message.eventJSON
        sender.send(Sender.Request(url: url, method: config.method, headers: headers, body: body,
                                   timeoutMs: Int(message.timeout * 1000), caFile: config.caFile,
                                   verify: config.tlsVerify),
                    completion: completion)
    }

    func close() { sender.close() }
}

@_cdecl("herald_plugin_entry")
public func heraldPluginEntry(_ abi: UInt32, _ host: UnsafeRawPointer?, _ error: UnsafeMutablePointer<CChar>?,
                              _ capacity: Int) -> UnsafeRawPointer? {
    PluginExport.entry(HTTPChannel.self, abi: abi, host: host, error: error, capacity: capacity)
}
