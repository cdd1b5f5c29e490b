import HeraldPluginKit
import HTTPSupport

/// The Aliyun channel: CloudMonitor's form alert callback.
enum AliyunCallback: CallbackFormat {
    static let info = PluginInfo(
        channel: "aliyun", version: "1.0.0",
        description: "Posts each alert as an Aliyun CloudMonitor alert callback (form fields, optional HMAC signature).",
        configSchema: Config.schema)

    static func validate(_ config: Config) throws(ConfigProblem) { try config.validate() }

    static func target(of config: Config) -> CallbackTarget { config.target }

    static func body(for message: Message, config: Config) throws -> (bytes: [UInt8], contentType: String) {
        let form = AliyunForm(event: try message.event(), config: config)
        return (Array(form.body(secret: config.secret).utf8), "application/x-www-form-urlencoded; charset=UTF-8")
    }
}

@_cdecl("herald_plugin_entry")
public func heraldPluginEntry(_ abi: UInt32, _ host: UnsafeRawPointer?, _ error: UnsafeMutablePointer<CChar>?,
                              _ capacity: Int) -> UnsafeRawPointer? {
    PluginExport.entry(CallbackChannel<AliyunCallback>.self, abi: abi, host: host, error: error, capacity: capacity)
}
