import CHeraldPlugin
import HeraldCore
import Logging
public import Synchronization

/// Turns the ABI's "complete exactly once, from any thread" callback into
/// an `await`.
///
/// Each submission gets a fresh token; its waiter is resumed by the first
/// completion or by its deadline, whichever comes first, under one lock.
/// Anything after that (a second completion, a late one) finds no waiter
/// and is logged as a plugin bug and dropped.
final class CompletionBridge: Sendable {
    static let shared = CompletionBridge()

    private struct Waiter {
        let continuation: CheckedContinuation<DeliveryOutcome, Never>
        let deadlineMs: UInt64
        let plugin: Finished
    }

    /// Whose a finished submission was, so a late or second completion can
    /// be blamed on the right plugin, in the right log.
    struct Finished {
        let channel: String
        /// The `completion_context` the host handed out with it.
        let context: UInt
        let logger: Logger
        let breaks: RuleBreaks
    }

    /// How a submission ended, for telling a second completion from a late one.
    private enum Ending { case completed, expired, refused }

    private struct Recent {
        static let capacity = 4096
        var byToken: [UInt64: (Finished, Ending)] = [:]
        var order: [UInt64] = []
        var next = 0

        mutating func add(_ token: UInt64, _ finished: Finished, _ ending: Ending) {
            if order.count < Self.capacity {
                order.append(token)
            } else {
                byToken[order[next]] = nil
                order[next] = token
                next = (next + 1) % Self.capacity
            }
            byToken[token] = (finished, ending)
        }
    }

    private let waiters = Mutex<[UInt64: Waiter]>([:])
    private let recent = Mutex(Recent())
    private let lastToken = Atomic<UInt64>(0)

    func nextToken() -> UInt64 { lastToken.add(1, ordering: .relaxed).newValue }

    /// Registers a waiter for `token`, then runs `start`, which hands the
    /// submission over.
    func await(token: UInt64, plugin: Finished, timeoutMs: UInt64, start: () -> Void) async -> DeliveryOutcome {
        await withCheckedContinuation { continuation in
            let waiter = Waiter(continuation: continuation, deadlineMs: HostServices.nowMs() + timeoutMs, plugin: plugin)
            waiters.withLock { $0[token] = waiter }
            start()
        }
    }

    /// Whether `token`'s submission still waits for its outcome.
    func isWaiting(_ token: UInt64) -> Bool { waiters.withLock { $0[token] != nil } }

    /// The submission was refused on the spot (the plugin's submit returned
    /// non-zero): RETRY, unless it was completed or given up already.
    func refused(token: UInt64) {
        finish(token, with: .retry(reason: "the plugin refused the submission", retryAfter: nil), ending: .refused)
    }

    /// Ends a submission with `outcome` (a crashed worker, a closed
    /// instance) unless it ended already.
    func finish(_ token: UInt64, with outcome: DeliveryOutcome) { finish(token, with: outcome, ending: .expired) }

    private func finish(_ token: UInt64, with outcome: DeliveryOutcome, ending: Ending) {
        guard let waiter = waiters.withLock({ $0.removeValue(forKey: token) }) else { return }
        recent.withLock { $0.add(token, waiter.plugin, ending) }
        waiter.continuation.resume(returning: outcome)
    }

    /// Called by plugins through `herald_host_api.complete`, on any thread.
    func complete(context: UInt, token: UInt64, outcome: Int32, flags: UInt32, retryAfterMs: UInt64, reason: String) {
        guard let waiter = waiters.withLock({ $0.removeValue(forKey: token) }) else {
            if let (finished, ending) = recent.withLock({ $0.byToken[token] }) {
                let what: String
                switch ending {
                case .completed:
                    finished.breaks.secondCompletions.add(1, ordering: .relaxed)
                    what = "Ignored a second completion: the plugin broke the exactly-once rule"
                case .expired:
                    finished.breaks.lateCompletions.add(1, ordering: .relaxed)
                    what = "Ignored a completion that came after the submission's timeout"
                case .refused:
                    finished.breaks.completedRefusals.add(1, ordering: .relaxed)
                    what = "Ignored a completion of a submission the plugin had refused"
                }
                finished.logger.error("\(what)", metadata: ["plugin": "\(finished.channel)", "submission.token": "\(token)"])
            } else {
                HostServices.logger.withLock { $0 }?.error(
                    "Ignored a completion for an unknown submission", metadata: ["submission.token": "\(token)"])
            }
            return
        }
        recent.withLock { $0.add(token, waiter.plugin, .completed) }
        if context != waiter.plugin.context {
            waiter.plugin.breaks.wrongContexts.add(1, ordering: .relaxed)
            waiter.plugin.logger.error("A completion came with another completion_context than its message had", metadata: [
                "plugin": "\(waiter.plugin.channel)", "submission.token": "\(token)"])
        }
        let result: DeliveryOutcome
        switch outcome {
        case HERALD_OK: result = .ok(reason: reason)
        case HERALD_RETRY:
            result = .retry(reason: reason, retryAfter: retryAfterMs > 0 ? Double(retryAfterMs) / 1000 : nil,
                            endpointDown: flags & HERALD_COMPLETE_ENDPOINT_DOWN != 0)
        case HERALD_FAIL: result = .fail(reason: reason)
        default:
            waiter.plugin.breaks.badOutcomes.add(1, ordering: .relaxed)
            waiter.plugin.logger.error("A completion had an outcome that is not OK, RETRY or FAIL: recorded as FAIL", metadata: [
                "plugin": "\(waiter.plugin.channel)", "outcome": "\(outcome)"])
            result = .fail(reason: "plugin bug: outcome \(outcome) is not OK (0), RETRY (1) or FAIL (2)"
                           + (reason.isEmpty ? "" : "; \(reason)"))
        }
        waiter.continuation.resume(returning: result)
    }

    /// Gives up every submission whose deadline has passed, as RETRY.
    func expireOverdue(nowMs: UInt64 = HostServices.nowMs()) {
        let overdue = waiters.withLock { waiters -> [(UInt64, Waiter)] in
            let tokens = waiters.filter { $0.value.deadlineMs <= nowMs }.map(\.key)
            return tokens.compactMap { token in waiters.removeValue(forKey: token).map { (token, $0) } }
        }
        recent.withLock { recent in for (token, waiter) in overdue { recent.add(token, waiter.plugin, .expired) } }
        for (_, waiter) in overdue {
            // No outcome in time: the endpoint is unreachable or overloaded, as far as anyone can tell.
            waiter.continuation.resume(returning: .retry(
                reason: "timed out: no outcome from the \(waiter.plugin.channel) plugin", retryAfter: nil, endpointDown: true))
        }
    }
}

/// Counts of a plugin's breaks of the ABI's rules, as the host saw them:
/// what the conformance kit reports.
public final class RuleBreaks: Sendable {
    public let secondCompletions = Atomic<Int>(0)
    public let lateCompletions = Atomic<Int>(0)
    public let completedRefusals = Atomic<Int>(0)
    public let wrongContexts = Atomic<Int>(0)
    public let badOutcomes = Atomic<Int>(0)

    public init() {}
}
