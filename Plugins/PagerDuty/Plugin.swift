import Foundation
import HeraldPluginKit
import HTTPSupport

/// The PagerDuty channel: Events API v2, trigger on firing and resolve on
/// recovery under one dedup_key per policy, alert and object.
final class PagerDutyChannel: ChannelPlugin {
    static let info = PluginInfo(
        channel: "pagerduty", version: "1.0.0",
        description: "Sends each alert to PagerDuty's Events API v2: trigger, then resolve with the same dedup_key.",
        configSchema: Config.schema, defaultTemplates: Config.defaultTemplates)

    private let config: Config
    private let sender: Sender

    static func validate(_ config: Config) throws(ConfigProblem) { try config.validate() }

    init(config: Config, host: HostServices) throws(ConfigProblem) {
        try config.validate()
        self.config = config
        sender = Sender(maxConnections: 8)  // its thread starts here: only for a valid config
    }

    func submit(_ message: Message, completion: Completion) {
        let body: [UInt8]
        do {
            let event = try message.event()
            let summary = message.rendered["summary"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(event.name) on \(event.objectID)"
            body = try PagerDutyEvent(event: event, summary: summary, config: config).body()
        } catch {
            completion(.fail("event: \(error)"))
            return
        }
        // 202 is delivered; 400 fails with PagerDuty's message; 429 and 5xx
        // are retried after Retry-After: the HTTP outcome rules.
        sender.post(body, contentType: "application/json", to: config.target, timeout: message.timeout,
                    completion: completion)
    }

    func close() { sender.close() }
}

@_cdecl("herald_plugin_entry")
public func heraldPluginEntry(_ abi: UInt32, _ host: UnsafeRawPointer?, _ error: UnsafeMutablePointer<CChar>?,
                              _ capacity: Int) -> UnsafeRawPointer? {
    PluginExport.entry(PagerDutyChannel.self, abi: abi, host: host, error: error, capacity: capacity)
}
