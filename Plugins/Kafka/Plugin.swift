import CRdKafka
import HeraldPluginKit

/// The Kafka channel: one record per alert, produced asynchronously with
/// the idempotent producer; each delivery report completes its submission.
final class KafkaChannel: ChannelPlugin {
    static let info = PluginInfo(
        channel: "kafka", version: "1.0.0",
        description: "Produces each alert as a Kafka record (librdkafka, idempotent producer).",
        configSchema: Config.schema, defaultTemplates: Config.defaultTemplates)

    private let producer: Producer

    static func validate(_ config: Config) throws(ConfigProblem) {
        try config.validate()
        rd_kafka_conf_destroy(try Producer.makeConf(config))
    }

    init(config: Config, host: HostServices) throws(ConfigProblem) {
        try Self.validate(config)
        producer = try Producer(config: config, host: host)
    }

    func submit(_ message: Message, completion: Completion) {
        let event: Event
        do { event = try message.event() } catch {
            completion(.fail("event: \(error)"))
            return
        }
        producer.produce(Producer.Record(
            key: Array((message.rendered["key"] ?? "\(event.policy)/\(event.objectID)").utf8),
            value: message.rendered["value"].map { Array($0.utf8) } ?? message.eventJSON,
            headers: [("event_id", event.id), ("delivery_id", message.deliveryID), ("level", event.level.rawValue),
                      ("status", event.status)]),
                         completion: completion)
    }

    func close() { producer.close() }
}

@_cdecl("herald_plugin_entry")
public func heraldPluginEntry(_ abi: UInt32, _ host: UnsafeRawPointer?, _ error: UnsafeMutablePointer<CChar>?,
                              _ capacity: Int) -> UnsafeRawPointer? {
    PluginExport.entry(KafkaChannel.self, abi: abi, host: host, error: error, capacity: capacity)
}
