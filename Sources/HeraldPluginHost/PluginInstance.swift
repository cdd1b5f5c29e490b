import CHeraldPlugin
import Foundation
public import HeraldCore
import Synchronization

/// One delivery attempt as the host hands it to a plugin instance.
public struct Submission: Sendable {
    public var deliveryID: String
    public var attempt: Int
    /// Seconds the host waits for the outcome.
    public var timeout: Double
    public var eventJSON: [UInt8]
    public var eventFields: FieldList
    public var renderedJSON: [UInt8]
    public var renderedFields: FieldList

    public init(deliveryID: String, attempt: Int, timeout: Double, eventJSON: [UInt8], eventFields: FieldList,
                renderedJSON: [UInt8], renderedFields: FieldList) {
        self.deliveryID = deliveryID
        self.attempt = attempt
        self.timeout = timeout
        self.eventJSON = eventJSON
        self.eventFields = eventFields
        self.renderedJSON = renderedJSON
        self.renderedFields = renderedFields
    }

    /// The ABI's timeout field: milliseconds, at least 1, within 32 bits.
    var timeoutMs: UInt32 {
        timeout.isFinite ? UInt32(min(max(1, timeout * 1000), Double(UInt32.max))) : UInt32.max
    }
}

/// An open plugin instance serving one endpoint, in this process or in a
/// worker process of its own.
///
/// Implementation requirements: `submit` never runs plugin code on the
/// caller's thread and always returns, by the submission's timeout at the
/// latest; `close` returns by its timeout whatever the plugin does.
public protocol ChannelInstance: AnyObject, Sendable {
    var plugin: LoadedPlugin { get }
    /// Hands one submission to the plugin and waits for its outcome, or for
    /// its timeout to pass (then the outcome is RETRY).
    func submit(_ submission: Submission) async -> DeliveryOutcome
    /// How long the plugin call now running has taken, in seconds; nil when
    /// none runs. Longer than the endpoint's timeout means the plugin hangs.
    func busyFor() -> Double?
    /// Called on the dispatcher's tick: a worker process that hangs is
    /// killed here, and one that crashed is started again once its backoff
    /// passed. Never blocks.
    func watchdog()
    /// False while the instance cannot take submissions (its worker
    /// process is being started again after a crash).
    func isAvailable() -> Bool
    /// Closes the instance; returns false when the plugin did not finish
    /// within `timeout` seconds (it is then left behind). Blocks the caller
    /// meanwhile: call it off the cooperative pool.
    func close(timeout: Double) -> Bool
}

/// An instance in this process. Every call into the plugin runs on the
/// instance's own thread (`CallThread`), one at a time.
public final class PluginInstance: ChannelInstance {
    public let plugin: LoadedPlugin
    private let thread: CallThread
    /// The plugin's `void *instance`, as an address (Sendable).
    private let handle: UInt
    private let owner: CompletionBridge.Finished
    private let longest = Mutex<Double>(0)
    /// Set once `close` is queued: a submission after it never reaches the plugin.
    private let closing = Atomic<Bool>(false)

    private static let lastContext = Atomic<UInt>(0)

    private init(plugin: LoadedPlugin, thread: CallThread, handle: UInt, owner: CompletionBridge.Finished) {
        self.plugin = plugin
        self.thread = thread
        self.handle = handle
        self.owner = owner
    }

    /// Opens an instance for `endpoint` on a new thread of its own. Blocks
    /// the caller until the plugin's `open` returns (at most
    /// `LoadedPlugin.callTimeout`): call it off the cooperative pool.
    /// - Throws: `PluginConfigError` with the plugin's reason, or when
    ///   `open` did not return in time.
    public static func open(_ described: LoadedPlugin, config: JSONValue,
                            endpoint: String) throws(PluginConfigError) -> PluginInstance {
        // A plugin described by a worker is loaded here only now, because an
        // endpoint asked for it to run in the daemon (`isolation: none`).
        let plugin: LoadedPlugin
        if described.native != nil {
            plugin = described
        } else {
            do {
                plugin = try PluginLoader(logger: described.logger).load(file: described.file)
            } catch {
                throw PluginConfigError(field: nil, message: error.reason)
            }
        }
        guard let native = plugin.native else { throw PluginConfigError(field: nil, message: "the plugin is not loaded") }
        let thread = CallThread(name: endpoint)
        thread.run { Thread.current.threadDictionary[HostServices.endpointKey] = endpoint }
        let pluginConfig = PluginConfig(config, endpoint: endpoint)
        let result = thread.call(timeout: LoadedPlugin.callTimeout) { () -> (Int32, UInt, [CChar]) in
            var message = [CChar](repeating: 0, count: Int(HERALD_ERROR_CAPACITY))
            var instance: UnsafeMutableRawPointer?
            let status = pluginConfig.withConfig { plugin.native?.descriptor.open?($0, native.table, &instance, &message, message.count) ?? 1 }
            return (status, UInt(bitPattern: instance), message)
        }
        guard let (status, handle, message) = result else {
            // The thread stays blocked in the plugin; nothing else will run on it.
            thread.stop()
            throw PluginConfigError(field: nil, message: "the plugin's open did not return within \(Int(LoadedPlugin.callTimeout)) s")
        }
        guard status == 0 else {
            thread.stop()
            throw PluginConfigError(field: nil, message: HostServices.text(message, or: "the plugin could not open"))
        }
        let context = lastContext.add(1, ordering: .relaxed).newValue
        return PluginInstance(plugin: plugin, thread: thread, handle: handle,
                              owner: CompletionBridge.Finished(channel: plugin.channel, context: context, logger: plugin.logger,
                                                               breaks: plugin.ruleBreaks))
    }

    public func submit(_ submission: Submission) async -> DeliveryOutcome {
        let bridge = CompletionBridge.shared
        let token = bridge.nextToken()
        return await bridge.await(token: token, plugin: owner, timeoutMs: UInt64(submission.timeoutMs)) {
            let queued = thread.run { [self] in
                // A submission that waited out its timeout behind a slow call
                // was already given up as RETRY: not sent late as well.
                guard bridge.isWaiting(token) else { return }
                guard !closing.load(ordering: .acquiring) else {
                    bridge.finish(token, with: .retry(reason: "the plugin instance was closed", retryAfter: nil))
                    return
                }
                let started = CallThread.now()
                let accepted = Self.withMessage(submission, token: token, context: owner.context) { message in
                    plugin.native?.descriptor.submit?(UnsafeMutableRawPointer(bitPattern: handle), message) == 0
                }
                let took = CallThread.now() - started
                longest.withLock { $0 = max($0, took) }
                if !accepted { bridge.refused(token: token) }
            }
            if !queued {
                bridge.finish(token, with: .retry(reason: "the plugin instance was closed", retryAfter: nil))
            }
        }
    }

    public func busyFor() -> Double? { thread.busyFor() }

    /// The longest a `submit` call took so far, in seconds: the threading
    /// rule wants it short.
    public var longestSubmit: Double { longest.withLock { $0 } }

    public func close(timeout: Double) -> Bool {
        let (plugin, handle) = (plugin, handle)
        closing.store(true, ordering: .releasing)
        let closed = thread.call(timeout: timeout) { plugin.native?.descriptor.close?(UnsafeMutableRawPointer(bitPattern: handle)) } != nil
        thread.stop()
        return closed
    }

    /// The submission as a `herald_message`, valid inside `body` only.
    static func withMessage<R>(_ s: Submission, token: UInt64, context: UInt,
                               _ body: (UnsafePointer<herald_message>) -> R) -> R {
        s.deliveryID.withCString { id in
            s.eventJSON.withUnsafeBufferPointer { event in
                s.renderedJSON.withUnsafeBufferPointer { rendered in
                    s.eventFields.withFields { eventFields, eventCount in
                        s.renderedFields.withFields { renderedFields, renderedCount in
                            var message = herald_message()
                            message.abi_version = PluginLoader.hostVersion
                            message.struct_size = UInt32(MemoryLayout<herald_message>.size)
                            message.token = token
                            message.completion_context = UnsafeMutableRawPointer(bitPattern: context)
                            message.delivery_id = id
                            message.attempt = UInt32(clamping: s.attempt)
                            message.timeout_ms = s.timeoutMs
                            message.event_schema_version = UInt32(HERALD_EVENT_SCHEMA_VERSION)
                            message.event_json = UnsafeRawPointer(event.baseAddress)?.assumingMemoryBound(to: CChar.self)
                            message.event_json_length = event.count
                            message.event_fields = eventFields
                            message.event_field_count = eventCount
                            message.rendered_json = UnsafeRawPointer(rendered.baseAddress)?.assumingMemoryBound(to: CChar.self)
                            message.rendered_json_length = rendered.count
                            message.rendered_fields = renderedFields
                            message.rendered_field_count = renderedCount
                            return withUnsafePointer(to: &message) { body($0) }
                        }
                    }
                }
            }
        }
    }
}

extension LoadedPlugin {
    /// Opens an in-process instance (`PluginInstance.open`); blocks.
    public func open(config: JSONValue, endpoint: String = "") throws(PluginConfigError) -> PluginInstance {
        try PluginInstance.open(self, config: config, endpoint: endpoint)
    }
}

extension ChannelInstance {
    /// Closes, waiting up to 10 s; blocks.
    public func close() { _ = close(timeout: 10) }

    public func watchdog() {}
    public func isAvailable() -> Bool { true }
}

/// Gives up, as RETRY, every submission whose timeout has passed. The
/// dispatcher calls it on a short tick.
public func expireOverdueSubmissions() {
    CompletionBridge.shared.expireOverdue()
}
