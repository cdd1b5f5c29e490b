import ArgumentParser
import CMalloc
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
        // glibc gives each thread that contends for malloc an arena of its own
        // (up to 8 per core) and keeps what is freed in each: under a burst the
        // daemon's many threads (event loops, the task pool, SQLite's queues,
        // plugin threads) held 104-113 MB, 77-83 MB with two arenas at the same
        // throughput (`ONLY=alertmanager scripts/benchmark.sh`, burst100).
        // MALLOC_ARENA_MAX in the environment still wins.
        if ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil { _ = mallopt(M_ARENA_MAX, 2) }
        let logger = options.bootstrapLogging()
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        // The file alone says where the store is; then the items made through the API join it.
        let (fileConfig, fileCatalog) = try loadConfig(options.config, logger: logger)
        let directory = (fileConfig.databasePath as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        // Held until the process exits.
        let lock: StoreLock
        do { lock = try StoreLock(databasePath: fileConfig.databasePath) } catch { throw ValidationError("\(error)") }
        let store = try SQLiteStore(path: fileConfig.databasePath,
                                    durability: fileConfig.durability == "power" ? .power : .process,
                                    walAutocheckpoint: fileConfig.walAutocheckpoint)
        logger.info("Opened store", metadata: ["store.path": "\(fileConfig.databasePath)", "store.durability": "\(fileConfig.durability)"])
        let loaded: ConfigState.Loaded
        do {
            loaded = try await ConfigState.load(file: options.config, store: store, loadPlugins: { _ in fileCatalog }, logger: logger)
        } catch {
            throw ValidationError("config error: \(error)")
        }
        let config = loaded.config
        let dispatcher = Dispatcher(config: config, catalog: loaded.catalog, store: store, logger: logger)

        let router = Router(context: HeraldRequestContext.self)
        let teams = TeamDirectory(config: config)
        router.add(middleware: CallerAuthenticator(teams: teams))
        let state = ConfigState(file: options.config, loaded: loaded, loadPlugins: { directories in
            PluginLoader(logger: logger, worker: .herald).load(directories: directories)
        }, store: store, dispatcher: dispatcher, teams: teams, logger: logger)
        HealthRoutes(dispatcher: dispatcher, registry: registry).addRoutes(to: router)
        state.addRoutes(to: router)
        IngestRoutes(pipeline: dispatcher.pipeline, teams: teams,
                     maxBodyBytes: config.maxBodyBytes, defaultTimeoutSeconds: config.defaultTimeoutSeconds)
            .addRoutes(to: router)
        DeliveryRoutes(store: store, dispatcher: dispatcher).addRoutes(to: router)
        EventRoutes(store: store).addRoutes(to: router)
        ChannelRoutes(dispatcher: dispatcher).addRoutes(to: router)
        ResourceRoutes(state: state, dispatcher: dispatcher, teams: teams).addRoutes(to: router)
        ConsoleRoutes().addRoutes(to: router)
        for route in router.routes { logger.debug("Route", metadata: ["method": "\(route.method)", "path": "\(route.path)"]) }
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "herald"),
            services: [dispatcher, ReloadOnHangup(state: state)],
            onServerRunning: { channel in
                logger.info("Listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")",
                                                    "console": "http://\(config.host):\(channel.localAddress?.port ?? config.port)/ui/"])
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
