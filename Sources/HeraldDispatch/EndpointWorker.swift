import Foundation
import HeraldCore
import HeraldPluginHost
import HeraldStore
import HeraldTelemetry
import Logging

/// Delivers to one endpoint: renders each push, hands it to the plugin with
/// up to `maxInFlight` in flight, and retries, holds, dead-letters (to the
/// fallbacks) or records the outcome. Each endpoint has its own worker, so a
/// slow or dead one only ever holds up itself.
///
/// The queue is here; what outcomes mean is in `+Outcomes`, how crashes
/// and hangs are contained in `+Containment`.
actor EndpointWorker {
    /// The endpoint's name: what the worker is for, whatever its config becomes.
    nonisolated let name: String
    var endpoint: Endpoint
    var instance: any ChannelInstance
    var templates: TemplateSet
    /// Each policy's matchers as a selector, for the event's `policy_matchers`.
    var policySelectors: [String: String]
    /// Which instance a submission went to: an edit swaps the instance,
    /// and the one it replaced closes once its submissions are back.
    var generation = 0
    var inFlightByGeneration: [Int: Int] = [:]
    var retired: [Int: any ChannelInstance] = [:]
    let pipeline: Pipeline
    let logger: Logger
    let store: any Store
    let metrics: EndpointMetrics

    // MARK: - The queue

    var ready: [PendingDelivery] = []
    var readyHead = 0
    /// New deliveries held in memory at most; past it they stay only in the
    /// store and are paged in as the queue drains, so a dead endpoint with
    /// a huge backlog costs disk, not memory.
    let memoryLimit: Int
    /// Set while new deliveries are left in the store rather than queued.
    var spilling = false
    /// The highest id of a new delivery ever queued: every pending one
    /// above it is in the store only.
    var lastHeldID: Int64 = 0
    var paging = false
    var spilledWhilePaging = false
    /// Deliveries waiting for their retry time, unordered (few, normally).
    var delayed: [PendingDelivery] = [] {
        didSet { retryingKeys = Dictionary(delayed.map { (key(of: $0), 1) }, uniquingKeysWith: +) }
    }
    /// Keys with a delivery waiting in `delayed`, and keys with one in
    /// flight: a later delivery of the same key waits (parked) until that
    /// one is done, so one alert's pushes reach the receiver in order even
    /// when one is retried or a plugin reorders what it is given at once
    /// (libcurl starts queued transfers in no set order).
    var retryingKeys: [ThrottleKey: Int] = [:]
    var inFlightKeys: Set<ThrottleKey> = []
    var parked: [ThrottleKey: [PendingDelivery]] = [:]
    var inFlight = 0
    var waiting: CheckedContinuation<Void, Never>?
    var stopping = false
    /// The endpoint was deleted (see `retire`).
    var isRetired = false

    // MARK: - Health

    /// Up, or down (held, probed): see `EndpointHealth`.
    var health = EndpointHealth()
    /// The delivery in flight as the down endpoint's probe.
    var probeID: Int64?
    /// When expired deliveries were last looked for while down.
    var lastExpiryScan: Double = 0
    /// Keys whose last firing push went to the fallbacks: their recovery goes there too.
    var fallbackKeys: Set<ThrottleKey> = []

    // MARK: - Containment

    /// Crashes of the plugin with a delivery alone in flight, by delivery:
    /// at `poisonAfter` it is poison and goes to the dead letters.
    var soloCrashes: [Int64: Int] = [:]
    /// Deliveries that were in flight, with others, when the plugin
    /// crashed: one of them may be poison. Until each was tried alone, one
    /// delivery at a time goes out, so the next crash names the culprit.
    var suspects: Set<Int64> = []
    let poisonAfter: Int
    var wasAvailable = true
    /// After an unclean stop of the daemon (isolation none), the deliveries
    /// pending then (ids up to this) go out in groups marked durably in
    /// flight: see `deliverCarefully`. 0: off.
    var carefulUntil: Int64 = 0
    /// Deliveries in flight in a group when the daemon last crashed: id → the group's size.
    var suspectGroups: [Int64: Int] = [:]
    /// The careful group now in flight.
    var carefulInFlight: Set<Int64> = []
    /// Set while a plugin call has run past the endpoint's timeout: no new
    /// submission starts, the deliveries wait (pending) until it returns.
    var suspension: Suspension?

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
        name = endpoint.name
        self.store = store
        self.memoryLimit = memoryLimit
        self.instance = instance
        self.templates = templates
        self.pipeline = pipeline
        metrics = EndpointMetrics(endpoint: endpoint.name, channel: endpoint.channel)
        var logger = logger
        logger[metadataKey: "endpoint"] = "\(endpoint.name)"
        self.logger = logger
    }

    /// What the last run left: the endpoint down since a time (its
    /// deliveries are held and probed, not tried all at once), and the
    /// keys whose firing push went to the fallbacks.
    func restore(downSince: Double?, fallbackKeys: Set<ThrottleKey>) {
        if let downSince { health = EndpointHealth(downSince: downSince, now: Date().timeIntervalSince1970) }
        self.fallbackKeys = fallbackKeys
    }

    /// Queues deliveries in id order. `spillable` ones (new, or resumed at
    /// start-up) may be left in the store when the queue is full; replays
    /// and fallbacks are always queued.
    func enqueue(_ deliveries: [PendingDelivery], spillable: Bool = true) {
        let now = Date().timeIntervalSince1970
        for delivery in deliveries {
            // Already paged in: the commit that made it is visible to a page
            // read before the writer hands it over here.
            if spillable && delivery.id <= lastHeldID { continue }
            if delivery.notBefore > now {
                delayed.append(delivery)
            } else if spillable && (spilling || inMemory >= memoryLimit) {
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

    /// Deliveries in memory: queued, parked, waiting to retry, or in flight.
    var inMemory: Int { ready.count - readyHead + delayed.count + inFlight + parked.values.reduce(0) { $0 + $1.count } }

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

    /// Whether a chunk of replayed deliveries may join the queue now.
    var hasRoom: Bool { inMemory < memoryLimit / 2 || stopping }

    /// Whether the store holds deliveries this worker has room to page in.
    private var canPageIn: Bool { spilling && inMemory < memoryLimit / 2 }

    /// Moves retries whose time has come to the ready queue, watches the
    /// plugin for hangs, and while the endpoint is down wakes the loop for
    /// its probe and dead-letters what waited past `max_age`. Called on the
    /// dispatcher's tick.
    func tick(now: Double) {
        watchForHangs(now: now)
        metrics.state(queued: inMemory, down: health.isDown, suspended: suspension != nil)
        if health.isDown {
            if health.mayProbe(now: now) && inFlight == 0 { signal() }
            if now - lastExpiryScan >= 1 {
                lastExpiryScan = now
                expireHeld(now: now)
            }
        }
        guard delayed.contains(where: { $0.notBefore <= now }) else { return }
        var due: [PendingDelivery] = []
        delayed.removeAll { delivery in
            if delivery.notBefore <= now { due.append(delivery); return true }
            return false
        }
        // Back in their place in line, and the later pushes of their keys with them.
        for delivery in due { putBack(delivery) }
        releaseParked()
        signal()
    }

    /// Puts back the deliveries parked behind a key that has none waiting
    /// or in flight any more.
    func releaseParked() {
        for (key, deliveries) in parked where retryingKeys[key] == nil && !inFlightKeys.contains(key) {
            for delivery in deliveries { putBack(delivery) }
            parked[key] = nil
        }
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
                await startWhatMayStart(in: &group)
                if !stopping && !canPageIn { await withCheckedContinuation { waiting = $0 } }
            }
        }
    }

    /// Starts deliveries from the head of the queue: while the endpoint is
    /// down, one probe at a time; after a crash, careful groups; else up to
    /// `maxInFlight`.
    private func startWhatMayStart(in group: inout DiscardingTaskGroup) async {
        let now = Date().timeIntervalSince1970
        while suspension == nil, instance.isAvailable(), let next = peekReady() {
            if health.isDown {
                guard inFlight == 0, health.mayProbe(now: now), let probe = nextReady() else { return }
                if followsItsTriggerToTheFallbacks(probe, now: now) || expire(probe, now: now) { continue }
                health.probeStarted()
                probeID = probe.id
                start(probe, in: &group)
                return
            }
            guard inFlight < inFlightLimit else { return }
            if isCareful(next) {
                if inFlight > 0 { return }
                let batch = takeCarefulGroup()
                carefulInFlight = Set(batch.map(\.id))
                do { try await pipeline.mark(batch.map(\.id)) } catch {
                    logger.error("Could not mark deliveries in flight", metadata: ["error": "\(error)"])
                }
                for delivery in batch { start(delivery, in: &group) }
                return
            }
            guard let delivery = nextReady() else { return }
            let key = key(of: delivery)
            if retryingKeys[key] != nil || inFlightKeys.contains(key) {
                parked[key, default: []].append(delivery)
                continue
            }
            if followsItsTriggerToTheFallbacks(delivery, now: now) { continue }
            start(delivery, in: &group)
        }
    }

    var inFlightLimit: Int {
        if !carefulInFlight.isEmpty { return 0 }  // nothing else while a careful group is out
        return suspects.isEmpty ? endpoint.maxInFlight : 1
    }

    private func start(_ delivery: PendingDelivery, in group: inout DiscardingTaskGroup) {
        inFlight += 1
        inFlightKeys.insert(key(of: delivery))
        inFlightByGeneration[generation, default: 0] += 1
        let attempt = delivery.attempts + 1
        let prepared = prepare(delivery.push, attempt: attempt)
        let started = Date().timeIntervalSince1970
        group.addTask { [instance, generation] in
            let outcome: DeliveryOutcome
            switch prepared {
            case .success(let submission):
                outcome = await instance.submit(submission)
            case .failure(let error):
                outcome = .fail(reason: error.description)
            }
            await self.finished(delivery, attempt: attempt, startedAt: started, outcome: outcome, generation: generation)
        }
    }

    /// The push as the plugin gets it: the event and the rendered
    /// templates, each as JSON and as fields for C.
    func prepare(_ push: Push, attempt: Int) -> Result<Submission, TemplateError> {
        var push = push
        push.policyMatchers = policySelectors[push.policy]
        let fields = push.fields
        do {
            let rendered = try templates.render(fields)
            return .success(Submission(
                deliveryID: push.deliveryID, attempt: attempt, timeout: endpoint.timeoutSeconds,
                eventJSON: JSONValue.object(fields).jsonBytes, eventFields: FieldList(event: fields),
                renderedJSON: JSONValue.object(rendered.mapValues(JSONValue.string)).jsonBytes,
                renderedFields: FieldList(rendered.map { ($0.key, $0.value) })))
        } catch {
            return .failure(error)
        }
    }

    func peekReady() -> PendingDelivery? { readyHead < ready.count ? ready[readyHead] : nil }

    func nextReady() -> PendingDelivery? {
        guard readyHead < ready.count else { return nil }
        let delivery = ready[readyHead]
        readyHead += 1
        if readyHead > 1024, readyHead * 2 > ready.count {
            ready.removeFirst(readyHead)
            readyHead = 0
        }
        return delivery
    }

    /// Puts a delivery back at its place near the head, in id order (a
    /// held one keeps its place in line).
    func putBack(_ delivery: PendingDelivery) {
        var index = readyHead
        while index < ready.count, ready[index].id < delivery.id { index += 1 }
        ready.insert(delivery, at: index)
    }

    func signal() {
        waiting?.resume()
        waiting = nil
    }

    /// Closes the plugin instance (and any it replaced that is still
    /// out) once `run` has returned.
    func close() async {
        for (_, old) in retired { await Self.close(old, endpoint: endpoint, logger: logger) }
        retired.removeAll()
        await Self.close(instance, endpoint: endpoint, logger: logger)
    }

    /// Closes an instance on a thread of its own, waiting at most the
    /// endpoint's timeout: a plugin whose close hangs is left behind.
    static func close(_ instance: any ChannelInstance, endpoint: Endpoint, logger: Logger) async {
        let closed = (try? await offPool { instance.close(timeout: max(endpoint.timeoutSeconds, 1)) }) ?? false
        if !closed {
            logger.error("The plugin's close did not return in time; left behind", metadata: [
                "plugin": "\(endpoint.channel)", "timeout_seconds": "\(endpoint.timeoutSeconds)"])
        }
    }

    /// How the endpoint stands, for `/healthz`.
    func state() -> EndpointState {
        var down: EndpointState.Down?
        if case .down(let since, let next, let probes) = health.state {
            down = EndpointState.Down(since: since, nextProbeAt: next, failedProbes: probes,
                                      held: inMemory, moreInStore: spilling,
                                      lastError: health.lastError ?? "")
        }
        return EndpointState(name: endpoint.name, team: endpoint.team, channel: endpoint.channel, isolation: endpoint.isolation.rawValue,
                             suspendedSince: suspension?.since, reason: suspension?.reason, down: down)
    }
}
