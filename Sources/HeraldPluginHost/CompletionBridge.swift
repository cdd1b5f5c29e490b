import CHeraldPlugin
public import HeraldCore
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
        let channel: String
    }

    private let waiters = Mutex<[UInt64: Waiter]>([:])
    private let lastToken = Atomic<UInt64>(0)

    func nextToken() -> UInt64 { lastToken.add(1, ordering: .relaxed).newValue }

    /// Registers a waiter for `token`, then runs `start`, which hands the
    /// submission to the plugin and returns false when the plugin refused it.
    func await(token: UInt64, channel: String, timeoutMs: UInt64, start: () -> Bool) async -> DeliveryOutcome {
        await withCheckedContinuation { continuation in
            let waiter = Waiter(continuation: continuation, deadlineMs: HostServices.nowMs() + timeoutMs,
                                channel: channel)
            waiters.withLock { $0[token] = waiter }
            if !start(), let waiter = waiters.withLock({ $0.removeValue(forKey: token) }) {
                waiter.continuation.resume(returning: .retry(reason: "plugin refused the submission", retryAfter: nil))
            }
        }
    }

    /// Called by plugins through `herald_host_api.complete`, on any thread.
    func complete(token: UInt64, outcome: herald_outcome, retryAfterMs: UInt64, reason: String) {
        guard let waiter = waiters.withLock({ $0.removeValue(forKey: token) }) else {
            let logger = HostServices.logger.withLock { $0 }
            logger?.error("Ignored a completion for a submission already completed or timed out; the plugin broke the exactly-once rule",
                          metadata: ["submission.token": "\(token)"])
            return
        }
        let result: DeliveryOutcome = switch outcome {
        case HERALD_OK: .ok(reason: reason)
        case HERALD_FAIL: .fail(reason: reason)
        default: .retry(reason: reason, retryAfter: retryAfterMs > 0 ? Double(retryAfterMs) / 1000 : nil)
        }
        waiter.continuation.resume(returning: result)
    }

    /// Gives up every submission whose deadline has passed, as RETRY.
    func expireOverdue(nowMs: UInt64 = HostServices.nowMs()) {
        let overdue = waiters.withLock { waiters -> [Waiter] in
            let tokens = waiters.filter { $0.value.deadlineMs <= nowMs }.map(\.key)
            return tokens.compactMap { waiters.removeValue(forKey: $0) }
        }
        for waiter in overdue {
            waiter.continuation.resume(returning: .retry(reason: "timed out: no outcome from the \(waiter.channel) plugin",
                                                         retryAfter: nil))
        }
    }

    /// Submissions awaiting an outcome.
    var inFlight: Int { waiters.withLock { $0.count } }
}
