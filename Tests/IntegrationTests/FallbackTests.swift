import Foundation
import HeraldTesting
import Testing

/// Fallback endpoints: a delivery that ends in the dead letters goes to its
/// endpoint's fallbacks, marked as a fallback, linked to the dead letter;
/// its recovery follows it there.
@Suite(.timeLimit(.minutes(3)))
struct FallbackTests {
    static let auth = OutageTests.auth

    /// A port nothing listens on: an endpoint aimed there is down.
    static func closedPort(_ directory: URL) async throws -> Int {
        let receiver = try await HTTPReceiver(directory: directory)
        receiver.stop()
        return receiver.port
    }

    static func post(_ daemon: Daemon, _ events: [String]) async throws {
        let answer = try await daemon.send("POST", "/api/v1/events", body: #"{"events":[\#(events.joined(separator: ","))]}"#,
                                           headers: auth)
        #expect(answer.status == 202, "\(answer.body)")
    }

    static func event(_ id: String, object: String, resolved: Bool = false) -> String {
        #"{"id":"\#(id)","name":"Disk full","level":"Critical","object_id":"\#(object)"\#(resolved ? #","status":"resolved""# : "")}"#
    }

    /// What the receiver got as JSON bodies (the event as the plugin saw it).
    static func bodies(_ receiver: HTTPReceiver, under prefix: String) async throws -> [[String: Any]] {
        try await receiver.requests().filter { $0.path.hasPrefix(prefix) }.map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.body.utf8)) as? [String: Any], "\($0.body)")
        }
    }

    /// Past `max_age` while the endpoint is down, a delivery goes to the
    /// dead letters with the reason, without a fallback to go to.
    @Test func maxAgeExpiryDeadLettersWithItsReason() async throws {
        let directory = try Repository.temporaryDirectory("herald-fallback-expiry")
        let port = try await Self.closedPort(directory)
        let daemon = try await Daemon(config: """
            teams: [{name: ops, tokens: [ops-token]}]
            endpoints:
              - {name: hook, team: ops, channel: http, down_after: 1, probe_backoff: 300ms, max_age: 2s,
                 config: {url: "http://127.0.0.1:\(port)/{{ id }}"}}
            policies: [{name: all, team: ops, endpoints: [hook]}]
            """, directory: directory)
        defer { daemon.stop() }
        try await Self.post(daemon, (0..<5).map { Self.event("x-\($0)", object: "o\($0)") })
        try await waitUntil(timeout: 15, "5 dead letters") { try await OutageTests.deliveries(daemon, status: "dead").count == 5 }
        for dead in try await OutageTests.deliveries(daemon, status: "dead") {
            #expect(dead["last_error"] as? String == "expired while the endpoint was down", "\(dead)")
            #expect(dead["fallback_of"] == nil)
        }
        #expect(try await OutageTests.deliveries(daemon, status: "pending").isEmpty)
    }

    /// A 400 is a FAIL: it goes to the fallback endpoint on its first try,
    /// rendered with the fallback's own template and marked as a fallback.
    @Test func badRequestGoesToTheFallbackAtOnce() async throws {
        let directory = try Repository.temporaryDirectory("herald-fallback-400")
        let receiver = try await HTTPReceiver(directory: directory)
        defer { receiver.stop() }
        let daemon = try await Daemon(config: """
            teams: [{name: ops, tokens: [ops-token]}]
            endpoints:
              - {name: primary, team: ops, channel: http, retries: 3, fallback: [backup],
                 config: {url: "\(receiver.baseURL)/status/400/{{ id }}"}}
              - {name: backup, team: ops, channel: http,
                 config: {url: "\(receiver.baseURL)/backup/{{ id }}",
                          body: '{"alert":"{{ id }}","instead_of":"{{ fallback_of }}","why":"{{ fallback_reason }}"}'}}
            policies: [{name: all, team: ops, endpoints: [primary]}]
            """, directory: directory)
        defer { daemon.stop() }
        try await Self.post(daemon, [Self.event("b-1", object: "o1")])
        try await waitUntil(timeout: 15, "the fallback push") { try await !Self.bodies(receiver, under: "/backup/").isEmpty }
        let body = try #require(try await Self.bodies(receiver, under: "/backup/").first)
        #expect(body["alert"] as? String == "b-1")
        #expect(body["instead_of"] as? String == "primary")
        #expect((body["why"] as? String)?.contains("400") == true, "\(body)")
        #expect(try await receiver.requests().filter { $0.path.hasPrefix("/status/400/") }.count == 1, "no retry of a 400")

        // The dead letter is kept, and the fallback delivery links to it.
        let dead = try #require(try await OutageTests.deliveries(daemon, status: "dead").first)
        #expect(dead["endpoint"] as? String == "primary" && dead["attempts"] as? Int == 1, "\(dead)")
        try await waitUntil(timeout: 10, "the fallback delivery recorded") {
            try await OutageTests.deliveries(daemon, status: "delivered").count == 1
        }
        let delivered = try #require(try await OutageTests.deliveries(daemon, status: "delivered").first)
        #expect(delivered["endpoint"] as? String == "backup")
        #expect((delivered["fallback_of"] as? NSNumber)?.int64Value == (dead["id"] as? NSNumber)?.int64Value, "\(delivered)")
    }

    /// A → B → C with A and B down: the alert reaches C, each step in the
    /// history.
    @Test func chainSkipsEveryEndpointThatIsDown() async throws {
        let directory = try Repository.temporaryDirectory("herald-fallback-chain")
        let portA = try await Self.closedPort(directory)
        let portB = try await Self.closedPort(directory)
        let receiver = try await HTTPReceiver(directory: directory)
        defer { receiver.stop() }
        let daemon = try await Daemon(config: """
            teams: [{name: ops, tokens: [ops-token]}]
            endpoints:
              - {name: a, team: ops, channel: http, down_after: 1, probe_backoff: 300ms, max_age: 2s, fallback: [b],
                 config: {url: "http://127.0.0.1:\(portA)/{{ id }}"}}
              - {name: b, team: ops, channel: http, down_after: 1, probe_backoff: 300ms, max_age: 3s, fallback: [c],
                 config: {url: "http://127.0.0.1:\(portB)/{{ id }}"}}
              - {name: c, team: ops, channel: http, config: {url: "\(receiver.baseURL)/c/{{ id }}"}}
            policies: [{name: all, team: ops, endpoints: [a]}]
            """, directory: directory)
        defer { daemon.stop() }
        try await Self.post(daemon, (0..<3).map { Self.event("c-\($0)", object: "o\($0)") })
        try await waitUntil(timeout: 30, "3 alerts at C") { try await Self.bodies(receiver, under: "/c/").count >= 3 }
        let bodies = try await Self.bodies(receiver, under: "/c/")
        #expect(Set(bodies.compactMap { $0["id"] as? String }) == ["c-0", "c-1", "c-2"])
        for body in bodies {
            #expect(body["fallback_of"] as? String == "b", "\(body)")
            #expect(body["fallback_reason"] as? String == "expired while the endpoint was down", "\(body)")
        }
        let dead = try await OutageTests.deliveries(daemon, status: "dead")
        #expect(dead.filter { $0["endpoint"] as? String == "a" }.count == 3)
        #expect(dead.filter { $0["endpoint"] as? String == "b" }.count == 3)
    }

    /// Fallbacks that lead back to themselves are refused at load, naming the loop.
    @Test func loopRefusedAtLoad() throws {
        let directory = try Repository.temporaryDirectory("herald-fallback-loop")
        let file = directory.appendingPathComponent("loop.yaml")
        try """
            plugins: {directories: ["\(Repository.plugins.path)"]}
            teams: [{name: ops}]
            endpoints:
              - {name: a, team: ops, channel: http, fallback: [b], config: {url: "http://127.0.0.1:9/"}}
              - {name: b, team: ops, channel: http, fallback: [c], config: {url: "http://127.0.0.1:9/"}}
              - {name: c, team: ops, channel: http, fallback: [a], config: {url: "http://127.0.0.1:9/"}}
            """.write(to: file, atomically: true, encoding: .utf8)
        let (status, output) = try ChildProcess.runToEnd(Repository.herald.path, ["check", file.path])
        #expect(status != 0)
        #expect(output.contains("fallbacks loop: a → b → c → a"), "\(output)")
    }

    /// The firing push went to the fallback, so its recovery goes there
    /// too, even with the endpoint back: the fallback's receiver never
    /// holds a trigger without its resolve, the primary's never a resolve
    /// without its trigger. The next alert for the object goes to the
    /// primary again, and so does its recovery.
    @Test func recoveryFollowsItsTriggerToTheFallback() async throws {
        let directory = try Repository.temporaryDirectory("herald-fallback-recovery")
        let port = try await Self.closedPort(directory)
        let backup = try await HTTPReceiver(directory: directory)
        defer { backup.stop() }
        let daemon = try await Daemon(config: """
            teams: [{name: ops, tokens: [ops-token]}]
            endpoints:
              - {name: primary, team: ops, channel: http, down_after: 1, probe_backoff: 300ms, max_probe_backoff: 500ms,
                 max_age: 2s, fallback: [backup], config: {url: "http://127.0.0.1:\(port)/primary/{{ id }}/{{ level }}"}}
              - {name: backup, team: ops, channel: http, config: {url: "\(backup.baseURL)/backup/{{ id }}/{{ level }}"}}
            policies: [{name: all, team: ops, endpoints: [primary]}]
            """, directory: directory)
        defer { daemon.stop() }
        try await Self.post(daemon, [Self.event("r-1", object: "disk")])
        try await waitUntil(timeout: 15, "the trigger at the fallback") {
            try await backup.requests().contains { $0.path == "/backup/r-1/Critical" }
        }
        let primary = try await HTTPReceiver(directory: directory, port: port)
        defer { primary.stop() }
        try await Self.post(daemon, [Self.event("r-1", object: "disk", resolved: true)])
        try await waitUntil(timeout: 15, "the recovery at the fallback") {
            try await backup.requests().contains { $0.path == "/backup/r-1/Recovery" }
        }
        #expect(try await primary.requests().isEmpty, "a resolve without its trigger")

        // Next time round the primary is reachable: trigger and recovery both go there.
        try await Self.post(daemon, [Self.event("r-2", object: "disk")])
        try await waitUntil(timeout: 15, "the second trigger at the primary") {
            try await primary.requests().contains { $0.path == "/primary/r-2/Critical" }
        }
        try await Self.post(daemon, [Self.event("r-2", object: "disk", resolved: true)])
        try await waitUntil(timeout: 15, "the second recovery at the primary") {
            try await primary.requests().contains { $0.path == "/primary/r-2/Recovery" }
        }
        #expect(try await backup.requests().count == 2)
    }
}
