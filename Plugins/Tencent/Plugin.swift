import Foundation
import HeraldPluginKit
import HTTPSupport

/// The Tencent channel: Tencent Cloud Monitor's JSON alarm callback.
final class TencentChannel: ChannelPlugin {
    static let info = PluginInfo(
        channel: "tencent", version: "1.0.0",
        description: "Posts each alert as a Tencent Cloud Monitor alarm callback (JSON); alarmStatus 1 firing, 0 resolved.",
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
        let body: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            body = try encoder.encode(TencentAlarm(event: try message.event(), deliveryID: message.deliveryID,
                                                   config: config, now: Date()))
        } catch {
            completion(.fail("event: \(error)"))
            return
        }
        sender.post(Array(body), contentType: "application/json", to: config.target, timeout: message.timeout,
                    completion: completion)
    }

    func close() { sender.close() }
}

@_cdecl("herald_plugin_entry")
public func heraldPluginEntry(_ abi: UInt32, _ host: UnsafeRawPointer?, _ error: UnsafeMutablePointer<CChar>?,
                              _ capacity: Int) -> UnsafeRawPointer? {
    PluginExport.entry(TencentChannel.self, abi: abi, host: host, error: error, capacity: capacity)
}
