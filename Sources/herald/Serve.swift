import ArgumentParser
import Foundation
import HeraldAPI
import HeraldDispatch
import HeraldPluginHost
import HeraldStore
import Hummingbird
import Logging
import Metrics
import Prometheus

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the daemon.")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        // SIGHUP reloads (`ReloadOnHangup`); ignored until that service traps it, so an early one cannot end the daemon.
        Foundation.signal(SIGHUP, SIG_IGN)
        let logger = options.bootstrapLogging()
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let (config, catalog) = try loadConfig(options.config, logger: logger)
        let directory = (config.databasePath as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        // Held until the process exits.
        let lock: StoreLock
        do { lock = try StoreLock(databasePath: config.databasePath) } catch { throw ValidationError("\(error)") }
        let store = try SQLiteStore(path: config.databasePath,
                                    durability: config.durability == "power" ? .power : .process,
                                    walAutocheckpoint: config.walAutocheckpoint)
        logger.info("Opened store", metadata: ["store.path": "\(config.databasePath)", "store.durability": "\(config.durability)"])
        let dispatcher = Dispatcher(config: config, catalog: catalog, store: store, logger: logger)

        let router = Router()
        let teams = TeamDirectory(teams: config.teams)
        HealthRoutes(dispatcher: dispatcher, registry: registry).addRoutes(to: router)
        IngestRoutes(pipeline: dispatcher.pipeline, teams: teams,
                     maxBodyBytes: config.maxBodyBytes, defaultTimeoutSeconds: config.defaultTimeoutSeconds)
            .addRoutes(to: router)
        DeliveryRoutes(store: store, dispatcher: dispatcher, teams: teams).addRoutes(to: router)
        EndpointRoutes(dispatcher: dispatcher, teams: teams).addRoutes(to: router)
        EventRoutes(store: store, teams: teams).addRoutes(to: router)
        let file = options.config
        let reloader = ConfigReloader(load: { try loadConfig(file, logger: logger) }, dispatcher: dispatcher,
                                      teams: teams, logger: logger)
        reloader.addRoutes(to: router)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "herald"),
            services: [dispatcher, ReloadOnHangup(reloader: reloader)],
            onServerRunning: { channel in
                logger.info("Listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
            },
            logger: logger)
        try await app.runService()
        withExtendedLifetime(lock) {}
    }
}

/// Loads the config file and the plugins it names (Herald's own into this
/// process, any other described by a worker process); on a config error,
/// prints it (file:line:col: field: message) and exits non-zero.
/// - Parameter plugins: false for read-only commands, which must work while
///   a plugin is broken: no plugin is loaded and channel configs go unchecked.
func loadConfig(_ file: String, logger: Logger, plugins: Bool = true) throws -> (HeraldConfig, PluginCatalog) {
    do {
        return try HeraldConfig.load(file: file, loadPlugins: plugins ? { directories in
            PluginLoader(logger: logger, worker: .herald).load(directories: directories)
        } : nil)
    } catch {
        throw ValidationError("config error: \(error)")
    }
}
