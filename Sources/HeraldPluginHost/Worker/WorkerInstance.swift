import CHeraldPlugin
import Foundation
public import HeraldCore
import Logging
import Synchronization

/// An instance in a supervised worker process (`isolation: process`): the
/// same `.so`, loaded by `herald plugin-worker serve`, driven over frames
/// on the worker's stdin and stdout.
///
/// A crash is an outcome, not an outage: the worker's submissions in flight
/// end as `.crash` ("plugin crashed (signal 11)"), and the worker is started
/// again with backoff. A worker that leaves a submission without an outcome
/// well past its timeout hangs, and is killed the same way.
public final class WorkerInstance: ChannelInstance {
    public let plugin: LoadedPlugin
    private let endpoint: String
    private let config: JSONValue
    private let command: WorkerCommand
    private let owner: CompletionBridge.Finished
    /// Writes frames to the worker, off the cooperative pool: a write can
    /// block while the worker does not read.
    private let writer: CallThread
    private let state = Mutex(State())

    private struct State {
        var worker: Running?
        /// Submissions written to the running worker and not yet ended:
        /// token → monotonic seconds when sent, and its timeout.
        var inFlight: [UInt64: (sent: Double, timeout: Double)] = [:]
        /// Crashes in a row, for the restart backoff.
        var crashes = 0
        /// Monotonic seconds before which no new worker is started.
        var restartAt: Double = 0
        var lastCrash = ""
        var closing = false
        /// A start is queued on the writer thread.
        var starting = false
        /// Why the running worker is being killed, when it is.
        var killReason: String?
        /// Who waits for the worker's answer to `open` or `close`.
        var result: (@Sendable (String) -> Void)?
    }

    private struct Running {
        let process: Process
        /// The write end of its stdin.
        let input: Int32
    }

    private static let lastContext = Atomic<UInt>(1 << 32)

    /// Starts a worker and opens the instance in it. Blocks up to
    /// `LoadedPlugin.callTimeout`: call it off the cooperative pool.
    /// - Throws: `PluginConfigError` with the plugin's reason.
    public static func open(_ plugin: LoadedPlugin, config: JSONValue, endpoint: String,
                            command: WorkerCommand) throws(PluginConfigError) -> WorkerInstance {
        let context = lastContext.add(1, ordering: .relaxed).newValue
        let instance = WorkerInstance(plugin: plugin, endpoint: endpoint, config: config, command: command,
                                      owner: CompletionBridge.Finished(channel: plugin.channel, context: context,
                                                                       logger: plugin.logger, breaks: plugin.ruleBreaks))
        if let error = instance.start() {
            instance.writer.stop()
            throw PluginConfigError(field: nil, message: error)
        }
        return instance
    }

    private init(plugin: LoadedPlugin, endpoint: String, config: JSONValue, command: WorkerCommand,
                 owner: CompletionBridge.Finished) {
        self.plugin = plugin
        self.endpoint = endpoint
        self.config = config
        self.command = command
        self.owner = owner
        writer = CallThread(name: endpoint)
    }

    // MARK: - Submissions

    public func submit(_ submission: Submission) async -> DeliveryOutcome {
        let bridge = CompletionBridge.shared
        let token = bridge.nextToken()
        let frame = WorkerFrame.submit(.init(
            token: token, deliveryID: submission.deliveryID, attempt: UInt32(clamping: submission.attempt),
            timeoutMs: submission.timeoutMs, eventJSON: submission.eventJSON, eventFields: submission.eventFields.pairs,
            renderedJSON: submission.renderedJSON, renderedFields: submission.renderedFields.pairs))
        return await bridge.await(token: token, plugin: owner, timeoutMs: UInt64(submission.timeoutMs)) {
            let queued = writer.run { [self] in
                guard bridge.isWaiting(token) else { return }
                guard let input = runningWorker() else {
                    let why = state.withLock { $0.lastCrash }
                    bridge.finish(token, with: .retry(reason: "the plugin's worker process is restarting (\(why))",
                                                      retryAfter: nil, endpointDown: true))
                    return
                }
                state.withLock { $0.inFlight[token] = (CallThread.now(), submission.timeout) }
                if !FrameIO.write(frame.encoded, to: input) {
                    // The worker is gone; its reader ends what it had in flight, this one included.
                    return
                }
            }
            if !queued { bridge.finish(token, with: .retry(reason: "the plugin instance was closed", retryAfter: nil)) }
        }
    }

    public func busyFor() -> Double? { writer.busyFor() }

    public func isAvailable() -> Bool { state.withLock { $0.worker != nil } }

    /// Kills a worker that left a submission without an outcome well past
    /// its timeout: it hangs, and only a new process gets the endpoint going.
    public func watchdog() {
        let now = CallThread.now()
        let victim = state.withLock { state -> (pid_t, Double)? in
            guard state.killReason == nil, let worker = state.worker else { return nil }
            guard let overdue = state.inFlight.values.map({ now - $0.sent - $0.timeout }).max(), overdue > 2 else { return nil }
            state.killReason = "plugin hung: no outcome for \(Int(overdue + 2)) s past a timeout; its worker was killed"
            return (worker.process.processIdentifier, overdue)
        }
        if let (pid, _) = victim { kill(pid, SIGKILL) }
        // A crashed worker is started again here, on the writer thread, once due.
        let due = state.withLock { state -> Bool in
            guard !state.closing, !state.starting, state.worker == nil, now >= state.restartAt else { return false }
            state.starting = true
            return true
        }
        if due {
            writer.run { [self] in
                _ = runningWorker()
                state.withLock { $0.starting = false }
            }
        }
    }

    public func close(timeout: Double) -> Bool {
        let (input, pid) = state.withLock { state -> (Int32?, pid_t?) in
            state.closing = true
            return (state.worker?.input, state.worker?.process.processIdentifier)
        }
        defer { writer.stop() }
        guard let input, let pid else { return true }
        let answered = DispatchSemaphore(value: 0)
        state.withLock { $0.result = { _ in answered.signal() } }
        let sent = writer.call(timeout: timeout) { FrameIO.write(WorkerFrame.close.encoded, to: input) } ?? false
        if sent, answered.wait(timeout: .now() + timeout) == .success { return true }
        kill(pid, SIGKILL)
        return false
    }

    // MARK: - The worker process

    /// The running worker's stdin, starting a new worker when the last one
    /// crashed and its backoff has passed; nil while it may not start.
    private func runningWorker() -> Int32? {
        let (input, due) = state.withLock { state -> (Int32?, Bool) in
            (state.worker?.input, !state.closing && state.worker == nil && CallThread.now() >= state.restartAt)
        }
        if let input { return input }
        guard due else { return nil }
        if let error = start() {
            noteCrash("could not start again: \(error)")
            return nil
        }
        return state.withLock { $0.worker?.input }
    }

    /// Starts a worker and opens the instance in it; the error, or nil.
    private func start() -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command.executable)
        process.arguments = command.arguments + ["serve", plugin.file]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        do { try process.run() } catch { return "cannot start the worker (\(command.executable)): \(error)" }
        let inputFD = input.fileHandleForWriting.fileDescriptor
        let opened = Mutex<String?>(nil)
        let answered = DispatchSemaphore(value: 0)
        state.withLock { state in
            state.worker = Running(process: process, input: inputFD)
            state.killReason = nil
            state.result = { error in
                opened.withLock { $0 = error }
                answered.signal()
            }
        }
        let reader = Thread { [self] in read(from: output.fileHandleForReading.fileDescriptor, process: process, input: input) }
        reader.name = String("worker \(endpoint)".prefix(15))
        reader.start()
        guard FrameIO.write(WorkerFrame.open(endpoint: endpoint, config: config.jsonText).encoded, to: inputFD),
              answered.wait(timeout: .now() + LoadedPlugin.callTimeout) == .success else {
            kill(process.processIdentifier, SIGKILL)
            return "the worker did not open the instance within \(Int(LoadedPlugin.callTimeout)) s"
        }
        if let error = opened.withLock({ $0 }), !error.isEmpty {
            kill(process.processIdentifier, SIGKILL)
            return error
        }
        state.withLock { $0.crashes = 0 }
        return nil
    }

    /// The reader thread of one worker: outcomes, logs and answers, then,
    /// at end of file, what its death means for what it had in flight.
    private func read(from fd: Int32, process: Process, input: Pipe) {
        let bridge = CompletionBridge.shared
        while let body = try? FrameIO.read(from: fd), let frame = try? WorkerFrame(body: body) {
            switch frame {
            case .complete(let token, let outcome, let flags, let retryAfterMs, let reason):
                state.withLock { _ = $0.inFlight.removeValue(forKey: token) }
                bridge.complete(context: owner.context, token: token, outcome: outcome, flags: flags,
                                retryAfterMs: retryAfterMs, reason: reason)
            case .refused(let token):
                state.withLock { _ = $0.inFlight.removeValue(forKey: token) }
                bridge.refused(token: token)
            case .log(let level, let text):
                let swiftLevel: Logger.Level = switch level {
                case HERALD_LOG_DEBUG: .debug
                case HERALD_LOG_WARNING: .warning
                case HERALD_LOG_ERROR: .error
                default: .info
                }
                plugin.logger.log(level: swiftLevel, "\(text)", metadata: ["plugin": "\(plugin.channel)", "endpoint": "\(endpoint)"])
            case .result(let error):
                state.withLock { $0.result }?(error)
            case .open, .submit, .close:
                break
            }
        }
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        let how = process.terminationReason == .uncaughtSignal
            ? "signal \(process.terminationStatus)" : "exit status \(process.terminationStatus)"
        let (lost, closing, killed) = state.withLock { state -> ([UInt64], Bool, String?) in
            let lost = Array(state.inFlight.keys)
            state.inFlight.removeAll()
            state.worker = nil
            return (lost, state.closing, state.killReason)
        }
        state.withLock { $0.result }?("the worker ended (\(how))")
        if closing {
            for token in lost { bridge.finish(token, with: .retry(reason: "the plugin instance was closed", retryAfter: nil)) }
            return
        }
        if let killed {
            // A hang is the endpoint's trouble, not one delivery's: held, not poison.
            for token in lost { bridge.finish(token, with: .retry(reason: killed, retryAfter: nil, endpointDown: true)) }
            noteCrash(killed, inFlight: lost.count)
            return
        }
        let reason = "plugin crashed (\(how))"
        for token in lost { bridge.finish(token, with: .crash(reason: reason, alone: lost.count == 1)) }
        noteCrash(reason, inFlight: lost.count)
    }

    /// Schedules the next start with backoff (1 s, doubling, at most 60 s).
    private func noteCrash(_ reason: String, inFlight: Int = 0) {
        let delay = state.withLock { state -> Double in
            state.crashes += 1
            state.lastCrash = reason
            let delay = min(60, pow(2, Double(min(state.crashes - 1, 6))))
            state.restartAt = CallThread.now() + delay
            return delay
        }
        plugin.logger.error("Plugin worker ended; starting it again", metadata: [
            "plugin": "\(plugin.channel)", "endpoint": "\(endpoint)", "reason": "\(reason)",
            "deliveries.in_flight": "\(inFlight)", "restart.in_seconds": "\(Int(delay))"])
    }
}
