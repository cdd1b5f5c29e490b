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
/// Endpoints and policies change while it runs (`apply`, in
/// `Dispatcher+Apply`). On graceful shutdown it stops taking deliveries,
/// lets those in flight finish (each bounded by its endpoint's timeout),
/// writes what is queued, and closes the plugin instances.
public final class Dispatcher: Service {
    public let pipeline: Pipeline
    let store: any Store
    let logger: Logger
    /// The config and plugins in force: the start's, then each applied change's.
    let current: Mutex<(config: HeraldConfig, catalog: PluginCatalog)>
    /// How often submissions past their timeout are given up, and due retries released.
    private let tickInterval: Duration = .milliseconds(50)
    /// The running workers by endpoint name.
    let workers = Mutex<[String: EndpointWorker]>([:])
    /// Workers made by a change while running, for `run` to start.
    let launches: (stream: AsyncStream<EndpointWorker>, continuation: AsyncStream<EndpointWorker>.Continuation)
    /// Set while a change is being applied: changes go one at a time.
    let applying = Mutex(false)
    private let started = Atomic<Bool>(false)

    /// Whether the endpoints are open and the writer runs: `/-/ready`.
    public var isReady: Bool { started.load(ordering: .relaxed) }

    public init(config: HeraldConfig, catalog: PluginCatalog, store: any Store, logger: Logger) {
        current = Mutex((config, catalog))
        self.store = store
        self.logger = logger
        pipeline = Pipeline(store: store, logger: logger)
        launches = AsyncStream.makeStream(of: EndpointWorker.self)
    }

    public var config: HeraldConfig { current.withLock { $0.config } }
    public var catalog: PluginCatalog { current.withLock { $0.catalog } }

    public func run() async throws {
        let (config, catalog) = current.withLock { $0 }
        let start = try await store.beginRun(poisonAfter: config.poisonAfterCrashes)
        if start.unclean {
            logger.warning("The last run did not stop cleanly (a crash, or kill -9)", metadata: [
                "deliveries.poisoned": "\(start.poisoned.count)"])
        }
        for id in start.poisoned {
            logger.error("Delivery dead-lettered as poison: the daemon crashed with it in flight, again and again",
                         metadata: ["delivery.id": "\(id)", "crashes": "\(config.poisonAfterCrashes)"])
        }
        var opened: [String: EndpointWorker] = [:]
        for endpoint in config.endpoints {
            if let worker = await openWorker(endpoint, config: config, catalog: catalog) { opened[endpoint.name] = worker }
        }
        let down = try await store.endpointsDown()
        for (name, worker) in opened {
            await worker.restore(downSince: down[name], fallbackKeys: try await store.fallbackKeys(endpoint: name))
        }
        if start.unclean {
            for endpoint in config.endpoints where endpoint.isolation == .none {
                await opened[endpoint.name]?.deliverCarefully(through: start.lastPendingID, suspects: start.suspects)
            }
        }
        workers.withLock { $0 = opened }
        let planner = Planner(
            router: Router(policies: config.policies),
            endpoints: Dictionary(uniqueKeysWithValues: config.endpoints.map { ($0.name, $0) }),
            throttle: ThrottleBook(try await store.throttleStates()),
            now: { Date().timeIntervalSince1970 })
        // Deliveries left pending by the last run are paged in from the store.
        for worker in opened.values { await worker.resumeFromStore() }

        let pipeline = pipeline
        let logger = logger
        await withDiscardingTaskGroup { writer in
            writer.addTask {
                await pipeline.run(planner: planner) { await self.distribute($0) }
            }
            started.store(true, ordering: .relaxed)
            await withDiscardingTaskGroup { timers in
                timers.addTask { await self.tick(every: self.tickInterval) }
                timers.addTask { await self.sweepExpiredAlerts() }
                timers.addTask { await self.pruneHistory() }
                await withDiscardingTaskGroup { running in
                    for worker in opened.values { running.addTask { await self.run(worker) } }
                    running.addTask {
                        try? await gracefulShutdown()
                        self.launches.continuation.finish()
                    }
                    // Workers of endpoints made while running; a deleted one's
                    // task ends its deliveries and closes it.
                    for await worker in launches.stream {
                        running.addTask { await self.run(worker) }
                    }
                    logger.info("Draining deliveries in flight")
                    for worker in self.workers.withLock({ $0.values }) { await worker.stop() }
                }
                timers.cancelAll()
            }
            pipeline.finish()
        }
        for worker in workers.withLock({ $0.values }) { await worker.close() }
        do { try await store.endRun() } catch { logger.error("Could not mark the clean stop", metadata: ["error": "\(error)"]) }
        logger.info("Dispatcher stopped")
    }

    /// Runs a worker until it stops; one stopped because its endpoint was
    /// deleted is retired.
    private func run(_ worker: EndpointWorker) async {
        await worker.run()
        if await worker.isRetired { await retire(worker) }
    }

    /// Every endpoint's state, or one team's, by name.
    public func endpointStates(team: String? = nil) async -> [EndpointState] {
        var states: [EndpointState] = []
        for (_, worker) in workers.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
            let state = await worker.state()
            if team == nil || state.team == team { states.append(state) }
        }
        return states
    }

    public enum TestSendError: Error, Sendable {
        case noSuchEndpoint
        case suspended
    }

    /// Sends a test alert through one of the team's endpoints now.
    /// - Parameter team: the caller's team (nil for an admin): another team's endpoint is not found.
    public func testSend(team: String?, endpoint name: String) async throws(TestSendError) -> TestSendResult {
        guard let worker = workers.withLock({ $0[name] }) else { throw .noSuchEndpoint }
        if let team, await worker.state().team != team { throw .noSuchEndpoint }
        guard let result = await worker.testSend() else { throw .suspended }
        return result
    }

    /// How a replay of dead letters went, as far as it got.
    public struct ReplayProgress: Sendable, Encodable {
        /// Dead letters set pending again and handed to their endpoints so far.
        public var replayed = 0
        /// Still going (in the background: the endpoints are busy taking them).
        public var running = true
    }

    /// Sends dead letters (a team's, or every team's for nil; all, or those
    /// with `ids`) through their endpoints again, from a fresh retry count,
    /// in chunks: the next chunk waits until its endpoints have room in
    /// memory, so a bulk replay never loads every dead letter at once. Those
    /// of deleted endpoints stay dead. Answers once done, or after
    /// `answerWithin` seconds with how far it got (it goes on, logged).
    public func replayDeadLetters(team: String?, ids: [Int64]?, answerWithin seconds: Double = 10) async throws -> ReplayProgress {
        let progress = Mutex(ReplayProgress())
        let replay = Task {
            defer { progress.withLock { $0.running = false } }
            var after: Int64 = 0
            while true {
                let endpoints = Array(workers.withLock { $0.keys })
                let chunk = try await store.replayDead(team: team, ids: ids, endpoints: endpoints, afterID: after, limit: 500)
                guard let last = chunk.last else { break }
                after = last.id
                await waitForRoom(for: Set(chunk.map(\.push.endpoint)))
                await distribute(chunk, spillable: false)
                let total = progress.withLock { $0.replayed += chunk.count; return $0.replayed }
                if total % 10_000 < chunk.count {
                    logger.info("Replaying dead letters", metadata: ["team": "\(team ?? "all")", "replayed": "\(total)"])
                }
            }
            logger.info("Replayed dead letters", metadata: ["team": "\(team ?? "all")", "count": "\(progress.withLock { $0.replayed })"])
        }
        let deadline = Date().addingTimeInterval(seconds)
        while progress.withLock({ $0.running }), Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if !progress.withLock({ $0.running }) { _ = try await replay.value }
        return progress.withLock { $0 }
    }

    /// Waits until each of these endpoints' workers holds fewer deliveries
    /// in memory than half its limit.
    private func waitForRoom(for endpoints: Set<String>) async {
        for name in endpoints {
            guard let worker = workers.withLock({ $0[name] }) else { continue }
            while await !worker.hasRoom { try? await Task.sleep(for: .milliseconds(100)) }
        }
    }

    /// A worker for the endpoint with its plugin instance open, or nil
    /// (logged) when its plugin cannot open it: its deliveries then stay
    /// pending in the store until a config that works.
    func openWorker(_ endpoint: Endpoint, config: HeraldConfig, catalog: PluginCatalog) async -> EndpointWorker? {
        do {
            let (instance, fields) = try await open(endpoint, catalog: catalog)
            return try makeWorker(endpoint, instance: instance, templateFields: fields, config: config)
        } catch {
            logger.error("Endpoint disabled: its plugin could not open it", metadata: [
                "endpoint": "\(endpoint.name)", "plugin": "\(endpoint.channel)", "reason": "\(error)"])
            return nil
        }
    }

    func makeWorker(_ endpoint: Endpoint, instance: any ChannelInstance, templateFields: [String: String],
                    config: HeraldConfig) throws(TemplateError) -> EndpointWorker {
        EndpointWorker(endpoint: endpoint, instance: instance, templates: try TemplateSet(fields: templateFields),
                       policySelectors: Self.selectors(config.policies), pipeline: pipeline, store: store,
                       memoryLimit: config.backlogInMemory, poisonAfter: config.poisonAfterCrashes, logger: logger)
    }

    /// Opens a plugin instance for the endpoint, with its template fields
    /// (checked: they parse and render).
    func open(_ endpoint: Endpoint, catalog: PluginCatalog) async throws -> (any ChannelInstance, [String: String]) {
        guard let plugin = catalog.plugins[endpoint.channel] else {
            throw PluginConfigError(field: nil, message: "no plugin provides channel \"\(endpoint.channel)\"")
        }
        var fields = plugin.defaultTemplates
        for field in plugin.schema.templateFields {
            if let text = endpoint.config[field]?.stringValue { fields[field] = text }
        }
        _ = try TemplateSet(fields: fields)
        let instance = try await offPool { () throws(PluginConfigError) -> any ChannelInstance in
            switch endpoint.isolation {
            case .none: try PluginInstance.open(plugin, config: endpoint.config, endpoint: endpoint.name)
            case .process:
                try WorkerInstance.open(plugin, config: endpoint.config, endpoint: endpoint.name,
                                        command: plugin.worker ?? .herald)
            }
        }
        return (instance, fields)
    }

    static func selectors(_ policies: [Policy]) -> [String: String] {
        Dictionary(policies.map { ($0.id, $0.selector) }) { first, _ in first }
    }

    func distribute(_ deliveries: [PendingDelivery], spillable: Bool = true) async {
        let workers = workers.withLock { $0 }
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

    private func tick(every interval: Duration) async {
        while !Task.isCancelled {
            expireOverdueSubmissions()
            let now = Date().timeIntervalSince1970
            for worker in workers.withLock({ $0.values }) { await worker.tick(now: now) }
            try? await Task.sleep(for: interval)
        }
    }

    /// Deletes the history older than `storage.retention` (events whose
    /// deliveries all ended), a minute after start and every ten minutes,
    /// in small transactions with a pause between, so ingest's commits
    /// interleave with it instead of waiting.
    private func pruneHistory() async {
        try? await Task.sleep(for: .seconds(60))
        while !Task.isCancelled {
            let retention = config.retentionSeconds
            if retention > 0 {
                let cutoff = Date().timeIntervalSince1970 - retention
                var pruned = 0
                do {
                    while !Task.isCancelled {
                        let count = try await store.prune(storedBefore: cutoff, limit: 500)
                        pruned += count
                        if count < 500 { break }
                        try? await Task.sleep(for: .milliseconds(20))
                    }
                } catch {
                    logger.error("Pruning the history failed", metadata: ["error": "\(error)"])
                }
                if pruned > 0 {
                    logger.info("Pruned the history past its retention", metadata: [
                        "events": "\(pruned)", "retention_days": "\(retention / 86400)"])
                }
            }
            try? await Task.sleep(for: .seconds(600))
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
