import Foundation
import HeraldPluginKit
import HTTPSupport

/// The Aliyun channel: CloudMonitor's form alert callback.
final class AliyunChannel: ChannelPlugin {
    static let info = PluginInfo(
        channel: "aliyun", version: "1.0.0",
        description: "Posts each alert as an Aliyun CloudMonitor alert callback (form fields, optional HMAC signature).",
        configSchema: Config.schema)

    private let config: Config
    private let sender: Sender

    static func validate(_ config: Config) throws(ConfigProblem) { try config.validate() }

    init(config: Config, host: HostServices) throws(ConfigProblem) {
        try config.validate()
        self.config = config
        sender = Sender(maxConnections: 8)  // its thread starts here: only for a valid config
    }

    func submit(_ message: Message, completion: Completion) {
        let body: String
        do { body = AliyunForm(event: try message.event(), config: config).body(secret: config.secret) } catch {
            completion(.fail("event: \(error)"))
            return
        }
        sender.post(Array(body.utf8), contentType: "application/x-www-form-urlencoded; charset=UTF-8", to: config.target,
                    timeout: message.timeout, completion: completion)
    }

    func close() { sender.close() }
}

@_cdecl("herald_plugin_entry")
public func heraldPluginEntry(_ abi: UInt32, _ host: UnsafeRawPointer?, _ error: UnsafeMutablePointer<CChar>?,
                              _ capacity: Int) -> UnsafeRawPointer? {
    PluginExport.entry(AliyunChannel.self, abi: abi, host: host, error: error, capacity: capacity)
}
