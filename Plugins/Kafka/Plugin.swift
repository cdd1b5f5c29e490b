import CRdKafka
import Foundation
import HeraldPluginKit
import Synchronization

/// The Kafka channel: one record per alert, produced asynchronously with
/// the idempotent producer; each delivery report completes its submission.
final class KafkaChannel: ChannelPlugin {
    static let info = PluginInfo(
        channel: "kafka", version: "1.0.0",
        description: "Produces each alert as a Kafka record (librdkafka, idempotent producer).",
        configSchema: Config.schema, defaultTemplates: Config.defaultTemplates)

    private let config: Config
    private let host: HostServices
    /// Replaced when librdkafka reports a fatal error, which no retry of
    /// the same producer can get past.
    private let producer: Mutex<Producer>

    static func validate(_ config: Config) throws(ConfigProblem) {
        try config.validate()
        rd_kafka_conf_destroy(try Producer.makeConf(config))
    }

    init(config: Config, host: HostServices) throws(ConfigProblem) {
        try config.validate()  // the producer checks the librdkafka settings itself
        self.config = config
        self.host = host
        producer = Mutex(try Producer(config: config, host: host))
    }

    /// The producer to use, a new one if the current one has failed.
    private func workingProducer() -> Producer {
        producer.withLock { producer in
            guard producer.hasFailed else { return producer }
            do throws(ConfigProblem) {
                let failed = producer
                producer = try Producer(config: config, host: host)
                host.log(.warning, "replaced the Kafka producer after its fatal error")
                // What it still holds comes back as RETRY; off this thread.
                Thread.detachNewThread { failed.close(timeoutMs: 0) }
            } catch {
                host.log(.error, "could not replace the failed Kafka producer: \(error)")
            }
            return producer
        }
    }

    func submit(_ message: Message, completion: Completion) {
        let event: Event
        do { event = try message.event() } catch {
            completion(.fail("event: \(error)"))
            return
        }
        workingProducer().produce(Producer.Record(
            key: Array((message.rendered["key"] ?? "\(event.policy)/\(event.objectID)").utf8),
            value: message.rendered["value"].map { Array($0.utf8) } ?? message.eventJSON,
            headers: [("event_id", event.id), ("delivery_id", message.deliveryID), ("level", event.level.rawValue),
                      ("status", event.status)]),
                         completion: completion)
    }

    func close() { producer.withLock { $0 }.close() }
}

@_cdecl("herald_plugin_entry")
public func heraldPluginEntry(_ abi: UInt32, _ host: UnsafeRawPointer?, _ error: UnsafeMutablePointer<CChar>?,
                              _ capacity: Int) -> UnsafeRawPointer? {
    PluginExport.entry(KafkaChannel.self, abi: abi, host: host, error: error, capacity: capacity)
}
