import CHeraldPlugin
import Synchronization

/// The host's services, as a plugin sees them.
public struct HostServices: Sendable {
    /// The host's table, kept as an address so this struct is plainly
    /// Sendable: the ABI keeps the table valid, and callable from any
    /// thread, until the process exits.
    private let address: UInt

    init(_ table: UnsafePointer<herald_host_api>) { address = UInt(bitPattern: table) }

    var table: UnsafePointer<herald_host_api> { UnsafePointer(bitPattern: address)! }

    public enum LogLevel: Sendable { case debug, info, warning, error }

    /// Writes a log line through the host. Never pass a secret.
    public func log(_ level: LogLevel, _ message: String) {
        let cLevel: Int32 = switch level {
        case .debug: HERALD_LOG_DEBUG
        case .info: HERALD_LOG_INFO
        case .warning: HERALD_LOG_WARNING
        case .error: HERALD_LOG_ERROR
        }
        var text = message
        text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { table.pointee.log(table, cLevel, $0.baseAddress, $0.count) }
        }
    }

    /// Milliseconds since the epoch, on the host's clock.
    public func nowMs() -> UInt64 { table.pointee.now_ms() }

    /// The size of the host table in ABI 1.0: what this kit reads of it.
    /// A host table at least this big has every function the kit calls.
    static let tableSize1_0 = MemoryLayout<herald_host_api>.offset(of: \.now_ms)! + MemoryLayout<UInt>.size
}

/// Reports one submission's outcome to the host, once.
///
/// A second call is dropped here and logged, so a plugin bug cannot reach
/// the host as a double completion.
public final class Completion: Sendable {
    private let token: UInt64
    /// The message's `completion_context`, as an address (Sendable): the
    /// host's value, handed back as it came.
    private let context: UInt
    private let host: HostServices
    private let done = Atomic<Bool>(false)

    init(token: UInt64, context: UnsafeMutableRawPointer?, host: HostServices) {
        self.token = token
        self.context = UInt(bitPattern: context)
        self.host = host
    }

    public func callAsFunction(_ outcome: Outcome) {
        guard !done.exchange(true, ordering: .acquiringAndReleasing) else {
            host.log(.error, "completion called twice for one submission; the second was dropped")
            return
        }
        let (code, after, flags, reason): (Int32, Double?, UInt32, String) = switch outcome {
        case .ok: (HERALD_OK, nil, 0, "")
        case .retry(let reason, let after, let endpointDown):
            (HERALD_RETRY, after, endpointDown ? HERALD_COMPLETE_ENDPOINT_DOWN : 0, reason)
        case .fail(let reason): (HERALD_FAIL, nil, 0, reason)
        }
        // A receiver's Retry-After can be any number: clamp it to a day
        // (NaN to 0) before it becomes milliseconds.
        let afterMs = UInt64(min(max(0, after ?? 0), 86_400) * 1000)
        var text = reason
        text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) {
                host.table.pointee.complete(UnsafeMutableRawPointer(bitPattern: context), token, code, flags, afterMs,
                                            $0.baseAddress, $0.count)
            }
        }
    }
}
