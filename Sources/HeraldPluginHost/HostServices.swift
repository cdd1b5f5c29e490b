import CHeraldPlugin
import Foundation
import Logging
import Synchronization

/// The `herald_host_api` tables handed to plugins, one per plugin so that a
/// log line can be tagged with the plugin that wrote it.
///
/// C callbacks capture nothing, so what they need (the logger, which table
/// is whose) lives here, process-wide.
enum HostServices {
    private struct Speaker {
        var name: String
        var logger: Logger
    }

    /// Table address → who owns it.
    private static let speakers = Mutex<[UInt: Speaker]>([:])

    /// The logger for host-side messages about plugins (double completions...).
    static let logger = Mutex<Logger?>(nil)

    /// Where completions go in a plugin worker process (to the daemon, as
    /// frames); nil in the daemon, where they go to `CompletionBridge`.
    ///
    /// A class around the closure, not the closure itself: a function value
    /// kept in a `Mutex` is reabstracted on every `withLock` (its inout
    /// write-back wraps it in two more thunks), so each completion made the
    /// next one slower; a profile of a worker showed 90% of its time there.
    static let completionSink = Mutex<CompletionSink?>(nil)

    final class CompletionSink: Sendable {
        let send: @Sendable (UInt, UInt64, Int32, UInt32, UInt64, String) -> Void
        init(_ send: @escaping @Sendable (UInt, UInt64, Int32, UInt32, UInt64, String) -> Void) { self.send = send }
    }

    /// The key under which an instance's call thread keeps its endpoint's
    /// name, so a log line from that thread names the endpoint too.
    static let endpointKey = "herald.endpoint"

    /// A new table for one plugin. Never freed: the ABI lets a plugin keep
    /// it until the process exits.
    static func makeTable(for name: String, logger: Logger) -> UnsafeMutablePointer<herald_host_api> {
        let table = UnsafeMutablePointer<herald_host_api>.allocate(capacity: 1)
        table.initialize(to: herald_host_api(
            abi_version: UInt32(HERALD_ABI_MAJOR << 16 | HERALD_ABI_MINOR),
            struct_size: UInt32(MemoryLayout<herald_host_api>.size),
            log: { table, level, message, length in HostServices.log(table, level, message, length) },
            complete: { context, token, outcome, flags, retryAfter, reason, length in
                let text = HostServices.string(reason, length)
                if let sink = HostServices.completionSink.withLock({ $0 }) {
                    sink.send(UInt(bitPattern: context), token, outcome, flags, retryAfter, text)
                } else {
                    CompletionBridge.shared.complete(context: UInt(bitPattern: context), token: token, outcome: outcome,
                                                     flags: flags, retryAfterMs: retryAfter, reason: text)
                }
            },
            now_ms: { HostServices.nowMs() }
        ))
        speakers.withLock { $0[UInt(bitPattern: table)] = Speaker(name: name, logger: logger) }
        return table
    }

    /// Renames a table's owner once its descriptor tells the channel.
    static func rename(_ table: UnsafeMutablePointer<herald_host_api>, to name: String) {
        speakers.withLock { $0[UInt(bitPattern: table)]?.name = name }
    }

    static func nowMs() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UInt64(spec.tv_sec) * 1000 + UInt64(spec.tv_nsec) / 1_000_000
    }

    /// UTF-8 bytes from a plugin as a String (invalid sequences repaired).
    static func string(_ pointer: UnsafePointer<CChar>?, _ length: Int) -> String {
        guard let pointer, length > 0 else { return "" }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    /// A NUL-terminated message a plugin wrote into an error buffer, or
    /// `fallback` when it wrote none. Reads no further than the buffer, so
    /// a plugin that forgot the NUL cannot make the host read past it.
    static func text(_ buffer: [CChar], or fallback: String) -> String {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        let text = String(decoding: bytes, as: UTF8.self)
        return text.isEmpty ? fallback : text
    }

    private static func log(_ table: UnsafePointer<herald_host_api>?, _ level: Int32,
                            _ message: UnsafePointer<CChar>?, _ length: Int) {
        let speaker = table.flatMap { table in speakers.withLock { $0[UInt(bitPattern: table)] } }
        guard let speaker else { return }
        let text = string(message, length)
        let swiftLevel: Logger.Level = switch level {
        case HERALD_LOG_DEBUG: .debug
        case HERALD_LOG_WARNING: .warning
        case HERALD_LOG_ERROR: .error
        default: .info
        }
        var metadata: Logger.Metadata = ["plugin": "\(speaker.name)"]
        if let endpoint = Thread.current.threadDictionary[endpointKey] as? String { metadata["endpoint"] = "\(endpoint)" }
        speaker.logger.log(level: swiftLevel, "\(text)", metadata: metadata)
    }
}
