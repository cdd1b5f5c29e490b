import Foundation
import HeraldCore
import HeraldPluginHost
import HeraldStore
import Logging

/// Delivers to one endpoint: renders each push, hands it to the plugin with
/// up to `maxInFlight` in flight, and retries, dead-letters or records the
/// outcome. Each endpoint has its own worker, so a slow or dead one only
/// ever holds up itself.
actor EndpointWorker {
    let endpoint: Endpoint
    private let instance: any ChannelInstance
    private let templates: TemplateSet
    /// Each policy's matchers as a selector, for the event's `policy_matchers`.
    private let policySelectors: [String: String]
    private let pipeline: Pipeline
    private let logger: Logger

    private let store: any Store
    private var ready: [PendingDelivery] = []
    private var readyHead = 0
    /// New deliveries held in memory at most; past it they stay only in the
    /// store and are paged in as the queue drains, so a dead endpoint with
    /// a huge backlog costs disk, not memory.
    private let memoryLimit: Int
    /// Set while new deliveries are left in the store rather than queued.
    private var spilling = false
    /// The highest id of a new delivery ever queued: every pending one
    /// above it is in the store only.
    private var lastHeldID: Int64 = 0
    private var paging = false
    private var spilledWhilePaging = false
    /// Deliveries waiting for their retry time, unordered (few, normally).
    private var delayed: [PendingDelivery] = []
    private var inFlight = 0
    private var waiting: CheckedContinuation<Void, Never>?
    private var stopping = false
    /// Crashes of the plugin with a delivery alone in flight, by delivery:
    /// at `poisonAfter` it is poison and goes to the dead letters.
    private var soloCrashes: [Int64: Int] = [:]
    /// Deliveries that were in flight, with others, when the plugin
    /// crashed: one of them may be poison. Until each was tried alone, one
    /// delivery at a time goes out, so the next crash names the culprit.
    private var suspects: Set<Int64> = []
    private let poisonAfter: Int
    private var wasAvailable = true

    private var inFlightLimit: Int {
        if !carefulInFlight.isEmpty { return 0 }  // nothing else while a careful group is out
        return suspects.isEmpty ? endpoint.maxInFlight : 1
    }

    /// After an unclean stop of the daemon (isolation none), the deliveries
    /// pending then (ids up to this) go out in groups marked durably in
    /// flight, nothing else beside them: a crash of the daemon is then
    /// blamed on the group, the next start splits it, and a delivery that
    /// crashes it alone `poisonAfter` times is poison. 0: off.
    private var carefulUntil: Int64 = 0
    /// Deliveries in flight in a group when the daemon last crashed: id → the group's size.
    private var suspectGroups: [Int64: Int] = [:]
    /// The careful group now in flight.
    private var carefulInFlight: Set<Int64> = []

    /// Turns careful mode on for the deliveries pending up to `id`, and
    /// the suspects of the last crash (those of other endpoints are ignored).
    func deliverCarefully(through id: Int64, suspects: [Int64: Int]) {
        carefulUntil = id
        suspectGroups = suspects
        logger.notice("After an unclean stop, the deliveries pending then go out in small marked groups", metadata: [
            "delivery.last_id": "\(id)", "deliveries.suspected": "\(suspects.count)"])
    }

    /// Set while a plugin call has run past the endpoint's timeout: no new
    /// submission starts, the deliveries wait (pending) until it returns.
    private(set) var suspension: Suspension?

    struct Suspension: Sendable {
        /// Unix seconds when the endpoint was suspended.
        let since: Double
        let reason: String
    }

    init(endpoint: Endpoint, instance: any ChannelInstance, templates: TemplateSet, policySelectors: [String: String],
         pipeline: Pipeline, store: any Store, memoryLimit: Int = 10_000, poisonAfter: Int = 3, logger: Logger) {
        self.poisonAfter = poisonAfter
        self.policySelectors = policySelectors
        self.endpoint = endpoint
        self.store = store
        self.memoryLimit = memoryLimit
        self.instance = instance
        self.templates = templates
        self.pipeline = pipeline
        var logger = logger
        logger[metadataKey: "endpoint"] = "\(endpoint.name)"
        self.logger = logger
    }

    /// Queues deliveries in id order. `spillable` ones (new, or resumed at
    /// start-up) may be left in the store when the queue is full; replays
    /// are always queued.
    func enqueue(_ deliveries: [PendingDelivery], spillable: Bool = true) {
        let now = Date().timeIntervalSince1970
        for delivery in deliveries {
            // Already paged in: the commit that made it is visible to a page
            // read before the writer hands it over here.
            if spillable && delivery.id <= lastHeldID { continue }
            if delivery.notBefore > now {
                delayed.append(delivery)
            } else if spillable && (spilling || held >= memoryLimit) {
                if !spilling {
                    logger.notice("Backlog over the memory limit; the rest waits in the store",
                                  metadata: ["backlog.limit": "\(memoryLimit)"])
                }
                spilling = true
                if paging { spilledWhilePaging = true }
            } else {
                ready.append(delivery)
                if spillable { lastHeldID = max(lastHeldID, delivery.id) }
            }
        }
        signal()
    }

    /// Deliveries in memory: queued, waiting to retry, or in flight.
    private var held: Int { ready.count - readyHead + delayed.count + inFlight }

    /// At start-up: everything pending for this endpoint is in the store;
    /// page it in like a spilled backlog.
    func resumeFromStore() {
        spilling = true
        signal()
    }

    /// Brings spilled deliveries back from the store once memory holds less
    /// than half the limit (retries count: a dead endpoint stays bounded).
    private func pageIn() async {
        guard canPageIn, !paging else { return }
        paging = true
        spilledWhilePaging = false
        let limit = memoryLimit / 2
        do {
            let page = try await store.pendingDeliveries(endpoint: endpoint.name, afterID: lastHeldID, limit: limit)
            let now = Date().timeIntervalSince1970
            for delivery in page {
                if delivery.notBefore > now { delayed.append(delivery) } else { ready.append(delivery) }
                lastHeldID = max(lastHeldID, delivery.id)
            }
            // Caught up, unless a delivery spilled while the page was read.
            if page.count < limit && !spilledWhilePaging { spilling = false }
        } catch {
            logger.error("Could not page in pending deliveries", metadata: ["error": "\(error)"])
            try? await Task.sleep(for: .milliseconds(200))
        }
        paging = false
    }

    /// Whether the store holds deliveries this worker has room to page in.
    private var canPageIn: Bool { spilling && held < memoryLimit / 2 }

    /// Moves retries whose time has come to the ready queue, and suspends
    /// or resumes the endpoint as its plugin hangs or recovers. Called on
    /// the dispatcher's tick.
    func tick(now: Double) {
        watchForHangs(now: now)
        guard !delayed.isEmpty else { return }
        var due: [PendingDelivery] = []
        delayed.removeAll { delivery in
            if delivery.notBefore <= now { due.append(delivery); return true }
            return false
        }
        guard !due.isEmpty else { return }
        ready.append(contentsOf: due.sorted { $0.id < $1.id })
        signal()
    }

    /// Stops taking new deliveries; `run` returns once those in flight end.
    func stop() {
        stopping = true
        signal()
    }

    /// Delivers until `stop()`; then waits for the attempts in flight.
    func run() async {
        await withDiscardingTaskGroup { group in
            while !stopping {
                await pageIn()
                while inFlight < inFlightLimit, suspension == nil, instance.isAvailable(), let next = peekReady() {
                    let batch: [PendingDelivery]
                    if isCareful(next) {
                        // After a crash of the daemon, what was pending then goes
                        // out in marked groups, alone, so a poison delivery is found.
                        if inFlight > 0 { break }
                        batch = takeCarefulGroup()
                        carefulInFlight = Set(batch.map(\.id))
                        do { try await pipeline.mark(batch.map(\.id)) } catch {
                            logger.error("Could not mark deliveries in flight", metadata: ["error": "\(error)"])
                        }
                    } else if let delivery = nextReady() {
                        batch = [delivery]
                    } else {
                        break
                    }
                    for delivery in batch { start(delivery, in: &group) }
                }
                if !stopping && !canPageIn { await withCheckedContinuation { waiting = $0 } }
            }
        }
    }

    private func start(_ delivery: PendingDelivery, in group: inout DiscardingTaskGroup) {
        inFlight += 1
        let attempt = delivery.attempts + 1
        let prepared = prepare(delivery, attempt: attempt)
        let started = Date().timeIntervalSince1970
        group.addTask { [instance] in
            let outcome: DeliveryOutcome
            switch prepared {
            case .success(let submission):
                outcome = await instance.submit(submission)
            case .failure(let error):
                outcome = .fail(reason: error.description)
            }
            await self.finished(delivery, attempt: attempt, startedAt: started, outcome: outcome)
        }
    }

    private func isCareful(_ delivery: PendingDelivery) -> Bool {
        delivery.id <= carefulUntil || suspectGroups[delivery.id] != nil
    }

    /// The next careful group from the head of the queue: a suspect goes
    /// out in a group a quarter the size of the one it crashed in (so a few
    /// more crashes find the one delivery), the rest in groups of 32.
    private func takeCarefulGroup() -> [PendingDelivery] {
        func size(_ delivery: PendingDelivery) -> Int {
            suspectGroups[delivery.id].map { max(1, $0 / 4) } ?? Self.carefulGroupSize
        }
        guard let first = nextReady() else { return [] }
        var group = [first]
        let limit = min(size(first), endpoint.maxInFlight)
        while group.count < limit, let next = peekReady(), isCareful(next), size(next) >= limit, let taken = nextReady() {
            group.append(taken)
        }
        return group
    }

    static let carefulGroupSize = 32

    /// A plugin call (submit, close) that runs past the endpoint's timeout
    /// suspends the endpoint: it holds a thread of its own only, so ingest
    /// and the other endpoints go on. It resumes when the call returns.
    private func watchForHangs(now: Double) {
        instance.watchdog()
        let available = instance.isAvailable()
        if available && !wasAvailable { signal() }
        wasAvailable = available
        let busy = instance.busyFor()
        if let busy, busy > endpoint.timeoutSeconds, suspension == nil {
            let reason = "the \(endpoint.channel) plugin has not returned from a call for \(Int(busy)) s"
            suspension = Suspension(since: now - busy, reason: reason)
            logger.error("Endpoint suspended: its plugin hangs in a call", metadata: [
                "plugin": "\(endpoint.channel)", "hung_seconds": "\(Int(busy))",
                "timeout_seconds": "\(endpoint.timeoutSeconds)"])
        } else if busy == nil, let suspended = suspension {
            suspension = nil
            logger.notice("Endpoint resumed: its plugin returned", metadata: [
                "plugin": "\(endpoint.channel)", "suspended_seconds": "\(Int(now - suspended.since))"])
            signal()
        }
    }

    private func peekReady() -> PendingDelivery? { readyHead < ready.count ? ready[readyHead] : nil }

    private func nextReady() -> PendingDelivery? {
        guard readyHead < ready.count else { return nil }
        let delivery = ready[readyHead]
        readyHead += 1
        if readyHead > 1024, readyHead * 2 > ready.count {
            ready.removeFirst(readyHead)
            readyHead = 0
        }
        return delivery
    }

    private func signal() {
        waiting?.resume()
        waiting = nil
    }

    /// The push as the plugin gets it: the event and the rendered
    /// templates, each as JSON and as fields for C.
    private func prepare(_ delivery: PendingDelivery, attempt: Int) -> Result<Submission, TemplateError> {
        var push = delivery.push
        push.policyMatchers = policySelectors[push.policy]
        let fields = push.fields
        do {
            let rendered = try templates.render(fields)
            return .success(Submission(
                deliveryID: push.deliveryID, attempt: attempt, timeout: endpoint.timeoutSeconds,
                eventJSON: Array(JSONValue.object(fields).jsonText.utf8), eventFields: FieldList(event: fields),
                renderedJSON: Array(JSONValue.object(rendered.mapValues(JSONValue.string)).jsonText.utf8),
                renderedFields: FieldList(rendered.map { ($0.key, $0.value) })))
        } catch {
            return .failure(error)
        }
    }

    private func finished(_ delivery: PendingDelivery, attempt: Int, startedAt: Double, outcome: DeliveryOutcome) {
        inFlight -= 1
        carefulInFlight.remove(delivery.id)
        suspectGroups[delivery.id] = nil
        let now = Date().timeIntervalSince1970
        let next: AttemptRecord.Next
        var outcome = outcome
        // The plugin came back from this one: not the one that crashes it.
        if case .crash = outcome {} else { suspects.remove(delivery.id) }
        switch outcome {
        case .ok:
            next = .delivered
        case .fail(let reason):
            next = .dead
            logger.warning("Delivery failed for good", metadata: [
                "delivery.id": "\(delivery.id)", "delivery.attempt": "\(attempt)", "reason": "\(reason)"])
        case .crash(let reason, let alone):
            next = crashed(delivery, attempt: attempt, reason: reason, alone: alone, now: now)
            if next == .dead {
                outcome = .crash(reason: "poison: the plugin crashed \(poisonAfter) times with this delivery alone in flight; last: \(reason)",
                                 alone: alone)
            }
        case .retry(let reason, let retryAfter, _):
            if let delay = endpoint.retry.delay(afterAttempt: attempt, retryAfter: retryAfter,
                                                unitRandom: Double.random(in: 0..<1)) {
                next = .retryAt(now + delay)
                delayed.append(PendingDelivery(id: delivery.id, push: delivery.push, attempts: attempt,
                                               notBefore: now + delay))
                logger.info("Delivery will be retried", metadata: [
                    "delivery.id": "\(delivery.id)", "delivery.attempt": "\(attempt)", "reason": "\(reason)",
                    "retry.in_seconds": "\(String(format: "%.2f", delay))"])
            } else {
                next = .dead
                logger.warning("Delivery dead-lettered after its last retry", metadata: [
                    "delivery.id": "\(delivery.id)", "delivery.attempt": "\(attempt)", "reason": "\(reason)"])
            }
        }
        pipeline.record(AttemptRecord(deliveryID: delivery.id, attempt: attempt, startedAt: startedAt,
                                      finishedAt: now, outcome: outcome, next: next))
        signal()
    }

    /// A crash of the plugin with `delivery` in flight: tried again (the
    /// worker restarts meanwhile), alone while it is a suspect, and dead as
    /// poison after `poisonAfter` crashes with it alone in flight.
    private func crashed(_ delivery: PendingDelivery, attempt: Int, reason: String, alone: Bool,
                         now: Double) -> AttemptRecord.Next {
        guard alone else {
            suspects.insert(delivery.id)
            retryAfterCrash(delivery, attempt: attempt, now: now)
            return .retryAt(now + 1)
        }
        suspects.remove(delivery.id)
        let crashes = (soloCrashes[delivery.id] ?? 0) + 1
        soloCrashes[delivery.id] = crashes
        guard crashes < poisonAfter else {
            soloCrashes[delivery.id] = nil
            logger.error("Delivery dead-lettered as poison: the plugin crashed on it each time", metadata: [
                "delivery.id": "\(delivery.id)", "plugin": "\(endpoint.channel)", "crashes": "\(crashes)",
                "reason": "\(reason)"])
            return .dead
        }
        retryAfterCrash(delivery, attempt: attempt, now: now)
        return .retryAt(now + 1)
    }

    private func retryAfterCrash(_ delivery: PendingDelivery, attempt: Int, now: Double) {
        delayed.append(PendingDelivery(id: delivery.id, push: delivery.push, attempts: attempt, notBefore: now + 1))
    }

    /// Closes the plugin instance on a thread of its own, waiting at most
    /// the endpoint's timeout: a plugin whose close hangs is left behind.
    nonisolated func close() async {
        let (instance, endpoint, logger) = (instance, endpoint, logger)
        let closed = (try? await offPool { instance.close(timeout: max(endpoint.timeoutSeconds, 1)) }) ?? false
        if !closed {
            logger.error("The plugin's close did not return in time; left behind", metadata: [
                "plugin": "\(endpoint.channel)", "timeout_seconds": "\(endpoint.timeoutSeconds)"])
        }
    }
}
