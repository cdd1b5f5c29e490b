import Foundation
public import HeraldDispatch
public import HeraldPluginHost
public import HeraldStore
public import Hummingbird
public import Logging

/// The config in force and every change to it: the file's text as last
/// read, plus the teams, endpoints and policies made through the API (kept
/// in the store). `reload` re-reads the file (SIGHUP, `POST /-/reload`);
/// the API changes its own items. Each change is checked as a whole with
/// the file's rules, stored, then applied live; one that fails changes
/// nothing. Changes go one at a time.
public actor ConfigState {
    public let file: String
    let loadPlugins: @Sendable ([String]) -> PluginCatalog
    let store: any Store
    let dispatcher: Dispatcher
    let teams: TeamDirectory
    let logger: Logger
    private var yaml: String
    private(set) var stored: [StoredResource]
    private var busy = false

    /// What `load` read at start-up.
    public struct Loaded: Sendable {
        public let yaml: String
        public let config: HeraldConfig
        public let catalog: PluginCatalog
        public let stored: [StoredResource]
    }

    /// Reads the file and merges the stored items, logging any the file now contradicts.
    public static func load(file: String, store: any Store, loadPlugins: @escaping @Sendable ([String]) -> PluginCatalog,
                            logger: Logger) async throws -> Loaded {
        let yaml: String
        do { yaml = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw ConfigError(file: file, line: nil, column: nil, field: "", message: "cannot read: \(error.localizedDescription)")
        }
        let stored = try await store.resources()
        let (config, catalog, leftOut) = try HeraldConfig.parse(yaml: yaml, file: file, loadPlugins: loadPlugins, stored: stored)
        for item in leftOut { logger.error("An item made through the API is left out", metadata: ["item": "\(item)"]) }
        return Loaded(yaml: yaml, config: config, catalog: catalog, stored: stored)
    }

    public init(file: String, loaded: Loaded, loadPlugins: @escaping @Sendable ([String]) -> PluginCatalog,
                store: any Store, dispatcher: Dispatcher, teams: TeamDirectory, logger: Logger) {
        self.file = file
        yaml = loaded.yaml
        stored = loaded.stored
        self.loadPlugins = loadPlugins
        self.store = store
        self.dispatcher = dispatcher
        self.teams = teams
        self.logger = logger
    }

    /// Re-reads the config file and applies it; a file with a mistake is
    /// refused with the error and the running config stays.
    public func reload() async throws(APIError) -> AppliedChange {
        logger.info("Reloading the config", metadata: ["file": "\(file)"])
        do throws(APIError) {
            let text: String
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw APIError(.badRequest, "\(file): cannot read: \(error.localizedDescription)")
            }
            let change = try await apply(yaml: text, items: stored, saving: [], deleting: [])
            if !change.needsRestart.isEmpty {
                logger.warning("Some changed settings take effect at the next start", metadata: [
                    "settings": "\(change.needsRestart.joined(separator: ", "))"])
            }
            return change
        } catch {
            logger.error("Config reload refused; the running config stays", metadata: ["error": "\(error.message)"])
            throw error
        }
    }

    /// Saves `saving` and deletes `deleting` among the API's items, if the
    /// config they make is valid and applies.
    func change(saving: [StoredResource], deleting: [(kind: StoredResource.Kind, name: String)]) async throws(APIError)
        -> AppliedChange {
        var items = stored.filter { item in
            !saving.contains { $0.kind == item.kind && $0.name == item.name }
                && !deleting.contains { $0.kind == item.kind && $0.name == item.name }
        }
        items += saving
        return try await apply(yaml: yaml, items: items, saving: saving, deleting: deleting)
    }

    private func apply(yaml text: String, items: [StoredResource], saving: [StoredResource],
                       deleting: [(kind: StoredResource.Kind, name: String)]) async throws(APIError) -> AppliedChange {
        guard !busy else { throw APIError(.conflict, "another change is being applied; send again") }
        busy = true
        defer { busy = false }
        let config: HeraldConfig
        let catalog: PluginCatalog
        do {
            let leftOut: [HeraldConfig.LeftOut]
            (config, catalog, leftOut) = try HeraldConfig.parse(yaml: text, file: file, loadPlugins: loadPlugins, stored: items)
            // An item of this change that does not fit is the caller's mistake; others were left out before.
            if let refused = leftOut.first(where: { out in saving.contains { $0.kind == out.item.kind && $0.name == out.item.name } }) {
                throw APIError(.badRequest, field: refused.field, refused.message)
            }
            // An API change never drops another item in force (an endpoint's fallback it deletes, say).
            let isAPIChange = !saving.isEmpty || !deleting.isEmpty
            let inForce = dispatcher.config.madeByAPI
            if isAPIChange, let dropped = leftOut.first(where: { inForce.contains("\($0.item.kind.rawValue)/\($0.item.name)") }) {
                throw APIError(.conflict, "this change would leave out \(dropped)")
            }
            for item in leftOut { logger.error("An item made through the API is left out", metadata: ["item": "\(item)"]) }
        } catch let error as APIError {
            throw error
        } catch let error as ConfigError {
            throw APIError(.badRequest, "\(error)")
        } catch {
            throw APIError(.badRequest, "\(error)")
        }
        let before = stored
        if !saving.isEmpty || !deleting.isEmpty {
            do { try await store.saveResources(saving, deleting: deleting) } catch {
                throw APIError(.serviceUnavailable, "could not store the change: \(error)")
            }
        }
        do {
            let change = try await dispatcher.apply(config, catalog: catalog)
            teams.update(config: config)
            yaml = text
            stored = items
            return change
        } catch {
            // Put the store back as it was: nothing of the change stays.
            let restore = before.filter { old in
                saving.contains { $0.kind == old.kind && $0.name == old.name }
                    || deleting.contains { $0.kind == old.kind && $0.name == old.name }
            }
            let added = saving.filter { new in !before.contains { $0.kind == new.kind && $0.name == new.name } }
            try? await store.saveResources(restore, deleting: added.map { ($0.kind, $0.name) })
            throw APIError(.badRequest, field: error.field, error.message)
        }
    }

    /// `POST /-/reload`: 200 with what changed, or 400 with the error.
    /// Alertmanager's convention; like Alertmanager's, it needs no token
    /// (it only makes the daemon read its own file again).
    public nonisolated func addRoutes<Context: RequestContext>(to router: Hummingbird.Router<Context>) {
        router.post("/-/reload") { _, _ -> Response in try JSONAnswer.response(.ok, try await self.reload()) }
    }
}
