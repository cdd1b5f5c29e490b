import Foundation
import Synchronization

/// A channel plugin written in the blocking style: `deliver` does the whole
/// delivery and returns its outcome; the kit runs it on its own threads
/// (never the host's), `workerCount` at a time.
public protocol BlockingChannelPlugin: ChannelPlugin {
    /// Delivers one message; may block up to `message.timeout`.
    func deliver(_ message: Message) -> Outcome
    /// The kit's threads for this instance; `deliver` runs on them.
    var workers: BlockingWorkers { get }
}

extension BlockingChannelPlugin {
    public func submit(_ message: Message, completion: Completion) {
        let deadline = DispatchTime.now() + message.timeout
        workers.run {
            // The host gives up on a message at its deadline and sends it
            // again: one that waited it out here is not sent as well (that
            // would deliver it twice), and the rest get only the time left.
            let (now, end) = (DispatchTime.now().uptimeNanoseconds, deadline.uptimeNanoseconds)
            let left = end > now ? Double(end - now) / 1e9 : 0
            guard left > 0 else {
                completion(.retry("waited \(message.timeout) s for a free worker; try again"))
                return
            }
            completion(self.deliver(message.withTimeout(left)))
        }
    }

    public func close() { workers.stop() }
}

/// A fixed set of threads that run queued jobs, for `BlockingChannelPlugin`.
public final class BlockingWorkers: Sendable {
    private struct State {
        var jobs: [@Sendable () -> Void] = []
        var stopping = false
    }

    private let state = Mutex(State())
    private let condition = NSCondition()
    private let finished = DispatchGroup()

    public init(count: Int = 4) {
        for _ in 0..<max(1, count) {
            finished.enter()
            Thread.detachNewThread { [self] in
                while let job = next() { job() }
                finished.leave()
            }
        }
    }

    public func run(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        state.withLock { $0.jobs.append(job) }
        condition.signal()
        condition.unlock()
    }

    /// Runs what is queued, then joins the threads.
    public func stop() {
        condition.lock()
        state.withLock { $0.stopping = true }
        condition.broadcast()
        condition.unlock()
        finished.wait()
    }

    private func next() -> (@Sendable () -> Void)? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            let (job, stopping) = state.withLock { state -> ((@Sendable () -> Void)?, Bool) in
                state.jobs.isEmpty ? (nil, state.stopping) : (state.jobs.removeFirst(), state.stopping)
            }
            if let job { return job }
            if stopping { return nil }
            condition.wait()
        }
    }
}
