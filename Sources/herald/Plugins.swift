import ArgumentParser
import Foundation
import HeraldConformance
import HeraldCore
import HeraldDispatch
import HeraldPluginHost
import Logging

struct Plugins: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the channel plugins, check a plugin's conformance, or start a new plugin.",
        subcommands: [List.self, Check.self, New.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List loaded plugins and their config fields.")

        @Option(name: .customLong("dir"), help: "A plugins folder (repeatable); default: the config's folders.")
        var directories: [String] = []

        @OptionGroup var options: CommonOptions

        func run() async throws {
            let logger = options.bootstrapLogging(default: .warning)
            // Every plugin not shipped with Herald is described by a worker
            // process: a broken one is listed as refused, not a dead command.
            let catalog: PluginCatalog
            if directories.isEmpty {
                catalog = try loadConfig(options.config, logger: logger).1
            } else {
                catalog = PluginLoader(logger: logger, worker: .herald).load(directories: directories)
            }
            for plugin in catalog.sorted {
                let isolation = plugin.isShipped ? "runs in the daemon" : "runs in a worker process"
                print("\(plugin.channel) \(plugin.version)  ABI \(plugin.abiVersion >> 16).\(plugin.abiVersion & 0xFFFF)  \(isolation)  \(plugin.file)")
                print("  \(plugin.summary)")
                for field in plugin.schema.fields {
                    var marks: [String] = []
                    if field.required { marks.append("required") }
                    if field.template { marks.append("template") }
                    if field.secret { marks.append("secret") }
                    let flags = marks.isEmpty ? "" : " (\(marks.joined(separator: ", ")))"
                    print("  - \(field.name): \(field.type)\(flags)  \(field.description)")
                }
            }
            for failure in catalog.failures {
                print("refused \(failure.file): \(failure.reason)")
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a plugin against the ABI's rules (the conformance kit).",
            discussion: """
                Loads PATH.so as the daemon would, in a child process (a plugin that crashes or hangs \
                yields a report), and checks the descriptor and schema, that bad configs are refused \
                with a reason, and, given a working --config, that every submission is completed \
                exactly once (also 200 at once and at close with work in flight), that submit returns \
                quickly, that timeouts are honoured and that empty, huge and non-UTF-8 fields are \
                survived. Prints PASS, FAIL or SKIP per rule; exits 1 when a rule failed.
                Without PATH, `--config FILE.yaml` checks a Herald config file (as `herald check`).
                """)

        @Argument(help: "The plugin's .so file.")
        var path: String?

        @Option(name: .shortAndLong, help: "With PATH: a channel config (JSON file) that delivers. Without: the Herald config file.")
        var config: String?

        @Option(help: "A channel config (JSON file) the plugin must refuse.")
        var invalidConfig: String?

        @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
        var logLevel: Logger.Level = .warning

        func run() async throws {
            guard let path else {
                try checkConfigFile(config ?? "herald.yaml", logLevel: logLevel)
                return
            }
            guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("no such file: \(path)") }
            // Absolute: dlopen reads a bare "libx.so" as a library to search for, not a file here.
            let file = URL(fileURLWithPath: path).standardizedFileURL.path
            let report = ConformanceProcess.run(herald: WorkerCommand.herald.executable, file: file, config: config,
                                                invalidConfig: invalidConfig)
            print(report)
            let failures = report.failures.count
            print(failures == 0 ? "\(path): conforms" : "\(path): \(failures) rule(s) failed")
            if failures > 0 { throw ExitCode(1) }
        }
    }
}

/// `herald check CONFIG`: the config file, every channel config against
/// its plugin, every template; offline.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a config file: its fields, every endpoint's channel config and every template.")

    @Argument(help: "The YAML config file.")
    var file: String

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .warning

    func run() async throws { try checkConfigFile(file, logLevel: logLevel) }
}

func checkConfigFile(_ file: String, logLevel: Logger.Level) throws {
    let logger = CommonOptions.bootstrap(logLevel)
    let (config, _) = try loadConfig(file, logger: logger)
    print("\(file): ok (\(config.teams.count) teams, \(config.endpoints.count) endpoints, \(config.policies.count) policies)")
}
