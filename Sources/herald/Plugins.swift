import ArgumentParser
import Foundation
import HeraldCore
import HeraldDispatch
import HeraldPluginHost
import Logging

struct Plugins: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the channel plugins, or check a config against them.",
        subcommands: [List.self, Check.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List loaded plugins and their config fields.")

        @Option(name: .customLong("dir"), help: "A plugins folder (repeatable); default: the config's folders.")
        var directories: [String] = []

        @OptionGroup var options: CommonOptions

        func run() async throws {
            let logger = options.bootstrapLogging()
            let catalog: PluginCatalog
            if directories.isEmpty {
                catalog = try loadConfig(options.config, logger: logger).1
            } else {
                catalog = PluginLoader(logger: logger).load(directories: directories)
            }
            for plugin in catalog.sorted {
                print("\(plugin.channel) \(plugin.version)  \(plugin.file)")
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
        static let configuration = CommandConfiguration(abstract: "Check the config file and every endpoint's channel config.")

        @OptionGroup var options: CommonOptions

        func run() async throws {
            let logger = options.bootstrapLogging()
            let (config, _) = try loadConfig(options.config, logger: logger)
            print("\(options.config): ok (\(config.teams.count) teams, \(config.endpoints.count) endpoints, \(config.policies.count) policies)")
        }
    }
}
