import HeraldCore
public import HeraldPluginHost
public import HeraldStore
import Foundation
public import Logging
import Synchronization
public import ServiceLifecycle

/// The delivery side of the daemon, as one `Service`: the writer, a worker
/// per endpoint, the timeout tick and the auto-clear sweep.
///
/// On graceful shutdown it stops taking deliveries, lets those in flight
/// finish (each bounded by its endpoint's timeout), writes what is queued,
/// and closes the plugin instances.
public final class Dispatcher: Service {
    public let pipeline: Pipeline
    private let config: HeraldConfig
    private let catalog: PluginCatalog
    private let store: any Store
    private let logger: Logger
    /// How often submissions past their timeout are given up, and due retries released.
    private let tickInterval: Duration = .milliseconds(50)
    /// The workers once `run` opened them, for replays.
    private let workers = Mutex<[String: EndpointWorker]>([:])
    private let started = Atomic<Bool>(false)

    /// Whether the endpoints are open and the writer runs: `/-/ready`.
    public var isReady: Bool { started.load(ordering: .relaxed) }

    public init(config: HeraldConfig, catalog: PluginCatalog, store: any Store, logger: Logger) {
        self.config = config
        self.catalog = catalog
        self.store = store
        self.logger = logger
        pipeline = Pipeline(store: store, logger: logger)
    }

    public func run() async throws {
        let start = try await store.beginRun(poisonAfter: config.poisonAfterCrashes)
        if start.unclean {
            logger.warning("The last run did not stop cleanly (a crash, or kill -9)", metadata: [
                "deliveries.poisoned": "\(start.poisoned.count)"])
        }
        for id in start.poisoned {
            logger.error("Delivery dead-lettered as poison: the daemon crashed with it in flight, again and again",
                         metadata: ["delivery.id": "\(id)", "crashes": "\(config.poisonAfterCrashes)"])
        }
        let workers = try await openWorkers()
        self.workers.withLock { $0 = workers }
        let down = try await store.endpointsDown()
        for (name, worker) in workers {
            await worker.restore(downSince: down[name], fallbackKeys: try await store.fallbackKeys(endpoint: name))
        }
        if start.unclean {
            for worker in workers.values where worker.endpoint.isolation == .none {
                await worker.deliverCarefully(through: start.lastPendingID, suspects: start.suspects)
            }
        }
        let planner = Planner(
            router: Router(policies: config.policies),
            endpoints: Dictionary(uniqueKeysWithValues: config.endpoints.map { ($0.name, $0) }),
            throttle: try await store.throttleStates(),
            now: { Date().timeIntervalSince1970 })
        // Deliveries left pending by the last run are paged in from the store.
        for worker in workers.values { await worker.resumeFromStore() }

        let pipeline = pipeline
        let logger = logger
        await withDiscardingTaskGroup { writer in
            writer.addTask {
                await pipeline.run(planner: planner) { await Self.distribute($0, to: workers, logger: logger) }
            }
            started.store(true, ordering: .relaxed)
            await withDiscardingTaskGroup { timers in
                timers.addTask { await Self.tick(workers: workers, every: self.tickInterval) }
                timers.addTask { await self.sweepExpiredAlerts() }
                await withDiscardingTaskGroup { running in
                    for worker in workers.values { running.addTask { await worker.run() } }
                    try? await gracefulShutdown()
                    logger.info("Draining deliveries in flight")
                    for worker in workers.values { await worker.stop() }
                }
                timers.cancelAll()
            }
            pipeline.finish()
        }
        for worker in workers.values { await worker.close() }
        do { try await store.endRun() } catch { logger.error("Could not mark the clean stop", metadata: ["error": "\(error)"]) }
        logger.info("Dispatcher stopped")
    }

    /// Each open endpoint's state, for `/healthz`.
    /// Every endpoint's state, or one team's, by name.
    public func endpointStates(team: String? = nil) async -> [EndpointState] {
        var states: [EndpointState] = []
        for (_, worker) in workers.withLock({ $0 }).sorted(by: { $0.key < $1.key })
        where team == nil || worker.endpoint.team == team {
            states.append(await worker.state())
        }
        return states
    }

    /// Sends a team's dead letters (all, or those with `ids`) through their
    /// endpoints again, from a fresh retry count; returns how many.
    public func replayDeadLetters(team: String, ids: [Int64]?) async throws -> Int {
        let deliveries = try await store.replayDead(team: team, ids: ids)
        await Self.distribute(deliveries, to: workers.withLock { $0 }, spillable: false, logger: logger)
        logger.info("Replaying dead letters", metadata: ["team": "\(team)", "count": "\(deliveries.count)"])
        return deliveries.count
    }

    private func openWorkers() async throws -> [String: EndpointWorker] {
        var workers: [String: EndpointWorker] = [:]
        let selectors = Dictionary(config.policies.map { ($0.id, $0.selector) }) { first, _ in first }
        for endpoint in config.endpoints {
            guard let plugin = catalog.plugins[endpoint.channel] else { continue }
            var fields = plugin.defaultTemplates
            for field in plugin.schema.templateFields {
                if let text = endpoint.config[field]?.stringValue { fields[field] = text }
            }
            do {
                let templates = try TemplateSet(fields: fields)
                let instance = try await offPool { () throws(PluginConfigError) -> any ChannelInstance in
                    switch endpoint.isolation {
                    case .none: try PluginInstance.open(plugin, config: endpoint.config, endpoint: endpoint.name)
                    case .process:
                        try WorkerInstance.open(plugin, config: endpoint.config, endpoint: endpoint.name,
                                                command: plugin.worker ?? .herald)
                    }
                }
                workers[endpoint.name] = EndpointWorker(endpoint: endpoint, instance: instance, templates: templates,
                                                        policySelectors: selectors,
                                                        pipeline: pipeline, store: store,
                                                        memoryLimit: config.backlogInMemory,
                                                        poisonAfter: config.poisonAfterCrashes, logger: logger)
            } catch {
                // Its deliveries stay pending in the store until a restart with a working config.
                logger.error("Endpoint disabled: its plugin could not open it", metadata: [
                    "endpoint": "\(endpoint.name)", "plugin": "\(endpoint.channel)", "reason": "\(error)"])
            }
        }
        return workers
    }

    private static func distribute(_ deliveries: [PendingDelivery], to workers: [String: EndpointWorker],
                                   spillable: Bool = true, logger: Logger) async {
        var byEndpoint: [String: [PendingDelivery]] = [:]
        for delivery in deliveries { byEndpoint[delivery.push.endpoint, default: []].append(delivery) }
        for (endpoint, list) in byEndpoint {
            if let worker = workers[endpoint] {
                await worker.enqueue(list, spillable: spillable)
            } else {
                logger.warning("Deliveries kept pending for a disabled endpoint",
                               metadata: ["endpoint": "\(endpoint)", "count": "\(list.count)"])
            }
        }
    }

    private static func tick(workers: [String: EndpointWorker], every interval: Duration) async {
        while !Task.isCancelled {
            expireOverdueSubmissions()
            let now = Date().timeIntervalSince1970
            for worker in workers.values { await worker.tick(now: now) }
            try? await Task.sleep(for: interval)
        }
    }

    /// Turns firing alerts whose auto-clear time passed into recoveries.
    private func sweepExpiredAlerts() async {
        while !Task.isCancelled {
            do {
                let expired = try await store.expiredAlerts(now: Date().timeIntervalSince1970)
                if !expired.isEmpty {
                    let now = Date()
                    let recoveries = expired.map { event in
                        var recovery = event
                        recovery.status = .resolved
                        recovery.endsAt = now
                        recovery.annotations["herald_auto_cleared"] = "true"
                        return recovery
                    }
                    try await pipeline.ingest(recoveries)
                    logger.info("Auto-cleared alerts past their timeout", metadata: ["count": "\(recoveries.count)"])
                }
            } catch {
                logger.error("Auto-clear sweep failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}

/// How one endpoint stands, as `/healthz` shows it.
public struct EndpointState: Sendable, Encodable {
    public let name: String
    public let channel: String
    /// Where its plugin runs: `none` (in the daemon) or `process`.
    public let isolation: String
    /// Unix seconds since when the endpoint is suspended (its plugin hangs); nil while it runs.
    public let suspendedSince: Double?
    public let reason: String?
    /// Set while the endpoint is down: its deliveries held, one probe at a time.
    public let down: Down?

    public struct Down: Sendable, Encodable {
        /// Unix seconds.
        public let since: Double
        public let nextProbeAt: Double
        public let failedProbes: Int
        /// Deliveries held in memory (more wait in the store when `moreInStore`).
        public let held: Int
        public let moreInStore: Bool
        public let lastError: String

        enum CodingKeys: String, CodingKey {
            case since, nextProbeAt = "next_probe_at", failedProbes = "failed_probes", held, moreInStore = "more_in_store"
            case lastError = "last_error"
        }
    }

    /// `up`, `down` (held and probed) or `suspended` (its plugin hangs).
    public var state: String { suspendedSince != nil ? "suspended" : down != nil ? "down" : "up" }

    enum CodingKeys: String, CodingKey { case name, channel, isolation, state, suspendedSince = "suspended_since", reason, down }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(channel, forKey: .channel)
        try c.encode(isolation, forKey: .isolation)
        try c.encode(state, forKey: .state)
        try c.encodeIfPresent(suspendedSince, forKey: .suspendedSince)
        try c.encodeIfPresent(reason, forKey: .reason)
        try c.encodeIfPresent(down, forKey: .down)
    }
}
