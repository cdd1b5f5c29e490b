import CHeraldPlugin
import HeraldCore
import Logging
import Synchronization

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
    private struct Finished {
        let channel: String
        let logger: Logger
    }

    private struct Recent {
        static let capacity = 4096
        var byToken: [UInt64: Finished] = [:]
        var order: [UInt64] = []
        var next = 0

        mutating func add(_ token: UInt64, _ finished: Finished) {
            if order.count < Self.capacity {
                order.append(token)
            } else {
                byToken[order[next]] = nil
                order[next] = token
                next = (next + 1) % Self.capacity
            }
            byToken[token] = finished
        }
    }

    private let waiters = Mutex<[UInt64: Waiter]>([:])
    private let recent = Mutex(Recent())
    private let lastToken = Atomic<UInt64>(0)

    func nextToken() -> UInt64 { lastToken.add(1, ordering: .relaxed).newValue }

    /// Registers a waiter for `token`, then runs `start`, which hands the
    /// submission to the plugin and returns false when the plugin refused it.
    func await(token: UInt64, channel: String, logger: Logger, timeoutMs: UInt64, start: () -> Bool) async
        -> DeliveryOutcome {
        await withCheckedContinuation { continuation in
            let waiter = Waiter(continuation: continuation, deadlineMs: HostServices.nowMs() + timeoutMs,
                                plugin: Finished(channel: channel, logger: logger))
            waiters.withLock { $0[token] = waiter }
            if !start(), let waiter = waiters.withLock({ $0.removeValue(forKey: token) }) {
                waiter.continuation.resume(returning: .retry(reason: "plugin refused the submission", retryAfter: nil))
            }
        }
    }

    /// Called by plugins through `herald_host_api.complete`, on any thread.
    func complete(token: UInt64, outcome: herald_outcome, retryAfterMs: UInt64, reason: String) {
        guard let waiter = waiters.withLock({ $0.removeValue(forKey: token) }) else {
            if let finished = recent.withLock({ $0.byToken[token] }) {
                finished.logger.error("Ignored a second or late completion: the plugin broke the exactly-once rule",
                                      metadata: ["plugin": "\(finished.channel)", "submission.token": "\(token)"])
            } else {
                HostServices.logger.withLock { $0 }?.error(
                    "Ignored a completion for an unknown submission", metadata: ["submission.token": "\(token)"])
            }
            return
        }
        recent.withLock { $0.add(token, waiter.plugin) }
        let result: DeliveryOutcome = switch outcome {
        case HERALD_OK: .ok(reason: reason)
        case HERALD_FAIL: .fail(reason: reason)
        default: .retry(reason: reason, retryAfter: retryAfterMs > 0 ? Double(retryAfterMs) / 1000 : nil)
        }
        waiter.continuation.resume(returning: result)
    }

    /// Gives up every submission whose deadline has passed, as RETRY.
    func expireOverdue(nowMs: UInt64 = HostServices.nowMs()) {
        let overdue = waiters.withLock { waiters -> [(UInt64, Waiter)] in
            let tokens = waiters.filter { $0.value.deadlineMs <= nowMs }.map(\.key)
            return tokens.compactMap { token in waiters.removeValue(forKey: token).map { (token, $0) } }
        }
        recent.withLock { recent in for (token, waiter) in overdue { recent.add(token, waiter.plugin) } }
        for (_, waiter) in overdue {
            waiter.continuation.resume(returning: .retry(
                reason: "timed out: no outcome from the \(waiter.plugin.channel) plugin", retryAfter: nil))
        }
    }
}
