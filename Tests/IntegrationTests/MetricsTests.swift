import Foundation
import HeraldTesting
import Testing

/// `/metrics`, `/-/healthy`, `/-/ready`: what moves as events and
/// deliveries happen, read with prometheus_client's parser.
@Suite(.timeLimit(.minutes(2)))
struct MetricsTests {
    static let auth = ["Authorization": "Bearer ops-token"]

    struct Sample: Decodable {
        let name: String
        let labels: [String: String]
        let value: Double
        let type: String
    }

    /// The daemon's metrics as Python's prometheus_client reads them.
    static func samples(_ daemon: Daemon, directory: URL) async throws -> [Sample] {
        let answer = try await daemon.send("GET", "/metrics")
        #expect(answer.status == 200)
        let file = directory.appendingPathComponent("metrics-\(UUID().uuidString.prefix(6)).txt")
        try answer.body.write(to: file, atomically: true, encoding: .utf8)
        let (status, output) = try ChildProcess.runToEnd(
            "/usr/bin/python3", [Repository.root.appendingPathComponent("Tests/peers/read_metrics.py").path, file.path])
        try #require(status == 0, "prometheus_client refused the exposition: \(output)\n\(answer.body)")
        return try JSONDecoder().decode([Sample].self, from: Data(output.utf8))
    }

    static func value(_ samples: [Sample], _ name: String, _ labels: [String: String]) -> Double? {
        samples.first { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }?.value
    }

    @Test func metricsMoveWithEventsAndDeliveries() async throws {
        let directory = try Repository.temporaryDirectory("herald-metrics")
        let receiver = try await HTTPReceiver(directory: directory)
        defer { receiver.stop() }
        let daemon = try await Daemon(config: """
            teams: [{name: ops, tokens: [ops-token]}]
            endpoints:
              - {name: hook, team: ops, channel: http, levels: [Critical, Recovery],
                 config: {url: "\(receiver.baseURL)/ok/{{ id }}"}}
              - {name: refusing, team: ops, channel: http, config: {url: "\(receiver.baseURL)/status/400/{{ id }}"}}
            policies:
              - {name: main, team: ops, matchers: ['route="main"'], endpoints: [hook]}
              - {name: bad, team: ops, matchers: ['route="bad"'], endpoints: [refusing]}
            """, directory: directory)
        defer { daemon.stop() }
        #expect(try await daemon.send("GET", "/-/healthy").body == "OK\n")
        try await waitUntil(timeout: 10, "ready") { try await daemon.send("GET", "/-/ready").status == 200 }

        func event(_ id: String, route: String, level: String = "Critical") -> String {
            #"{"id":"\#(id)","name":"M","level":"\#(level)","object_id":"\#(id)","labels":{"route":"\#(route)"}}"#
        }
        let events = [event("a", route: "main"), event("b", route: "main"), event("c", route: "main"),
                      event("w", route: "main", level: "Warning"), event("x", route: "bad"), event("lost", route: "none")]
        #expect(try await daemon.send("POST", "/api/v1/events", body: #"{"events":[\#(events.joined(separator: ","))]}"#,
                                      headers: Self.auth).status == 202)
        #expect(try await daemon.send("POST", "/api/v1/events", body: event("lost-2", route: "none"), headers: Self.auth).status == 202)
        #expect(try await daemon.send("POST", "/api/v1/events", body: #"{"id":"y"}"#, headers: Self.auth).status == 400)
        #expect(try await daemon.send("POST", "/api/v1/events", body: event("z", route: "main"),
                                      headers: ["Authorization": "Bearer wrong"]).status == 401)
        try await waitUntil(timeout: 10, "the deliveries") { try await receiver.requests().count >= 4 }

        var samples: [Sample] = []
        try await waitUntil(timeout: 10, "the attempts counted") {
            samples = try await Self.samples(daemon, directory: directory)
            return Self.value(samples, "herald_dead_letters_total", ["endpoint": "refusing"]) == 1
        }
        let hook = ["endpoint": "hook", "channel": "http"]
        #expect(Self.value(samples, "herald_events_ingested_total", ["format": "native", "team": "ops"]) == 7)
        #expect(Self.value(samples, "herald_events_unrouted_total", ["team": "ops"]) == 2)
        #expect(Self.value(samples, "herald_ingest_refused_total", ["format": "native", "reason": "bad_request"]) == 1)
        #expect(Self.value(samples, "herald_ingest_refused_total", ["format": "native", "reason": "unauthorized"]) == 1)
        #expect(Self.value(samples, "herald_pushes_suppressed_total", ["endpoint": "hook", "reason": "level_filtered"]) == 1)
        #expect(Self.value(samples, "herald_delivery_attempts_total", hook.merging(["outcome": "ok"]) { $1 }) == 3)
        #expect(Self.value(samples, "herald_delivery_attempts_total",
                           ["endpoint": "refusing", "outcome": "fail"]) == 1)
        #expect(Self.value(samples, "herald_delivery_latency_seconds_count", hook) == 3)
        #expect(Self.value(samples, "herald_plugin_call_duration_seconds_count", hook) == 3)
        #expect(samples.first { $0.name == "herald_delivery_latency_seconds_bucket" }?.type == "histogram")
        try await waitUntil(timeout: 5, "the queue gauge drained") {
            Self.value(try await Self.samples(daemon, directory: directory), "herald_endpoint_queue_depth", hook) == 0
        }
        #expect(Self.value(samples, "herald_endpoint_down", hook) == 0)
        #expect(Self.value(samples, "herald_endpoint_suspended", hook) == 0)
        // Unrouted events are logged once per burst, not once each.
        #expect(daemon.log.components(separatedBy: "Events matched no policy").count - 1 == 1, "\(daemon.log)")
    }
}
