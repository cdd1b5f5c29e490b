import CHeraldPlugin
public import HeraldCore

/// One opened plugin instance, serving one endpoint.
///
/// `@unchecked Sendable` is safe: `handle` never changes, and the ABI's
/// threading rule requires a plugin to accept `submit` from several
/// threads at once. `close` is called once, by the owner, after its last
/// `submit` returned.
public final class PluginInstance: @unchecked Sendable {
    public let plugin: LoadedPlugin
    private let descriptor: UnsafePointer<herald_plugin_descriptor>
    private let handle: UnsafeMutableRawPointer?

    init(plugin: LoadedPlugin, descriptor: UnsafePointer<herald_plugin_descriptor>, handle: UnsafeMutableRawPointer?) {
        self.plugin = plugin
        self.descriptor = descriptor
        self.handle = handle
    }

    /// Hands one message to the plugin and waits for its outcome, or for
    /// `timeout` to pass (then the outcome is RETRY).
    public func submit(deliveryID: String, attempt: Int, timeout: Double, eventJSON: [UInt8],
                       renderedJSON: [UInt8]) async -> DeliveryOutcome {
        let token = CompletionBridge.shared.nextToken()
        // The config holds timeouts to a day; clamp anyway, as the ABI's field is 32 bits.
        let timeoutMs = timeout.isFinite ? UInt64(min(max(1, timeout * 1000), Double(UInt32.max))) : UInt64(UInt32.max)
        return await CompletionBridge.shared.await(token: token, channel: plugin.channel, logger: plugin.logger,
                                                   timeoutMs: timeoutMs) {
            deliveryID.withCString { id in
                eventJSON.withUnsafeBufferPointer { event in
                    renderedJSON.withUnsafeBufferPointer { rendered in
                        var message = herald_message(
                            abi_version: UInt32(HERALD_ABI_MAJOR << 16 | HERALD_ABI_MINOR),
                            struct_size: UInt32(MemoryLayout<herald_message>.size),
                            token: token, delivery_id: id, attempt: UInt32(attempt),
                            timeout_ms: UInt32(clamping: timeoutMs),
                            event_json: UnsafeRawPointer(event.baseAddress)?.assumingMemoryBound(to: CChar.self),
                            event_json_length: event.count,
                            rendered_json: UnsafeRawPointer(rendered.baseAddress)?.assumingMemoryBound(to: CChar.self),
                            rendered_json_length: rendered.count)
                        return descriptor.pointee.submit(handle, &message) == 0
                    }
                }
            }
        }
    }

    /// Closes the instance. Blocks while the plugin finishes its work.
    public func close() {
        descriptor.pointee.close(handle)
    }
}

/// Gives up, as RETRY, every submission whose timeout has passed. The
/// dispatcher calls it on a short tick.
public func expireOverdueSubmissions() {
    CompletionBridge.shared.expireOverdue()
}
