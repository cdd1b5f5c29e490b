import ArgumentParser
import Foundation
import HeraldConformance
import HeraldCore
import HeraldPluginHost
import Logging

/// `herald plugin-worker MODE FILE`: the plugin side of isolation, started
/// by the daemon (and by `herald plugins check`), not by people.
struct PluginWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugin-worker", abstract: "Run a plugin in a worker process (started by herald itself).",
        shouldDisplay: false)

    @Argument(help: "describe, validate, serve or check.")
    var mode: String

    @Argument(help: "The plugin's .so file.")
    var file: String

    @Option(help: "check: a channel config (JSON file) that delivers.")
    var config: String?

    @Option(help: "check: a channel config (JSON file) the plugin must refuse.")
    var invalidConfig: String?

    func run() async throws {
        let status: Int32
        switch mode {
        case "describe": status = PluginWorker.describe(file: file)
        case "validate": status = PluginWorker.validate(file: file)
        case "serve": status = PluginWorker.serve(file: file)
        case "check": status = await ConformanceProcess.child(file: file, config: config, invalidConfig: invalidConfig)
        default: throw ValidationError("unknown mode \(mode)")
        }
        throw ExitCode(status)
    }
}
