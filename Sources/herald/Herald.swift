public import ArgumentParser
import Foundation
import Logging

@main
struct Herald: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herald",
        abstract: "Takes alert events in and pushes them out through channel plugins.",
        version: Herald.version,
        subcommands: [Serve.self, Check.self, Endpoints.self, Policies.self, Teams.self, Events.self, History.self,
                      DeadLetters.self, Plugins.self, Deliveries.self, Captures.self, PluginWorkerCommand.self])

    static let version = "0.6.0"
}

/// Options every command that reads the config file shares.
struct CommonOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "The YAML config file.")
    var config: String = "herald.yaml"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func bootstrapLogging() -> Logger { Self.bootstrap(logLevel) }

    /// As `bootstrapLogging`, quieter by default: for commands whose output
    /// is what they print, not the log.
    func bootstrapLogging(default quiet: Logger.Level) -> Logger {
        Self.bootstrap(logLevelWasSet ? logLevel : quiet)
    }

    private var logLevelWasSet: Bool { CommandLine.arguments.contains("--log-level") }

    static func bootstrap(_ level: Logger.Level) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "herald")
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
