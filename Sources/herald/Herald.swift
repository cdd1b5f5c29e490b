public import ArgumentParser
import Foundation
import Logging

@main
struct Herald: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herald",
        abstract: "Takes alert events in and pushes them out through channel plugins.",
        subcommands: [Serve.self, Plugins.self, Deliveries.self, Captures.self])
}

/// Options every command that reads the config file shares.
struct CommonOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "The YAML config file.")
    var config: String = "herald.yaml"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func bootstrapLogging() -> Logger {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "herald")
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
