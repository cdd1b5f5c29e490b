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
        var ingests: [Ingest] = []
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

    private struct Ingest {
        let events: [Event]
        let dropRepeats: Bool
        /// Events sent without their start (by index), continuing their alert if open.
        let open: [Int: OpenAlert]
        /// Told how many of the events were stored.
        let done: CheckedContinuation<Int, any Error>
        /// Whether the writer reads anything for it (most requests: no).
        var isHub: Bool { dropRepeats || !open.isEmpty }
    }

    /// Ingest after shutdown began: the caller answers 503 and the sender retries.
    public struct ShuttingDown: Error {}

    private let store: any Store
    private let queue = Mutex(Queued())
    private let wake: AsyncStream<Void>.Continuation
    private let signals: AsyncStream<Void>
    private let logger: Logger

    /// The team's newest event with this id.
    public func latestEvent(team: String, id: String) async throws -> Event? {
        try await store.latestEvent(team: team, id: id)
    }

    public init(store: any Store, logger: Logger) {
        self.store = store
        self.logger = logger
        (signals, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Makes `events` durable and routes them; returns once committed, with
    /// how many were stored.
    ///
    /// With `dropRepeats`, an event whose id the team's newest stored event
    /// (or one earlier in the batch) has in the same status is a sender's
    /// repeat: it is not stored, so it is pushed once, and a firing repeat
    /// moves its alert's auto-clear deadline later. A firing alert
    /// auto-cleared meanwhile fires again. The check runs in the writer, so
    /// two posts of one alert at the same instant cannot both be news.
    /// `open`: events sent without their start (by index), which continue
    /// their alert's open instance if there is one (`OpenAlert`), checked
    /// in the same transaction.
    @discardableResult
    public func ingest(_ events: [Event], dropRepeats: Bool = false, open: [Int: OpenAlert] = [:]) async throws -> Int {
        guard !events.isEmpty else { return 0 }
        return try await withCheckedThrowingContinuation { (done: CheckedContinuation<Int, any Error>) in
            let queued = queue.withLock { queue in
                if !queue.finished { queue.ingests.append(Ingest(events: events, dropRepeats: dropRepeats, open: open, done: done)) }
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

    /// One transaction for everything queued: attempt records and new events
    /// (less the repeats of requests that asked for it, see `ingest`).
    private func write(_ work: Queued, planner: inout Planner, unroutedLog: inout UnroutedLog,
                       deliver: @Sendable ([PendingDelivery]) async -> Void) async {
        do {
            var marks: [Int64: Int] = [:]
            for mark in work.marks { for id in mark.ids { marks[id] = mark.group } }
            let requests = work.ingests
            let routing = planner
            let (result, (stored, plan)) = try await store.commit(
                attempts: work.attempts, marks: marks, lookups: Self.repeatLookups(requests)
            ) { found in
                let (stored, extended) = Self.withoutRepeats(requests, found: found, now: Date().timeIntervalSince1970)
                var plan = routing.plan(stored.flatMap { $0 })
                plan.batch.extendTimeouts = extended
                return (plan.batch, (stored, plan))
            }
            planner.keep(plan)
            // Durable now: answer the senders first, then hand the work over.
            for (ingest, events) in zip(work.ingests, stored) { ingest.done.resume(returning: events.count) }
            for mark in work.marks { mark.done.resume() }
            let now = Date().timeIntervalSince1970
            Self.count(stored, plan)
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
                "error": "\(error)", "events": "\(work.ingests.reduce(0) { $0 + $1.events.count })",
                "attempts": "\(work.attempts.count)"])
            for ingest in work.ingests { ingest.done.resume(throwing: error) }
            for mark in work.marks { mark.done.resume(throwing: error) }
        }
    }

    /// What the writer reads for the batch: the ids whose stored status
    /// tells a repeat from news, and the alerts whose open instance events
    /// sent without a start continue, by team.
    private static func repeatLookups(_ requests: [Ingest]) -> HubLookups {
        var ids: [String: Set<String>] = [:]
        var prefixes: [String: Set<String>] = [:]
        for request in requests where request.isHub {
            for (index, event) in request.events.enumerated() {
                if request.dropRepeats { ids[event.team, default: []].insert(event.id) }
                if let open = request.open[index] { prefixes[event.team, default: []].insert(open.prefix) }
            }
        }
        var lookups = HubLookups()
        lookups.ids = ids.mapValues(Array.init)
        lookups.openPrefixes = prefixes.mapValues(Array.init)
        return lookups
    }

    /// Each request's events less the repeats of those that asked for it,
    /// given what the store `found` (an event sent without its start first
    /// takes the id and start of its alert's open instance, in the store or
    /// earlier in the batch); and the auto-clear deadlines the repeats extend.
    private static func withoutRepeats(_ requests: [Ingest], found: HubFindings, now: Double)
        -> (stored: [[Event]], extended: [String: Double]) {
        var latest = found.statuses
        var opened = found.open
        var extended: [String: Double] = [:]
        let stored = requests.map { request in
            guard request.isHub else { return request.events }
            var kept: [Event] = []
            for (index, sent) in request.events.enumerated() {
                var event = sent
                let open = request.open[index]
                if let open, let instance = opened[event.team]?[open.prefix] {
                    event = open.continuing(instance, with: event)
                    latest[event.team, default: [:]][instance.id] = instance.status
                }
                if request.dropRepeats && latest[event.team]?[event.id] == event.status {
                    if event.status == .firing, let timeout = event.timeoutSeconds {
                        extended[event.alertKey] = max(extended[event.alertKey] ?? 0, now + Double(timeout))
                    }
                    continue
                }
                latest[event.team, default: [:]][event.id] = event.status
                // Later events of the batch sent without a start continue this instance (or a new one).
                if let open { opened[event.team, default: [:]][open.prefix] = event.status == .firing ? event : nil }
                kept.append(event)
            }
            return kept
        }
        return (stored, extended)
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
