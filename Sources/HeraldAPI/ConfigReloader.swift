public import HeraldDispatch
public import HeraldPluginHost
public import Hummingbird
public import Logging

/// Re-reads the config file and applies it while running: on SIGHUP and on
/// `POST /-/reload` (Alertmanager's convention). A file with a mistake is
/// refused with the error, and the running config stays.
public struct ConfigReloader: Sendable {
    let load: @Sendable () throws -> (HeraldConfig, PluginCatalog)
    let dispatcher: Dispatcher
    let teams: TeamDirectory
    let logger: Logger

    /// - Parameter load: reads and checks the file (and loads its plugins).
    public init(load: @escaping @Sendable () throws -> (HeraldConfig, PluginCatalog), dispatcher: Dispatcher,
                teams: TeamDirectory, logger: Logger) {
        self.load = load
        self.dispatcher = dispatcher
        self.teams = teams
        self.logger = logger
    }

    public func reload() async throws(APIError) -> AppliedChange {
        logger.info("Reloading the config", metadata: ["file": "\(dispatcher.config.file)"])
        let config: HeraldConfig
        let catalog: PluginCatalog
        do {
            (config, catalog) = try load()
        } catch {
            logger.error("Config reload refused; the running config stays", metadata: ["error": "\(error)"])
            throw APIError(.badRequest, "\(error)")
        }
        do {
            let change = try await dispatcher.apply(config, catalog: catalog)
            teams.update(teams: config.teams)
            if !change.needsRestart.isEmpty {
                logger.warning("Some changed settings take effect at the next start", metadata: [
                    "settings": "\(change.needsRestart.joined(separator: ", "))"])
            }
            return change
        } catch {
            logger.error("Config reload refused; the running config stays", metadata: ["error": "\(error)"])
            throw APIError(.badRequest, field: error.field, error.message)
        }
    }

    /// `POST /-/reload`: 200 with what changed, or 400 with the error.
    public func addRoutes<Context: RequestContext>(to router: Hummingbird.Router<Context>) {
        router.post("/-/reload") { _, _ -> Response in try JSONAnswer.response(.ok, try await reload()) }
    }
}
