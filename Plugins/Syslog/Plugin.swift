import Foundation
import HeraldPluginKit
import Synchronization

/// The syslog channel: one message per alert over UDP or TCP, RFC 5424 or 3164.
final class SyslogChannel: BlockingChannelPlugin {
    static let info = PluginInfo(
        channel: "syslog", version: "1.0.0",
        description: "Sends each alert as a syslog message (RFC 5424 or 3164) over UDP, TCP or TLS.",
        configSchema: Config.schema, defaultTemplates: Config.defaultTemplates)

    private let config: Config
    /// One socket per endpoint, used only by the single worker thread, so
    /// TCP messages keep their order on one connection.
    private let transport: Mutex<Transport>
    let workers = BlockingWorkers(count: 1)

    static func validate(_ config: Config) throws(ConfigProblem) { try config.validate() }

    init(config: Config, host: HostServices) throws(ConfigProblem) {
        try config.validate()
        self.config = config
        do throws(TransportError) {
            transport = Mutex(try Transport(destination: config.destination, caFile: config.caFile,
                                            tlsVerify: config.tlsVerify))
        } catch {
            throw ConfigProblem(field: "ca_file", error.description)
        }
    }

    func deliver(_ message: Message) -> Outcome {
        let event: Event
        do { event = try message.event() } catch { return .fail("event: \(error)") }
        let text = SyslogMessage(config: config, event: event, msgid: message.rendered["msgid"] ?? event.status,
                                 text: message.rendered["message"] ?? event.name, time: Date(),
                                 processID: getpid()).bytes
        // RFC 5425: TLS always counts octets.
        let wire = switch config.destination.transport {
        case .udp: text
        case .tcp: SyslogMessage.framed(text, config.framing)
        case .tls: SyslogMessage.framed(text, .octetCounting)
        }
        return transport.withLock { transport in
            do throws(TransportError) {
                try transport.send(wire, timeout: message.timeout)
                return .ok
            } catch {
                if case .system(_, EMSGSIZE) = error {
                    return .fail("message too large for one datagram; lower max_message_bytes")
                }
                // A connection or write that fails is the server's trouble, not the message's.
                return .retry("\(config.destination.transport.rawValue)://\(config.destination.host):\(config.destination.port): \(error)",
                              endpointDown: true)
            }
        }
    }

    func close() {
        workers.stop()
        transport.withLock { $0.disconnect() }
    }
}

@_cdecl("herald_plugin_entry")
public func heraldPluginEntry(_ abi: UInt32, _ host: UnsafeRawPointer?, _ error: UnsafeMutablePointer<CChar>?,
                              _ capacity: Int) -> UnsafeRawPointer? {
    PluginExport.entry(SyslogChannel.self, abi: abi, host: host, error: error, capacity: capacity)
}
