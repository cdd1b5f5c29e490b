import Foundation
public import HeraldCore
public import HeraldStore
import HeraldTelemetry
public import Logging
import Synchronization

/// The one writer: takes events and attempt outcomes from any number of
/// callers, and commits them in batches.
///
/// SQLite commits are the cost of durability; a commit per event caps
/// ingest at the disk's commit rate. Instead, callers queue their work and
/// wait; the writer loop takes everything queued, routes and throttles it
/// (`Planner`), commits it in one transaction, wakes the callers and hands
/// the new deliveries to the endpoint workers. A caller's 2xx thus always
/// follows the commit.
public final class Pipeline: Sendable {
    private struct Queued {
        var ingests: [(events: [Event], done: CheckedContinuation<Void, any Error>)] = []
        var attempts: [AttemptRecord] = []
        /// In-flight marks (delivery id → group size), each group with who
        /// waits for it to be durable.
        var marks: [(ids: [Int64], group: Int, done: CheckedContinuation<Void, any Error>)] = []
        /// New policies and endpoints, taken before the next batch is planned.
        var routing: (router: Router, endpoints: [String: Endpoint], done: CheckedContinuation<Void, Never>)?
        /// Deleted endpoints whose pending deliveries end, after the attempts queued before.
        var cancels: [(endpoint: String, reason: String, done: CheckedContinuation<Int, any Error>)] = []
        var finished = false
    }

    /// Ingest after shutdown began: the caller answers 503 and the sender retries.
    public struct ShuttingDown: Error {}

    private let store: any Store
    private let queue = Mutex(Queued())
    private let wake: AsyncStream<Void>.Continuation
    private let signals: AsyncStream<Void>
    private let logger: Logger

    /// The status of the team's newest event with each of `ids` (see `Store`).
    public func latestStatuses(team: String, ids: [String]) async throws -> [String: EventStatus] {
        try await store.latestStatuses(team: team, ids: ids)
    }

    /// The team's newest event with this id.
    public func latestEvent(team: String, id: String) async throws -> Event? {
        try await store.latestEvent(team: team, id: id)
    }

    /// Moves armed auto-clear deadlines later (see `Store`).
    public func extendAutoClear(_ deadlines: [String: Double]) async throws {
        try await store.extendAutoClear(deadlines)
    }

    public init(store: any Store, logger: Logger) {
        self.store = store
        self.logger = logger
        (signals, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Makes `events` durable and routes them; returns once committed.
    public func ingest(_ events: [Event]) async throws {
        guard !events.isEmpty else { return }
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            let queued = queue.withLock { queue in
                if !queue.finished { queue.ingests.append((events, done)) }
                return !queue.finished
            }
            if queued { wake.yield() } else { done.resume(throwing: ShuttingDown()) }
        }
    }

    /// Marks a group of deliveries in flight, durably: if the daemon dies
    /// before their attempts are recorded, the next start blames the group
    /// (`Store.beginRun`). Returns once the marks are committed.
    func mark(_ ids: [Int64]) async throws {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            let queued = queue.withLock { queue in
                if !queue.finished { queue.marks.append((ids, ids.count, done)) }
                return !queue.finished
            }
            if queued { wake.yield() } else { done.resume(throwing: ShuttingDown()) }
        }
    }

    /// Routes the events of every later batch with these policies and
    /// endpoints; returns once no batch is planned with the old ones.
    func route(_ router: Router, endpoints: [String: Endpoint]) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            // A later change supersedes one not yet taken; after `finish` nothing is planned any more.
            let superseded = queue.withLock { queue -> CheckedContinuation<Void, Never>? in
                guard !queue.finished else { return done }
                defer { queue.routing = (router, endpoints, done) }
                return queue.routing?.done
            }
            superseded?.resume()
            wake.yield()
        }
    }

    /// Ends a deleted endpoint's pending deliveries as `cancelled`, after
    /// every attempt record queued before; returns how many.
    func cancelPending(endpoint: String, reason: String) async throws -> Int {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Int, any Error>) in
            let queued = queue.withLock { queue in
                if !queue.finished { queue.cancels.append((endpoint, reason, done)) }
                return !queue.finished
            }
            if queued { wake.yield() } else { done.resume(throwing: ShuttingDown()) }
        }
    }

    /// Queues an attempt's record; it is written with the next batch.
    func record(_ attempt: AttemptRecord) {
        queue.withLock { $0.attempts.append(attempt) }
        wake.yield()
    }

    /// Runs the writer until `finish()` and the queue is drained.
    func run(planner: Planner, deliver: @Sendable ([PendingDelivery]) async -> Void) async {
        var planner = planner
        var unroutedLog = UnroutedLog()
        for await _ in signals {
            while true {
                let work = queue.withLock { queued in
                    defer {
                        queued.ingests.removeAll()
                        queued.attempts.removeAll()
                        queued.marks.removeAll()
                        queued.cancels.removeAll()
                        queued.routing = nil
                    }
                    return queued
                }
                if let routing = work.routing {
                    planner.router = routing.router
                    planner.endpoints = routing.endpoints
                    routing.done.resume()
                }
                if work.ingests.isEmpty && work.attempts.isEmpty && work.marks.isEmpty && work.cancels.isEmpty { break }
                await write(work, planner: &planner, unroutedLog: &unroutedLog, deliver: deliver)
                for cancel in work.cancels {
                    do {
                        cancel.done.resume(returning: try await store.cancelPending(endpoint: cancel.endpoint,
                                                                                   reason: cancel.reason))
                    } catch {
                        cancel.done.resume(throwing: error)
                    }
                }
            }
        }
    }

    /// Ends `run` once what is queued is written; later ingests are refused.
    func finish() {
        let waiting = queue.withLock { queue in
            queue.finished = true
            defer { queue.routing = nil }
            return queue.routing?.done
        }
        waiting?.resume()
        wake.finish()
    }

    /// One transaction for everything queued: attempt records and new events.
    private func write(_ work: Queued, planner: inout Planner, unroutedLog: inout UnroutedLog,
                       deliver: @Sendable ([PendingDelivery]) async -> Void) async {
        let events = work.ingests.flatMap(\.events)
        let plan = planner.plan(events)
        do {
            var marks: [Int64: Int] = [:]
            for mark in work.marks { for id in mark.ids { marks[id] = mark.group } }
            let result = try await store.commit(plan.batch, attempts: work.attempts, marks: marks)
            planner.keep(plan)
            // Durable now: answer the senders first, then hand the work over.
            for ingest in work.ingests { ingest.done.resume() }
            for mark in work.marks { mark.done.resume() }
            let now = Date().timeIntervalSince1970
            Self.count(work.ingests.map(\.events), plan)
            unroutedLog.note(plan.unrouted, now: now, logger: logger)
            let made = zip(result.deliveryIDs, plan.batch.deliveries).map { id, delivery in
                PendingDelivery(id: id, push: plan.push(for: delivery, id: id), attempts: 0, notBefore: 0, createdAt: now)
            }
            if !made.isEmpty || !result.fallbacks.isEmpty { await deliver(made + result.fallbacks) }
        } catch {
            // Refused events are the sender's to send again. Attempts not
            // recorded leave their deliveries pending in the store, to be
            // tried again after a restart: repeated, never lost.
            logger.error("Could not write a batch", metadata: [
                "error": "\(error)", "events": "\(events.count)", "attempts": "\(work.attempts.count)"])
            for ingest in work.ingests { ingest.done.resume(throwing: error) }
            for mark in work.marks { mark.done.resume(throwing: error) }
        }
    }

    /// Counts a committed batch: events by format and team (a request's
    /// events share both), those no policy matched, pushes held back.
    private static func count(_ requests: [[Event]], _ plan: Planner.Plan) {
        for events in requests {
            guard let first = events.first else { continue }
            HeraldMetrics.eventsIngested(format: first.source, team: first.team, count: events.count)
        }
        for (team, count) in plan.unrouted { HeraldMetrics.eventsUnrouted(team: team, count: count) }
        for (suppression, count) in plan.suppressed {
            HeraldMetrics.pushesSuppressed(endpoint: suppression.endpoint, reason: suppression.reason.rawValue, count: count)
        }
    }
}
