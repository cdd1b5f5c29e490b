import HeraldPluginKit
import HTTPSupport

/// The PagerDuty channel: Events API v2, trigger on firing and resolve on
/// recovery under one dedup_key per policy, alert and object. 202 is
/// delivered; 400 fails with PagerDuty's message; 429 and 5xx are retried
/// after Retry-After.
enum PagerDutyCallback: CallbackFormat {
    static let info = PluginInfo(
        channel: "pagerduty", version: "1.0.0",
        description: "Sends each alert to PagerDuty's Events API v2: trigger, then resolve with the same dedup_key.",
        configSchema: Config.schema, defaultTemplates: Config.defaultTemplates)

    static func validate(_ config: Config) throws(ConfigProblem) { try config.validate() }

    static func target(of config: Config) -> CallbackTarget { config.target }

    static func body(for message: Message, config: Config) throws -> (bytes: [UInt8], contentType: String) {
        let event = try message.event()
        let summary = message.rendered["summary"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(event.name) on \(event.objectID)"
        return (try PagerDutyEvent(event: event, summary: summary, config: config).body(), "application/json")
    }
}

@_cdecl("herald_plugin_entry")
public func heraldPluginEntry(_ abi: UInt32, _ host: UnsafeRawPointer?, _ error: UnsafeMutablePointer<CChar>?,
                              _ capacity: Int) -> UnsafeRawPointer? {
    PluginExport.entry(CallbackChannel<PagerDutyCallback>.self, abi: abi, host: host, error: error, capacity: capacity)
}
