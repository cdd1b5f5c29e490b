import Foundation
import HeraldTesting
import Testing

/// The daemon switching a capture on `lo` with an alert and its recovery;
/// `herald captures` lists the file.
@Suite(.timeLimit(.minutes(2)))
struct PCAPDaemonTests {
    @Test(.enabled(if: geteuid() == 0, "packet capture needs root (or CAP_NET_RAW); this test runs as root in CI"))
    func alertStartsAndRecoveryStopsTheCapture() async throws {
        let directory = try Repository.temporaryDirectory("herald-pcap-daemon")
        let captures = directory.appendingPathComponent("captures")
        let port = try Daemon.freePort()
        let daemon = try await Daemon(config: """
            teams:
              - {name: ops, tokens: [t0ken]}
            endpoints:
              - {name: capture-lo, team: ops, channel: pcap,
                 config: {interface: lo, filter: "udp and dst port \(port)", directory: "\(captures.path)"}}
            policies:
              - {name: all, team: ops, endpoints: [capture-lo]}
            """, directory: directory)
        defer { daemon.stop() }
        let auth = ["Authorization": "Bearer t0ken", "Content-Type": "application/json"]
        let firing = #"{"id":"p1","name":"PortScan","level":"Critical","object_id":"fw-1"}"#
        #expect(try await daemon.send("POST", "/api/v1/events", body: firing, headers: auth).status == 202)
        try await waitUntil(timeout: 10, "the capture to start") { (try? PcapFile.captures(in: captures).count) == 1 }
        try UDPProbe.send(port: port, prefix: "probe", count: 4)
        let resolved = #"{"id":"p2","name":"PortScan","level":"Critical","status":"resolved","object_id":"fw-1"}"#
        #expect(try await daemon.send("POST", "/api/v1/events", body: resolved, headers: auth).status == 202)
        try await waitUntil(timeout: 10, "the recovery to be delivered") {
            try await daemon.send("GET", "/api/v1/deliveries?status=delivered", headers: auth).body
                .components(separatedBy: #""status":"delivered""#).count - 1 == 2
        }
        let listing = try await ChildProcess.runOffPool(Repository.herald.path, ["captures", "--config", daemon.configFile.path, "--log-level", "error"])
        let rows = listing.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        try #require(rows.count == 1, "\(listing)")
        #expect(rows[0][0] == "capture-lo")
        let file = try PcapFile(contentsOf: URL(fileURLWithPath: rows[0][3]))
        #expect(Int(rows[0][1]) == (try FileManager.default.attributesOfItem(atPath: rows[0][3])[.size] as? Int))
        #expect(file.packets.compactMap(\.udp).map { String(decoding: $0.payload, as: UTF8.self) } == (0..<4).map { "probe-\($0)" })
    }
}
