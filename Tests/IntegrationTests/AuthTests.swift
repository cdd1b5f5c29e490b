import Foundation
import HeraldTesting
import Testing

/// Teams as tenants: tokens from the file, the environment or a file of
/// their own, kept hashed; admin tokens; another team's things answered as
/// missing; secrets read from files.
@Suite(.timeLimit(.minutes(2)))
struct AuthTests {
    @Test func tokensAndSecretsComeFromTheEnvironmentAndFiles() async throws {
        let directory = try Repository.temporaryDirectory("herald-auth")
        let receiver = try await HTTPReceiver(directory: directory)
        defer { receiver.stop() }
        // The daemon inherits this process's environment.
        let variable = "HERALD_TEST_ADMIN_\(UUID().uuidString.prefix(8))"
        setenv(variable, "admin-secret", 1)
        try "# dev's tokens\ndev-token-1\n\ndev-token-2\n".write(to: directory.appendingPathComponent("dev.tokens"),
                                                                  atomically: true, encoding: .utf8)
        let routingKey = "R123456789abcdef0123456789abcdef"
        try (routingKey + "\n").write(to: directory.appendingPathComponent("routing.key"), atomically: true, encoding: .utf8)
        let daemon = try await Daemon(config: """
            admin: {tokens: ["${\(variable)}"]}
            teams:
              - {name: ops, tokens: [ops-token]}
              - {name: dev, tokens_file: dev.tokens}
            endpoints:
              - {name: pd, team: dev, channel: pagerduty,
                 config: {routing_key_file: routing.key, url: "\(receiver.baseURL)/pagerduty/x"}}
              - {name: hook, team: ops, channel: http, config: {url: "\(receiver.baseURL)/ops/{{ id }}"}}
            policies: [{name: all, team: dev, endpoints: [pd]}]
            """, directory: directory)
        defer { daemon.stop() }

        // Both of dev's tokens act for dev; the routing key came from its file.
        for token in ["dev-token-1", "dev-token-2"] {
            #expect(try await daemon.send("POST", "/api/v1/events", body: #"{"id":"\#(token)","name":"A","level":"Critical","object_id":"o"}"#,
                                          headers: ["Authorization": "Bearer \(token)"]).status == 202)
        }
        try await waitUntil(timeout: 10, "the PagerDuty events") { try await receiver.requests().count >= 1 }
        let body = try #require(try await receiver.requests().first?.body)
        #expect(body.contains(#""routing_key":"\#(routingKey)""#), "\(body)")

        // A team sees its own endpoints only; another's is missing, not forbidden.
        let dev = ["Authorization": "Bearer dev-token-2"]
        let listed = try await daemon.send("GET", "/api/v1/endpoints", headers: dev).body
        #expect(listed.contains(#""name":"pd""#) && !listed.contains(#""name":"hook""#), "\(listed)")
        #expect(try await daemon.send("GET", "/api/v1/endpoints/hook", headers: dev).status == 404)
        #expect(try await daemon.send("POST", "/api/v1/endpoints/hook/test", headers: dev).status == 404)
        // The admin token sees every team's, and may not send events.
        let admin = ["Authorization": "Bearer admin-secret"]
        let all = try await daemon.send("GET", "/api/v1/endpoints", headers: admin).body
        #expect(all.contains(#""name":"pd""#) && all.contains(#""name":"hook""#), "\(all)")
        #expect(try await daemon.send("GET", "/api/v1/events/dev-token-1?team=dev", headers: admin).status == 200)
        #expect(try await daemon.send("GET", "/api/v1/events/dev-token-1", headers: admin).status == 400)
        #expect(try await daemon.send("POST", "/api/v1/events", body: #"{"id":"a","name":"A","level":"Critical","object_id":"o"}"#,
                                      headers: admin).status == 403)
        // Unknown or missing tokens: 401 naming the header.
        let unknown = try await daemon.send("GET", "/api/v1/endpoints", headers: ["Authorization": "Bearer admin-secreT"])
        #expect(unknown.status == 401 && unknown.body.contains(#""field":"Authorization""#))
        #expect(try await daemon.send("GET", "/api/v1/deliveries").status == 401)
        // Neither the tokens nor the key reach the log.
        for secret in ["admin-secret", "dev-token-1", "dev-token-2", routingKey] {
            #expect(!daemon.log.contains(secret), "\(secret) in the log")
        }
    }

    @Test func anUnsetVariableIsAConfigErrorNamingTheField() throws {
        let directory = try Repository.temporaryDirectory("herald-auth-env")
        let file = directory.appendingPathComponent("env.yaml")
        try """
            plugins: {directories: ["\(Repository.plugins.path)"]}
            teams: [{name: ops, tokens: ["${HERALD_SURELY_UNSET_VARIABLE}"]}]
            """.write(to: file, atomically: true, encoding: .utf8)
        let (status, output) = try ChildProcess.runToEnd(Repository.herald.path, ["check", file.path])
        #expect(status != 0)
        #expect(output.contains("teams[0].tokens[0]: environment variable HERALD_SURELY_UNSET_VARIABLE is not set"), "\(output)")
    }
}
