import Foundation
import HeraldTesting
import Testing

/// Teams, endpoints and policies through the API: checked as the file's
/// are, applied live, kept across restarts; the file's read-only.
@Suite(.timeLimit(.minutes(3)))
struct ResourceTests {
    static let ops = ["Authorization": "Bearer ops-token", "Content-Type": "application/json"]

    static func json(_ body: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:]
    }

    static func list(_ daemon: Daemon, _ path: String, headers: [String: String] = ops) async throws -> [[String: Any]] {
        let answer = try await daemon.send("GET", path, headers: headers)
        return (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [[String: Any]]) ?? []
    }

    /// The whole life of an endpoint, events flowing through its edit.
    @Test func endpointLifeThroughTheAPI() async throws {
        let directory = try Repository.temporaryDirectory("herald-resources")
        let receiver = try await HTTPReceiver(directory: directory)
        defer { receiver.stop() }
        let daemon = try await Daemon(config: """
            admin: {tokens: [admin-token]}
            teams: [{name: ops, tokens: [ops-token]}, {name: dev, tokens: [dev-token]}]
            endpoints:
              - {name: from-file, team: ops, channel: http, config: {url: "\(receiver.baseURL)/file/{{ id }}"}}
            """, directory: directory)
        defer { daemon.stop() }

        // Refused, naming the field: a config the plugin refuses, a template that does not parse, an unknown field.
        let badURL = try await daemon.send("POST", "/api/v1/endpoints", body: #"{"name":"hook","channel":"http","config":{"url":"ftp://x"}}"#, headers: Self.ops)
        #expect(badURL.status == 400 && Self.json(badURL.body)["error"].map { "\($0)" }?.contains("config.url") == true, "\(badURL.body)")
        let badTemplate = try await daemon.send("POST", "/api/v1/endpoints", body: #"{"name":"hook","channel":"http","config":{"url":"\#(receiver.baseURL)/x","body":"{{ id | nosuch }}"}}"#, headers: Self.ops)
        #expect(badTemplate.status == 400 && badTemplate.body.contains(#""field":"config.body""#), "\(badTemplate.body)")
        let unknown = try await daemon.send("POST", "/api/v1/endpoints", body: #"{"name":"hook","channel":"http","colour":"red","config":{"url":"\#(receiver.baseURL)/x"}}"#, headers: Self.ops)
        #expect(unknown.status == 400 && unknown.body.contains(#""field":"colour""#), "\(unknown.body)")
        // No team reads the daemon's files or environment through an endpoint.
        for config in [#"{"url":"\#(receiver.baseURL)/x","headers":{"X-Key":"${HOME}"}}"#, #"{"url":"\#(receiver.baseURL)/x","body_file":"/etc/passwd"}"#] {
            let reading = try await daemon.send("POST", "/api/v1/endpoints", body: #"{"name":"peek","channel":"http","config":\#(config)}"#, headers: Self.ops)
            #expect(reading.status == 400 && reading.body.contains("config."), "\(reading.body)")
        }
        // The file channel writes on the daemon's host: not open to teams.
        let file = try await daemon.send("POST", "/api/v1/endpoints", body: #"{"name":"f","channel":"file","config":{"path":"/tmp/x"}}"#, headers: Self.ops)
        #expect(file.status == 403 && file.body.contains(#""field":"channel""#), "\(file.body)")
        let badName = try await daemon.send("POST", "/api/v1/endpoints", body: #"{"name":"a b","channel":"http","config":{"url":"\#(receiver.baseURL)/x"}}"#, headers: Self.ops)
        #expect(badName.status == 400 && badName.body.contains(#""field":"name""#))

        // Made; no policy uses it yet.
        let made = try await daemon.send("POST", "/api/v1/endpoints", body: #"{"name":"hook","channel":"http","levels":["Critical"],"push_cycle":"5m","config":{"url":"\#(receiver.baseURL)/v1/{{ id }}"}}"#, headers: Self.ops)
        #expect(made.status == 201, "\(made.body)")
        let view = Self.json(made.body)
        #expect(view["team"] as? String == "ops" && view["policies"] as? Int == 0 && view["provisioned"] as? Bool == false)
        #expect(view["push_cycle"] as? Double == 300 && view["levels"] as? [String] == ["Critical"] && view["state"] as? String == "up")
        #expect(try await daemon.send("POST", "/api/v1/endpoints", body: #"{"name":"hook","channel":"http","config":{"url":"\#(receiver.baseURL)/y"}}"#, headers: Self.ops).status == 409)

        // A policy uses it: the list says 1 and names it; delete is refused.
        let policy = try await daemon.send("POST", "/api/v1/policies", body: #"{"name":"all","matchers":["service=\"api\""],"endpoints":["hook"]}"#, headers: Self.ops)
        #expect(policy.status == 201, "\(policy.body)")
        let listed = try await Self.list(daemon, "/api/v1/endpoints")
        #expect(listed.first { $0["name"] as? String == "hook" }?["policies"] as? Int == 1)
        #expect(listed.first { $0["name"] as? String == "from-file" }?["provisioned"] as? Bool == true)
        #expect(try await Self.list(daemon, "/api/v1/endpoints/hook/policies").map { $0["name"] as? String } == ["all"])
        let refused = try await daemon.send("DELETE", "/api/v1/endpoints/hook", headers: Self.ops)
        #expect(refused.status == 409 && refused.body.contains("policy all"), "\(refused.body)")

        // Test send reaches the receiver.
        let test = try await daemon.send("POST", "/api/v1/endpoints/hook/test", headers: Self.ops)
        #expect(test.status == 200 && test.body.contains(#""outcome":"ok""#), "\(test.body)")

        // Its URL edited while events flow: none lost, none repeated.
        let total = 200
        let sender = Task {
            for index in 0..<total {
                let event = #"{"id":"e\#(index)","name":"E","level":"Critical","object_id":"o\#(index)","labels":{"service":"api"}}"#
                let answer = try await daemon.send("POST", "/api/v1/events", body: event, headers: Self.ops)
                #expect(answer.status == 202)
            }
        }
        try await waitUntil(timeout: 60, "the first events") { try await receiver.requests().filter { $0.path.hasPrefix("/v1/e") }.count >= 20 }
        var edited = view
        edited["config"] = ["url": "\(receiver.baseURL)/v2/{{ id }}"]
        for key in ["policies", "provisioned", "state"] { edited[key] = nil }
        let editedBody = String(decoding: try JSONSerialization.data(withJSONObject: edited), as: UTF8.self)
        let put = try await daemon.send("PUT", "/api/v1/endpoints/hook", body: editedBody, headers: Self.ops)
        #expect(put.status == 200, "\(put.body)")
        try await sender.value
        try await waitUntil(timeout: 30, "all \(total) events") {
            Set(try await receiver.requests().map(\.path).filter { $0.contains("/e") }.map(ReloadTests.id)).count >= total
        }
        let ids = try await receiver.requests().map(\.path).filter { $0.hasPrefix("/v1/e") || $0.hasPrefix("/v2/e") }.map(ReloadTests.id)
        #expect(ids.count == total && Set(ids).count == total, "\(ids.count - Set(ids).count) repeated")
        #expect(try await receiver.requests().contains { $0.path.hasPrefix("/v2/e") })

        // Another team sees none of it; the file's endpoint is read-only.
        let dev = ["Authorization": "Bearer dev-token", "Content-Type": "application/json"]
        #expect(try await daemon.send("GET", "/api/v1/endpoints/hook", headers: dev).status == 404)
        #expect(try await daemon.send("DELETE", "/api/v1/policies/all", headers: dev).status == 404)
        #expect(try await Self.list(daemon, "/api/v1/endpoints", headers: dev).isEmpty)
        #expect(try await daemon.send("PUT", "/api/v1/endpoints/from-file", body: #"{"channel":"http","config":{"url":"\#(receiver.baseURL)/z"}}"#, headers: Self.ops).status == 409)

        // Kept across a restart.
        daemon.stop()
        try await daemon.start()
        let after = try await daemon.send("GET", "/api/v1/endpoints/hook", headers: Self.ops)
        #expect(after.status == 200 && after.body.contains("/v2/{{ id }}"), "\(after.body)")
        #expect(try await daemon.send("GET", "/api/v1/policies/all", headers: Self.ops).status == 200)

        // Policy, then endpoint, deleted.
        #expect(try await daemon.send("DELETE", "/api/v1/policies/all", headers: Self.ops).status == 204)
        #expect(try await daemon.send("DELETE", "/api/v1/endpoints/hook", headers: Self.ops).status == 204)
        #expect(try await daemon.send("GET", "/api/v1/endpoints/hook", headers: Self.ops).status == 404)
        #expect(try await OutageTests.health(daemon, endpoint: "hook").isEmpty)
    }

    /// Secrets are write-only; teams made by an admin get a token once.
    @Test func secretsAreWriteOnlyAndAdminsMakeTeams() async throws {
        let directory = try Repository.temporaryDirectory("herald-resources-secret")
        let receiver = try await HTTPReceiver(directory: directory)
        defer { receiver.stop() }
        let daemon = try await Daemon(config: """
            admin: {tokens: [admin-token]}
            teams: [{name: ops, tokens: [ops-token]}]
            """, directory: directory)
        defer { daemon.stop() }
        let admin = ["Authorization": "Bearer admin-token", "Content-Type": "application/json"]
        #expect(try await daemon.send("POST", "/api/v1/teams", body: #"{"name":"sre"}"#, headers: Self.ops).status == 403)
        let team = try await daemon.send("POST", "/api/v1/teams", body: #"{"name":"sre"}"#, headers: admin)
        #expect(team.status == 201, "\(team.body)")
        let token = try #require(Self.json(team.body)["token"] as? String)
        let sre = ["Authorization": "Bearer \(token)", "Content-Type": "application/json"]

        let key = "S123456789abcdef0123456789abcdef"
        let made = try await daemon.send("POST", "/api/v1/endpoints", body: #"{"name":"pd","channel":"pagerduty","config":{"routing_key":"\#(key)","url":"\#(receiver.baseURL)/pagerduty/x"}}"#, headers: sre)
        #expect(made.status == 201, "\(made.body)")
        #expect(!made.body.contains(key) && made.body.contains(#""routing_key":"(set)""#), "\(made.body)")
        // Sent back as "(set)", the key stays.
        let put = try await daemon.send("PUT", "/api/v1/endpoints/pd", body: #"{"channel":"pagerduty","retries":1,"config":{"routing_key":"(set)","url":"\#(receiver.baseURL)/pagerduty/x"}}"#, headers: sre)
        #expect(put.status == 200, "\(put.body)")
        #expect(try await daemon.send("POST", "/api/v1/endpoints/pd/test", headers: sre).body.contains(#""outcome":"ok""#))
        try await waitUntil(timeout: 10, "the test event") { try await receiver.requests().contains { $0.body.contains(key) } }
        #expect(try await daemon.send("GET", "/api/v1/endpoints/pd", headers: Self.ops).status == 404)
        #expect(try await Self.list(daemon, "/api/v1/teams", headers: sre).map { $0["name"] as? String } == ["sre"])
        #expect(try await Self.list(daemon, "/api/v1/teams", headers: admin).count == 2)
        #expect(!daemon.log.contains(key) && !daemon.log.contains(token))

        let channels = try await Self.list(daemon, "/api/v1/channels", headers: sre)
        let http = try #require(channels.first { $0["name"] as? String == "http" })
        #expect(((http["schema"] as? [String: Any])?["properties"] as? [String: Any])?["url"] != nil)

        // A team with endpoints is deleted only with force, and takes them with it.
        #expect(try await daemon.send("DELETE", "/api/v1/teams/sre", headers: admin).status == 409)
        #expect(try await daemon.send("DELETE", "/api/v1/teams/sre?force=true", headers: admin).status == 204)
        #expect(try await daemon.send("GET", "/api/v1/endpoints", headers: sre).status == 401)
        #expect(try await Self.list(daemon, "/api/v1/endpoints", headers: admin).isEmpty)
    }
}
