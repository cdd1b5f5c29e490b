import Foundation
import HeraldPluginKit
import HTTPSupport

/// The Tencent channel: Tencent Cloud Monitor's JSON alarm callback.
enum TencentCallback: CallbackFormat {
    static let info = PluginInfo(
        channel: "tencent", version: "1.0.0",
        description: "Posts each alert as a Tencent Cloud Monitor alarm callback (JSON); alarmStatus 1 firing, 0 resolved.",
        configSchema: Config.schema)

    static func validate(_ config: Config) throws(ConfigProblem) { try config.validate() }

    static func target(of config: Config) -> CallbackTarget { config.target }

    static func body(for message: Message, config: Config) throws -> (bytes: [UInt8], contentType: String) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let alarm = TencentAlarm(event: try message.event(), deliveryID: message.deliveryID, config: config, now: Date())
        return (Array(try encoder.encode(alarm)), "application/json")
    }
}

@_cdecl("herald_plugin_entry")
public func heraldPluginEntry(_ abi: UInt32, _ host: UnsafeRawPointer?, _ error: UnsafeMutablePointer<CChar>?,
                              _ capacity: Int) -> UnsafeRawPointer? {
    PluginExport.entry(CallbackChannel<TencentCallback>.self, abi: abi, host: host, error: error, capacity: capacity)
}
