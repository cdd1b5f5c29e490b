import Foundation
import HeraldTesting
import Testing

/// The `herald` CLI over a running daemon's API: tables by default, the
/// API's JSON with --json, errors as the API words them, no log noise.
@Suite(.timeLimit(.minutes(2)))
struct CLITests {
    @Test func cliDrivesTheRunningDaemon() async throws {
        let directory = try Repository.temporaryDirectory("herald-cli")
        let receiver = try await HTTPReceiver(directory: directory)
        defer { receiver.stop() }
        let daemon = try await Daemon(config: """
            teams: [{name: ops, tokens: [ops-token]}]
            endpoints:
              - {name: from-file, team: ops, channel: http, config: {url: "\(receiver.baseURL)/file/{{ id }}"}}
            policies: [{name: all, team: ops, matchers: ['route="file"'], endpoints: [from-file]}]
            """, directory: directory)
        defer { daemon.stop() }
        let remote = ["--url", "http://127.0.0.1:\(daemon.port)", "--token", "ops-token"]
        func herald(_ arguments: [String]) throws -> (status: Int32, output: String) {
            try ChildProcess.runToEnd(Repository.herald.path, arguments)
        }

        // Made from YAML, as in the config file.
        let file = directory.appendingPathComponent("hook.yaml")
        try "name: hook\nchannel: http\nretries: 1\nconfig: {url: \"\(receiver.baseURL)/cli/{{ id }}\"}\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let made = try herald(["endpoints", "create", "-f", file.path] + remote)
        #expect(made.status == 0 && made.output == "made hook\n", "\(made.output)")

        let list = try herald(["endpoints", "list"] + remote)
        let lines = list.output.split(separator: "\n")
        #expect(list.status == 0 && lines.first?.hasPrefix("NAME") == true && lines.count == 3, "\(list.output)")
        #expect(lines.contains { $0.hasPrefix("hook") && $0.contains("http") && $0.contains("up") }, "\(list.output)")
        let json = try herald(["endpoints", "list", "--json"] + remote)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [[String: Any]], "\(json.output)")
        #expect(Set(parsed.compactMap { $0["name"] as? String }) == ["hook", "from-file"])

        let test = try herald(["endpoints", "test", "hook"] + remote)
        #expect(test.status == 0 && test.output.hasPrefix("ok "), "\(test.output)")

        // An event, explained; the history.
        for (id, route) in [("c1", "file"), ("c2", "nowhere")] {
            #expect(try await daemon.send("POST", "/api/v1/events", body: #"{"id":"\#(id)","name":"C","level":"Warning","object_id":"o","labels":{"route":"\#(route)"}}"#,
                                          headers: ["Authorization": "Bearer ops-token"]).status == 202)
        }
        try await waitUntil(timeout: 10, "the delivery") { try await receiver.requests().contains { $0.path == "/file/c1" } }
        let explain = try herald(["events", "explain", "c1"] + remote)
        #expect(explain.status == 0 && explain.output.contains("from-file") && explain.output.contains("pushed"), "\(explain.output)")
        #expect(try herald(["events", "explain", "c2"] + remote).output.contains("matched no policy"))
        let history = try herald(["history", "--limit", "5"] + remote)
        #expect(history.status == 0 && history.output.hasPrefix("ID") && history.output.contains("c1"), "\(history.output)")

        // Errors as the API words them, non-zero; the file's endpoint is read-only.
        let refused = try herald(["endpoints", "delete", "from-file"] + remote)
        #expect(refused.status != 0 && refused.output.contains("409") && refused.output.contains("config file"), "\(refused.output)")
        let badToken = try herald(["endpoints", "list", "--url", "http://127.0.0.1:\(daemon.port)", "--token", "nope"])
        #expect(badToken.status != 0 && badToken.output.contains("401"), "\(badToken.output)")
        #expect(try herald(["endpoints", "delete", "hook"] + remote).output == "deleted hook\n")

        // No log lines on stderr for ordinary commands.
        for output in [made.output, list.output, test.output, explain.output, history.output] {
            #expect(!output.contains(" info ") && !output.contains(" notice "), "\(output)")
        }
        #expect(try herald(["--version"]).output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
    }
}
