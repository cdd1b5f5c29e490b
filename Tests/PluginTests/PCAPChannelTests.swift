import Foundation
import HeraldCore
import HeraldPluginHost
import HeraldConformance
import HeraldTesting
import Logging
import Testing

/// The PCAP plugin capturing on `lo`: alerts switch it on and off, and the
/// files it writes hold exactly the packets its filter selects.
@Suite(.timeLimit(.minutes(2)))
struct PCAPChannelTests {
    static let library = Repository.plugins.appendingPathComponent("libHeraldPCAP.so")
    static let canCapture = geteuid() == 0

    static func load() throws -> LoadedPlugin { try PluginLoader(logger: Logger(label: "test")).load(file: library.path) }

    static func event(_ id: String, level: Level, status: EventStatus = .firing, object: String = "web-1") -> Event {
        Event(id: id, team: "ops", name: "SYNFlood", level: level, status: status, objectID: object, startsAt: Date())
    }

    static func capturedUDP(in directory: URL) throws -> [(port: Int, payload: String)] {
        try PcapFile.captures(in: directory).flatMap { try PcapFile(contentsOf: $0).packets }
            .compactMap(\.udp).map { ($0.port, String(decoding: $0.payload, as: UTF8.self)) }
    }

    @Test(.enabled(if: canCapture, "packet capture needs root (or CAP_NET_RAW); this test runs as root in CI"))
    func capturesExactlyWhatTheFilterSelectsWhileTheAlertFires() async throws {
        let directory = try Repository.temporaryDirectory("herald-pcap")
        let selected = try Daemon.freePort()
        let other = try Daemon.freePort()
        let config = JSONValue.object(["interface": .string("lo"), "filter": .string("udp and dst port \(selected)"),
                                       "directory": .string(directory.path)])
        let instance = try Self.load().open(config: config)
        defer { instance.close() }
        try UDPProbe.send(port: selected, prefix: "before", count: 3)
        #expect(await PluginConformance.push(Self.event("e1", level: .critical), to: instance, config: config).name == "ok")
        // A second alert, and a repeat of the first, while the capture runs: no second capture.
        #expect(await PluginConformance.push(Self.event("e2", level: .warning, object: "web-2"), to: instance,
                                             config: config).name == "ok")
        #expect(await PluginConformance.push(Self.event("e3", level: .critical), to: instance, config: config).name == "ok")
        try UDPProbe.send(port: selected, prefix: "selected", count: 5)
        try UDPProbe.send(port: other, prefix: "other", count: 5)
        // web-1 recovers; web-2 still fires, so the capture goes on.
        #expect(await PluginConformance.push(Self.event("e4", level: .critical, status: .resolved), to: instance,
                                             config: config).name == "ok")
        try UDPProbe.send(port: selected, prefix: "still", count: 2)
        #expect(await PluginConformance.push(Self.event("e5", level: .warning, status: .resolved, object: "web-2"),
                                             to: instance, config: config).name == "ok")
        try UDPProbe.send(port: selected, prefix: "after", count: 3)
        let files = try PcapFile.captures(in: directory)
        #expect(files.count == 1, "\(files)")
        let file = try PcapFile(contentsOf: try #require(files.first))
        #expect(file.linkType == 1)  // Ethernet framing, as Linux gives lo
        let captured = try Self.capturedUDP(in: directory)
        #expect(captured.allSatisfy { $0.port == selected })
        #expect(captured.map(\.payload) == (0..<5).map { "selected-\($0)" } + (0..<2).map { "still-\($0)" })
    }

    /// Files rotate by size, and only the newest `max_files` are kept.
    @Test(.enabled(if: canCapture, "packet capture needs root (or CAP_NET_RAW); this test runs as root in CI"))
    func filesRotateBySizeAndTheOldestAreDeleted() async throws {
        let directory = try Repository.temporaryDirectory("herald-pcap")
        let port = try Daemon.freePort()
        let config = JSONValue.object(["interface": .string("lo"), "filter": .string("udp and dst port \(port)"),
                                       "directory": .string(directory.path), "max_file_bytes": .number(1024),
                                       "max_files": .number(3), "snaplen": .number(128)])
        let instance = try Self.load().open(config: config)
        defer { instance.close() }
        #expect(await PluginConformance.push(Self.event("r1", level: .error), to: instance, config: config).name == "ok")
        try UDPProbe.send(port: port, prefix: String(repeating: "x", count: 60), count: 100)
        #expect(await PluginConformance.push(Self.event("r2", level: .error, status: .resolved), to: instance,
                                             config: config).name == "ok")
        let files = try PcapFile.captures(in: directory)
        #expect(files.count == 3, "\(files.map(\.lastPathComponent))")
        for url in files {
            let size = try #require(try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int)
            #expect(size <= 1024 + 16 + 128, "\(url.lastPathComponent): \(size) bytes")
        }
        // The newest files hold the last packets, in order, none cut short.
        let payloads = try Self.capturedUDP(in: directory).map(\.payload)
        #expect(!payloads.isEmpty && payloads.last?.hasSuffix("-99") == true)
        let numbers = payloads.compactMap { Int($0.split(separator: "-").last ?? "") }
        #expect(numbers == Array((100 - numbers.count)..<100))
    }

    @Test(.enabled(if: canCapture, "packet capture needs root (or CAP_NET_RAW); this test runs as root in CI"))
    func pcapPluginConforms() async throws {
        let directory = try Repository.temporaryDirectory("herald-pcap")
        let problems = await PluginConformance.check(
            try Self.load(), validConfig: .object(["interface": .string("lo"), "directory": .string(directory.path),
                                                    "filter": .string("udp port 9")]),
            invalidConfig: .object(["interface": .string("lo"), "directory": .string(directory.path),
                                    "filter": .string("udp port")]))
        #expect(problems.isEmpty, "\(problems)")
        #expect(try PcapFile.captures(in: directory).count == 1)
    }

    @Test(arguments: [
        (#"{"interface":"no-such-if0","directory":"/tmp"}"#, "interface"),
        (#"{"interface":"lo","directory":"/tmp","filter":"tcp port banana"}"#, "filter"),
        (#"{"interface":"lo","directory":"/tmp","snaplen":10}"#, "snaplen"),
        (#"{"interface":"lo","directory":"/etc/hostname"}"#, "directory"),
        (#"{"interface":"lo","directory":"/tmp","enable_levels":["Critical","Severe"]}"#, "enable_levels[1]"),
        (#"{"interface":"lo","directory":"/tmp","disable_levels":["Critical"]}"#, "disable_levels"),
        (#"{"interface":"lo"}"#, "directory"),
    ])
    func badConfigIsRefusedNamingTheField(json: String, field: String) throws {
        let error = #expect(throws: PluginConfigError.self) { try Self.load().validate(config: try JSONValue.parse(json)) }
        #expect(error?.field == field, "\(String(describing: error))")
    }

    @Test func readmeListsEveryOption() throws {
        let plugin = try Self.load()
        #expect(try PluginDocs.documentedOptions(readme: "Plugins/PCAP/README.md") == Set(plugin.schema.fields.map(\.name)))
    }
}
