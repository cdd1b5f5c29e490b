import ArgumentParser
import Foundation
import HeraldCore
import HeraldDispatch

/// Lists what the PCAP channel wrote, per endpoint, for an operator to fetch.
struct Captures: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the packet capture files of the config's pcap endpoints.",
        discussion: "One line per file: endpoint, size in bytes, last written (UTC), path. Newest last.")

    @Option(help: "Only this endpoint.")
    var endpoint: String?

    @OptionGroup var options: CommonOptions

    func run() async throws {
        let logger = options.bootstrapLogging()
        let (config, _) = try loadConfig(options.config, logger: logger, plugins: false)
        let endpoints = config.endpoints.filter { $0.channel == "pcap" && (endpoint == nil || $0.name == endpoint) }
        if let endpoint, endpoints.isEmpty {
            throw ValidationError("no pcap endpoint named \(endpoint) in \(options.config)")
        }
        for endpoint in endpoints {
            guard let folder = CaptureFolder(endpoint) else { continue }
            for file in try await folder.files() {
                print("\(endpoint.name)\t\(file.bytes)\t\(file.modified ?? "-")\t\(file.path)")
            }
        }
    }
}
