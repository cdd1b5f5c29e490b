import ArgumentParser
import Foundation
import HeraldDispatch
import HeraldStore

struct Deliveries: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List deliveries (the dead letters with --status dead).")

    @OptionGroup var options: CommonOptions

    @Option(help: "pending, delivered or dead.")
    var status: String?

    @Option(help: "Only this team's deliveries.")
    var team: String?

    @Option(help: "At most this many, newest first.")
    var limit = 50

    func run() async throws {
        let logger = options.bootstrapLogging()
        let (config, _) = try loadConfig(options.config, logger: logger, plugins: false)
        let store = try SQLiteStore(path: config.databasePath)
        for delivery in try await store.deliveries(team: team, status: status, limit: limit) {
            print("\(delivery.id)\t\(delivery.status)\t\(delivery.endpoint)\t\(delivery.policy)\t\(delivery.level)\tattempts=\(delivery.attempts)\t\(delivery.lastError ?? "")")
        }
    }
}
