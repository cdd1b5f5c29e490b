import Foundation
import HeraldPluginKit
import Synchronization

/// The PCAP channel: alerts switch a packet capture on and off.
///
/// A push of an enabling level starts the endpoint's capture (or keeps it
/// running) and remembers its alert; a push of a disabling level forgets
/// its alert, and the capture stops once no alert that started it is left.
final class PCAPChannel: BlockingChannelPlugin {
    static let info = PluginInfo(
        channel: "pcap", version: "1.0.0",
        description: "Captures packets (libpcap, BPF filter) into rotating pcap files while alerts fire.",
        configSchema: Config.schema)

    private struct State {
        var firing: Set<String> = []
        var capture: Capture?
    }

    private let config: Config
    private let host: HostServices
    /// Used by the single worker thread (and `close`): switches stay in order.
    private let state = Mutex(State())
    let workers = BlockingWorkers(count: 1)

    static func validate(_ config: Config) throws(ConfigProblem) { try config.validate() }

    init(config: Config, host: HostServices) throws(ConfigProblem) {
        try config.validate()
        self.config = config
        self.host = host
    }

    func deliver(_ message: Message) -> Outcome {
        let event: Event
        do { event = try message.event() } catch { return .fail("event: \(error)") }
        return state.withLock { state in
            if config.enableLevels.contains(event.level) {
                state.firing.insert(event.dedupKey)
                if let capture = state.capture, !capture.hasStopped { return .ok }
                do throws(CaptureError) {
                    state.capture = try Capture(config: config)
                    host.log(.info, "capture started on \(config.interface) into \(config.directory) (\(event.dedupKey))")
                    return .ok
                } catch {
                    return .fail("capture: \(error)")
                }
            }
            if config.disableLevels.contains(event.level) {
                state.firing.remove(event.dedupKey)
                if state.firing.isEmpty, let capture = state.capture {
                    capture.stop()
                    state.capture = nil
                    host.log(.info, "capture on \(config.interface) stopped (\(event.dedupKey) recovered)")
                }
            }
            return .ok
        }
    }

    func close() {
        workers.stop()
        state.withLock { state in
            state.capture?.stop()
            state.capture = nil
        }
    }
}

@_cdecl("herald_plugin_entry")
public func heraldPluginEntry(_ abi: UInt32, _ host: UnsafeRawPointer?, _ error: UnsafeMutablePointer<CChar>?,
                              _ capacity: Int) -> UnsafeRawPointer? {
    PluginExport.entry(PCAPChannel.self, abi: abi, host: host, error: error, capacity: capacity)
}
