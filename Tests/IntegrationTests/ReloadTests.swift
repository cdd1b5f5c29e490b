import Foundation
import HeraldTesting
import Testing

/// The config changes while the daemon runs: `/-/reload` and SIGHUP apply
/// a good file live, refuse a bad one and keep the running config.
@Suite(.timeLimit(.minutes(3)))
struct ReloadTests {
    static let auth = OutageTests.auth

    static func config(url: String, extra: URL?, down: Int? = nil) -> String {
        var yaml = """
            teams: [{name: ops, tokens: [ops-token]}]
            endpoints:
              - {name: hook, team: ops, channel: http, config: {url: "\(url)/{{ id }}"}}

            """
        if let extra {
            yaml += "  - {name: extra, team: ops, channel: file, config: {path: \"\(extra.path)\", line: \"{{ id }}\"}}\n"
        }
        if let down {
            yaml += "  - {name: gone, team: ops, channel: http, down_after: 1, config: {url: \"http://127.0.0.1:\(down)/\"}}\n"
        }
        yaml += "policies:\n  - {name: all, team: ops, endpoints: [hook\(extra == nil ? "" : ", extra")\(down == nil ? "" : ", gone")]}\n"
        return yaml
    }

    /// Events flow while the hook's URL changes and an endpoint is added
    /// through `/-/reload`: every event arrives exactly once, the later
    /// ones at the new URL and at the new endpoint.
    @Test func reloadSwapsEndpointsWithoutLosingOrRepeating() async throws {
        let directory = try Repository.temporaryDirectory("herald-reload")
        let receiver = try await HTTPReceiver(directory: directory)
        defer { receiver.stop() }
        let extra = directory.appendingPathComponent("extra.jsonl")
        let daemon = try await Daemon(config: Self.config(url: "\(receiver.baseURL)/v1", extra: nil), directory: directory)
        defer { daemon.stop() }

        let total = 300
        let sender = Task {
            for index in 0..<total {
                let answer = try await daemon.send("POST", "/api/v1/events",
                                                   body: #"{"id":"e\#(index)","name":"R","level":"Critical","object_id":"o\#(index % 7)"}"#,
                                                   headers: Self.auth)
                #expect(answer.status == 202)
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        do {
            // Alone the first 50 arrive in under a second; with every suite
            // starting its daemon and peers at once on two cores, 15-20 s.
            try await waitUntil(timeout: 60, "the first deliveries") { try await receiver.requests().count >= 50 }
        } catch {
            sender.cancel()
            throw TestFailure("\(error); the sender: \(await sender.result); \(await Self.state(daemon, receiver))")
        }
        try daemon.rewrite(config: Self.config(url: "\(receiver.baseURL)/v2", extra: extra))
        let reload = try await daemon.send("POST", "/-/reload")
        #expect(reload.status == 200, "\(reload.body)")
        let change = try #require(try JSONSerialization.jsonObject(with: Data(reload.body.utf8)) as? [String: Any])
        #expect(change["changed"] as? [String] == ["hook"] && change["added"] as? [String] == ["extra"], "\(change)")
        let afterReload = try await receiver.requests().count
        try await sender.value

        try await waitUntil(timeout: 60, "all \(total) events") { Set(try await receiver.requests().map(\.path).map(Self.id)).count >= total }
        let paths = try await receiver.requests().map(\.path)
        let ids = paths.map(Self.id)
        #expect(Set(ids) == Set((0..<total).map { "e\($0)" }))
        #expect(ids.count == total, "\(ids.count - Set(ids).count) repeated")
        let old = paths.filter { $0.hasPrefix("/v1/") }.count, new = paths.filter { $0.hasPrefix("/v2/") }.count
        print("reload under load: \(old) at the old URL, \(new) at the new one, \(afterReload) delivered when the reload answered")
        #expect(old >= 50 && new > 0)
        let extraLines = try String(contentsOf: extra, encoding: .utf8).split(separator: "\n").count
        #expect(extraLines > 0 && extraLines < total, "the added endpoint gets the events after the reload: \(extraLines)")
        #expect(daemon.log.contains("Config applied"))
    }

    /// A bad file is refused by `/-/reload` (400 naming the field) and by
    /// SIGHUP (logged), and the running config goes on; a good one by
    /// SIGHUP deletes an endpoint, whose held deliveries end as cancelled.
    @Test func badFileKeepsTheRunningConfigAndSighupApplies() async throws {
        let directory = try Repository.temporaryDirectory("herald-reload-bad")
        let receiver = try await HTTPReceiver(directory: directory)
        defer { receiver.stop() }
        let closed = try await FallbackTests.closedPort(directory)
        let daemon = try await Daemon(config: Self.config(url: "\(receiver.baseURL)/v1", extra: nil, down: closed),
                                      directory: directory)
        defer { daemon.stop() }
        func post(_ id: String) async throws {
            #expect(try await daemon.send("POST", "/api/v1/events", body: #"{"id":"\#(id)","name":"R","level":"Critical","object_id":"\#(id)"}"#,
                                          headers: Self.auth).status == 202)
        }
        for index in 0..<5 { try await post("held-\(index)") }
        try await waitUntil(timeout: 10, "gone down") { try await OutageTests.health(daemon, endpoint: "gone")["state"] as? String == "down" }

        try daemon.rewrite(config: Self.config(url: "\(receiver.baseURL)/v1", extra: nil, down: closed)
            .replacingOccurrences(of: "channel: http, config", with: "channel: htttp, config"))
        let refused = try await daemon.send("POST", "/-/reload")
        #expect(refused.status == 400 && refused.body.contains(#"endpoints[0].channel: no plugin provides channel \"htttp\""#),
                "\(refused.body)")
        daemon.signal(SIGHUP)
        try await waitUntil(timeout: 10, "the refusal logged") {
            daemon.log.components(separatedBy: "Config reload refused").count - 1 >= 2
        }
        #expect(daemon.isRunning, "SIGHUP does not end the daemon")
        try await post("still-1")
        try await waitUntil(timeout: 10, "delivery with the running config") {
            try await receiver.requests().contains { $0.path == "/v1/still-1" }
        }

        // A good file by SIGHUP: `gone` is deleted, its held deliveries cancelled.
        try daemon.rewrite(config: Self.config(url: "\(receiver.baseURL)/v1", extra: nil))
        daemon.signal(SIGHUP)
        try await waitUntil(timeout: 15, "the endpoint deleted") { daemon.log.contains("Endpoint deleted") }
        let cancelled = try await OutageTests.deliveries(daemon, status: "cancelled")
        #expect(cancelled.count == 6 && cancelled.allSatisfy { $0["endpoint"] as? String == "gone" }, "\(cancelled)")
        #expect(cancelled.allSatisfy { $0["last_error"] as? String == "the endpoint was deleted" })
        #expect(try await OutageTests.deliveries(daemon, status: "pending").isEmpty)
        #expect(try await OutageTests.health(daemon, endpoint: "gone").isEmpty)
    }

    /// What a test that timed out prints: what arrived, where each delivery
    /// stands, the endpoint's health and the last of the daemon's log above
    /// debug (which holds only the route table at start-up). A
    /// part that cannot be had (the daemon gone) says so rather than throw,
    /// so the timeout and the log still reach the report.
    static func state(_ daemon: Daemon, _ receiver: HTTPReceiver) async -> String {
        var counts: [String] = []
        for status in ["pending", "delivered", "dead", "cancelled"] {
            let count = (try? await OutageTests.deliveries(daemon, status: status).count).map(String.init) ?? "?"
            counts.append("\(status) \(count)")
        }
        let arrived = (try? await receiver.requests().count).map(String.init) ?? "?"
        let health = (try? await OutageTests.health(daemon, endpoint: "hook")).map { "\($0)" } ?? "?"
        return """
            \(arrived) arrived; deliveries: \(counts.joined(separator: ", ")); hook: \(health); the log ends:
            \(daemon.log.split(separator: "\n").filter { !$0.contains(" debug ") }.suffix(40).joined(separator: "\n"))
            """
    }

    static func id(_ path: String) -> String { String(path.split(separator: "/").last ?? "") }
}
