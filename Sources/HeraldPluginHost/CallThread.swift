import Foundation
import Synchronization

/// A thread of its own that runs one instance's plugin calls, one at a
/// time, in order.
///
/// Plugin code never runs on the cooperative pool or an event loop: a
/// `submit` that blocks would otherwise take one of the pool's few threads
/// (one per core) and with it ingest, `/healthz` and every other endpoint.
/// Here it blocks this thread only; `busySince` tells the dispatcher how
/// long the current call has run, so it can suspend the endpoint.
final class CallThread: Sendable {
    private struct State {
        var queue: [@Sendable () -> Void] = []
        var head = 0
        var stopping = false
        /// Monotonic seconds when the running call started; nil when idle.
        var busySince: Double?
    }

    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)

    init(name: String) {
        let thread = Thread { [self] in
            PluginCall.nameThread(name)
            loop()
        }
        thread.start()
    }

    /// Queues `work`; returns at once. False when the thread is stopping
    /// and `work` will not run.
    @discardableResult
    func run(_ work: @escaping @Sendable () -> Void) -> Bool {
        let queued = state.withLock { state in
            guard !state.stopping else { return false }
            state.queue.append(work)
            return true
        }
        if queued { wake.signal() }
        return queued
    }

    /// Runs `work` on the thread and waits for it, at most `timeout`
    /// seconds; returns nil when it did not finish in time (it still runs,
    /// and its result is dropped). Blocks the caller: not for the
    /// cooperative pool.
    func call<T: Sendable>(timeout: Double, _ work: @escaping @Sendable () -> T) -> T? {
        let result = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        guard run({
            let value = work()
            result.withLock { $0 = value }
            done.signal()
        }) else { return nil }
        guard done.wait(timeout: .now() + timeout) == .success else { return nil }
        return result.withLock { $0 }
    }

    /// How long the running call has taken so far, in seconds; nil when idle.
    func busyFor(now: Double = CallThread.now()) -> Double? {
        state.withLock { $0.busySince }.map { now - $0 }
    }

    /// Ends the thread once the queued calls have run.
    func stop() {
        state.withLock { $0.stopping = true }
        wake.signal()
    }

    private func loop() {
        while true {
            wake.wait()
            while let work = next() {
                work()
                state.withLock { $0.busySince = nil }
            }
            if state.withLock({ $0.stopping && $0.head == $0.queue.count }) { return }
        }
    }

    private func next() -> (@Sendable () -> Void)? {
        state.withLock { state in
            guard state.head < state.queue.count else {
                state.queue.removeAll(keepingCapacity: true)
                state.head = 0
                return nil
            }
            let work = state.queue[state.head]
            state.head += 1
            state.busySince = Self.now()
            return work
        }
    }

    /// Monotonic seconds.
    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}

/// One-off plugin calls (`validate_config`) on a thread of their own.
enum PluginCall {
    /// Runs `work` on a new thread and waits for it, at most `timeout`
    /// seconds; nil when it did not return in time (the thread is left to
    /// finish, or to hang, on its own). Blocks the caller: not for the
    /// cooperative pool.
    static func blocking<T: Sendable>(timeout: Double, name: String, _ work: @escaping @Sendable () -> T) -> T? {
        let result = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            nameThread(name)
            let value = work()
            result.withLock { $0 = value }
            done.signal()
        }
        thread.start()
        guard done.wait(timeout: .now() + timeout) == .success else { return nil }
        return result.withLock { $0 }
    }

    /// Names the calling thread "plugin NAME" (15 bytes at most) as
    /// `top -H`, `ps -L` and perf show it: Foundation's `Thread.name` does
    /// not reach the kernel on Linux, so every plugin thread showed its
    /// creator's name; Glibc's `pthread_setname_np` is not imported.
    static func nameThread(_ name: String) {
        guard let file = fopen("/proc/thread-self/comm", "w") else { return }
        fputs(String(decoding: "plugin \(name)".utf8.prefix(15), as: UTF8.self), file)
        fclose(file)
    }
}
