import CHeraldPlugin
import Foundation
import HeraldCore
import Logging
import Synchronization

/// The plugin side of a worker process (`herald plugin-worker MODE FILE`):
/// the plugin loaded here, in a process the daemon can lose.
public enum PluginWorker {
    /// Prints the plugin's description as one JSON line, or
    /// `{"refused":"..."}`; returns the exit status.
    public static func describe(file: String) -> Int32 {
        let logger = Logger(label: "herald.plugin-worker") { _ in SwiftLogNoOpLogHandler() }
        do {
            let plugin = try PluginLoader(logger: logger).load(file: file)
            print(String(decoding: try JSONEncoder().encode(plugin.description), as: UTF8.self))
        } catch let error as PluginLoadError {
            print(JSONValue.object(["refused": .string(error.reason)]).jsonText)
        } catch {
            print(JSONValue.object(["refused": .string("\(error)")]).jsonText)
        }
        return 0
    }

    /// Checks each config read from stdin (a JSON line `{"endpoint":...,
    /// "config":{...}}`), printing `{"refusal":...}` per line.
    public static func validate(file: String) -> Int32 {
        let logger = Logger(label: "herald.plugin-worker") { _ in SwiftLogNoOpLogHandler() }
        let plugin: LoadedPlugin
        do { plugin = try PluginLoader(logger: logger).load(file: file) } catch {
            print(JSONValue.object(["refusal": .string(error.reason)]).jsonText)
            return 0
        }
        while let line = readLine() {
            guard let request = try? JSONDecoder().decode(WorkerCommand.ValidateRequest.self, from: Data(line.utf8)) else {
                print(JSONValue.object(["refusal": .string("the worker could not read the request")]).jsonText)
                continue
            }
            do {
                try plugin.validate(config: request.config, endpoint: request.endpoint)
                print(JSONValue.object([:]).jsonText)
            } catch {
                print(JSONValue.object(["refusal": .string(error.message)]).jsonText)
            }
        }
        return 0
    }

    /// Serves one instance: reads frames on stdin, answers on stdout;
    /// returns the exit status once the daemon closes it or goes away.
    public static func serve(file: String) -> Int32 {
        // Frames go to a copy of stdout; the plugin's own prints to stdout
        // go to stderr, where they cannot break a frame.
        let frames = dup(1)
        dup2(2, 1)
        let out = FrameWriter(fd: frames)
        let logger = Logger(label: "herald.plugin-worker") { _ in FrameLogHandler(out: out) }
        HostServices.completionSink.withLock {
            $0 = HostServices.CompletionSink { _, token, outcome, flags, retryAfterMs, reason in
                out.send(.complete(token: token, outcome: outcome, flags: flags, retryAfterMs: retryAfterMs, reason: reason))
            }
        }
        let plugin: LoadedPlugin
        do { plugin = try PluginLoader(logger: logger).load(file: file) } catch {
            out.send(.result(error: error.reason))
            return 1
        }
        guard let native = plugin.native else { return 1 }
        var handle: UnsafeMutableRawPointer?
        while true {
            let body: [UInt8]?
            do { body = try FrameIO.read(from: 0) } catch {
                out.send(.log(level: HERALD_LOG_ERROR, text: "\(error)"))
                return 1
            }
            guard let body else { return 0 }  // the daemon is gone
            let frame: WorkerFrame
            do { frame = try WorkerFrame(body: body) } catch {
                out.send(.log(level: HERALD_LOG_ERROR, text: "\(error)"))
                return 1
            }
            switch frame {
            case .open(let endpoint, let config):
                Thread.current.threadDictionary[HostServices.endpointKey] = endpoint
                guard let json = try? JSONValue.parse(config) else {
                    out.send(.result(error: "the config is not JSON"))
                    continue
                }
                var message = [CChar](repeating: 0, count: Int(HERALD_ERROR_CAPACITY))
                let status = PluginConfig(json, endpoint: endpoint).withConfig {
                    native.descriptor.open?($0, native.table, &handle, &message, message.count) ?? 1
                }
                out.send(.result(error: status == 0 ? "" : HostServices.text(message, or: "the plugin could not open")))
            case .submit(let s):
                let submission = Submission(deliveryID: s.deliveryID, attempt: Int(s.attempt),
                                            timeout: Double(s.timeoutMs) / 1000, eventJSON: s.eventJSON,
                                            eventFields: FieldList(s.eventFields), renderedJSON: s.renderedJSON,
                                            renderedFields: FieldList(s.renderedFields))
                // The context is the daemon's business; here the token alone finds the waiter.
                let accepted = PluginInstance.withMessage(submission, token: s.token, context: 1) {
                    native.descriptor.submit?(handle, $0) == 0
                }
                if !accepted { out.send(.refused(token: s.token)) }
            case .close:
                native.descriptor.close?(handle)
                out.send(.result(error: ""))
                return 0
            case .result, .complete, .refused, .log:
                out.send(.log(level: HERALD_LOG_ERROR, text: "the worker got a frame only it sends"))
            }
        }
    }
}

/// Writes frames to the daemon, one whole frame at a time, from any thread.
final class FrameWriter: Sendable {
    private let fd: Int32
    private let lock = Mutex(())

    init(fd: Int32) { self.fd = fd }

    func send(_ frame: WorkerFrame) {
        let bytes = frame.encoded
        lock.withLock { _ in _ = FrameIO.write(bytes, to: fd) }
    }
}

/// The worker's log lines, sent to the daemon to be logged there.
struct FrameLogHandler: LogHandler {
    let out: FrameWriter
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let code: Int32 = switch event.level {
        case .trace, .debug: HERALD_LOG_DEBUG
        case .info, .notice: HERALD_LOG_INFO
        case .warning: HERALD_LOG_WARNING
        case .error, .critical: HERALD_LOG_ERROR
        }
        out.send(.log(level: code, text: "\(event.message)"))
    }
}
