import Foundation
import HeraldCore
public import HeraldPluginHost
import HeraldStore
import Logging
import Synchronization

/// What applying a config changed, for the answer to a reload and the log.
public struct AppliedChange: Sendable, Encodable, Equatable {
    public var added: [String] = []
    public var changed: [String] = []
    public var removed: [String] = []
    public var policies = 0
    public var teams = 0
    /// Settings read only at start-up that differ in the new config.
    public var needsRestart: [String] = []

    enum CodingKeys: String, CodingKey {
        case added, changed, removed, policies, teams, needsRestart = "needs_restart"
    }
}

/// A change refused as a whole: nothing of it was applied.
public struct ApplyError: Error, Sendable, CustomStringConvertible {
    /// The config field at fault, when one is (`endpoints[ops].config.url`).
    public let field: String?
    public let message: String
    public var description: String { field.map { "\($0): \(message)" } ?? message }
}

extension Dispatcher {
    /// Applies a checked config while running: new endpoints open and start,
    /// edited ones swap in a new plugin instance without losing or
    /// repeating a delivery (`EndpointWorker.reconfigure`), deleted ones end
    /// their pending deliveries as `cancelled` and close; policies route
    /// every later event. Every new instance opens before anything changes,
    /// so a plugin refusing its config leaves the running one in force.
    /// Changes go one at a time.
    public func apply(_ config: HeraldConfig, catalog: PluginCatalog) async throws(ApplyError) -> AppliedChange {
        guard applying.withLock({ busy in defer { busy = true }; return !busy }) else {
            throw ApplyError(field: nil, message: "another change is being applied; try again")
        }
        defer { applying.withLock { $0 = false } }
        let old = current.withLock { $0.config }
        let before = Dictionary(old.endpoints.map { ($0.name, $0) }) { first, _ in first }
        let after = Dictionary(config.endpoints.map { ($0.name, $0) }) { first, _ in first }
        var change = AppliedChange(policies: config.policies.count, teams: config.teams.count)
        change.needsRestart = Self.restartOnly(old, config)

        // Open first: nothing changes unless every new instance opens.
        var opened: [String: (any ChannelInstance, [String: String])] = [:]
        for endpoint in config.endpoints {
            let previous = before[endpoint.name]
            guard previous.map({ Self.needsNewInstance($0, endpoint) }) ?? true else { continue }
            do {
                opened[endpoint.name] = try await open(endpoint, catalog: catalog)
            } catch {
                for (instance, _) in opened.values { await EndpointWorker.close(instance, endpoint: endpoint, logger: logger) }
                throw ApplyError(field: "endpoints[\(endpoint.name)].config", message: "\(error)")
            }
        }
        let running = workers.withLock { $0 }
        let selectors = Self.selectors(config.policies)
        for endpoint in config.endpoints {
            if let worker = running[endpoint.name] {
                if let (instance, fields) = opened[endpoint.name] {
                    await worker.reconfigure(endpoint, instance: instance, templateFields: fields)
                } else if before[endpoint.name] != endpoint {
                    await worker.update(endpoint)
                }
                if before[endpoint.name] != endpoint { change.changed.append(endpoint.name) }
            } else if let (instance, fields) = opened[endpoint.name],
                      let worker = try? makeWorker(endpoint, instance: instance, templateFields: fields, config: config) {
                await worker.restore(downSince: nil, fallbackKeys: (try? await store.fallbackKeys(endpoint: endpoint.name)) ?? [])
                workers.withLock { $0[endpoint.name] = worker }
                // What waits in the store for it (from a run where it could not open) is paged in.
                await worker.resumeFromStore()
                launches.continuation.yield(worker)
                change.added.append(endpoint.name)
            }
        }
        // From here on, events route with the new policies and endpoints.
        await pipeline.route(Router(policies: config.policies), endpoints: after)
        for (name, worker) in running where after[name] == nil {
            workers.withLock { _ = $0.removeValue(forKey: name) }
            await worker.retire()
            change.removed.append(name)
        }
        for worker in workers.withLock({ $0.values }) { await worker.update(policySelectors: selectors) }
        current.withLock { $0 = (config, catalog) }
        logger.notice("Config applied", metadata: [
            "endpoints.added": "\(change.added.sorted())", "endpoints.changed": "\(change.changed.sorted())",
            "endpoints.removed": "\(change.removed.sorted())", "policies": "\(change.policies)",
            "needs_restart": "\(change.needsRestart)"])
        return change
    }

    /// A deleted endpoint's worker has stopped: its pending deliveries end
    /// as `cancelled` (after the outcomes of those that were in flight),
    /// and its plugin closes.
    func retire(_ worker: EndpointWorker) async {
        let reason = "the endpoint was deleted"
        var cancelled = 0
        do { cancelled = try await pipeline.cancelPending(endpoint: worker.name, reason: reason) } catch {
            // They stay pending in the store, delivered if the endpoint comes back.
            logger.error("Could not cancel a deleted endpoint's deliveries", metadata: [
                "endpoint": "\(worker.name)", "error": "\(error)"])
        }
        await worker.close()
        logger.notice("Endpoint deleted: its plugin closed, its pending deliveries cancelled", metadata: [
            "endpoint": "\(worker.name)", "deliveries.cancelled": "\(cancelled)"])
    }

    /// Whether an edit needs a new plugin instance (a new channel config,
    /// templates included, or where the plugin runs).
    static func needsNewInstance(_ old: Endpoint, _ new: Endpoint) -> Bool {
        old.config != new.config || old.channel != new.channel || old.isolation != new.isolation
    }

    /// Settings read only at start-up that differ.
    static func restartOnly(_ old: HeraldConfig, _ new: HeraldConfig) -> [String] {
        var fields: [String] = []
        if old.host != new.host || old.port != new.port || old.maxBodyBytes != new.maxBodyBytes { fields.append("server") }
        if old.databasePath != new.databasePath || old.durability != new.durability
            || old.walAutocheckpoint != new.walAutocheckpoint || old.backlogInMemory != new.backlogInMemory {
            fields.append("storage")
        }
        if old.poisonAfterCrashes != new.poisonAfterCrashes { fields.append("plugins.poison_after_crashes") }
        return fields
    }
}
