import Foundation
import HeraldTesting
import Testing

/// The console at /ui/ in a real browser: Tests/console/walk.py drives
/// Debian's headless Chromium through the seeds' flow against a daemon
/// started here, with a real HTTP receiver and a third-party C plugin
/// (Tests/fixtures/ticket_plugin.c); screenshots of each page land in
/// .build/console-screenshots. What reached the receiver and the plugin is
/// checked here as well.
@Suite(.timeLimit(.minutes(3)))
struct ConsoleTests {
    static let python = "/usr/bin/python3"
    static let browserAvailable = ["/usr/bin/chromium", "/usr/bin/chromedriver", python]
        .allSatisfy(FileManager.default.isExecutableFile(atPath:))
        && FileManager.default.fileExists(atPath: "/usr/lib/python3/dist-packages/selenium")

    @Test(.enabled(if: browserAvailable, "needs Debian's chromium, chromium-driver and python3-selenium (scripts/setup.sh installs them)"))
    func theSeedsFlowWorksInABrowser() async throws {
        let directory = try Repository.temporaryDirectory("herald-console")
        let plugins = directory.appendingPathComponent("plugins")
        try FileManager.default.createDirectory(at: plugins, withIntermediateDirectories: true)
        try Repository.compileCPlugin(source: Repository.root.appendingPathComponent("Tests/fixtures/ticket_plugin.c"),
                                      output: plugins.appendingPathComponent("libticket.so"))
        let receiver = try await HTTPReceiver(directory: directory)
        defer { receiver.stop() }
        // Packet capture needs root; the walk skips its captures step otherwise, saying so.
        let capture = geteuid() == 0
        let captures = directory.appendingPathComponent("captures")
        let daemon = try await Daemon(config: """
            admin: {tokens: [admin-token]}
            api: {team_channels: [http, ticket]}
            teams: [{name: ops, tokens: [ops-token]}, {name: dev, tokens: [dev-token]}]
            endpoints:
              - {name: dead-end, team: ops, channel: http, retries: 0, config: {url: "\(receiver.baseURL)/status/400/{{ id }}"}}
            \(capture ? """
              - {name: capture, team: ops, channel: pcap,
                 config: {interface: lo, directory: "\(captures.path)", filter: tcp, max_capture_seconds: 30, max_file_bytes: 1048576}}
            """ : "")
            policies:
              - {name: dead-letters, team: ops, matchers: ['kind="deadletter"'], endpoints: [dead-end]}
            \(capture ? "  - {name: captures, team: ops, matchers: ['kind=\"capture\"'], endpoints: [capture]}" : "")
            """, directory: directory, extraPluginDirectories: [plugins])
        defer { daemon.stop() }
        let outbox = directory.appendingPathComponent("tickets.jsonl")
        let shots = Repository.root.appendingPathComponent(".build/console-screenshots")
        try? FileManager.default.removeItem(at: shots)

        let output = try await ChildProcess.runOffPool(Self.python, [
            Repository.root.appendingPathComponent("Tests/console/walk.py").path,
            "--base", "http://127.0.0.1:\(daemon.port)", "--token", "ops-token", "--other-token", "dev-token",
            "--admin-token", "admin-token", "--receiver", receiver.baseURL, "--outbox", outbox.path, "--shots", shots.path,
        ] + (capture ? ["--pcap"] : []))
        print(output)
        #expect(output.contains("steps passed"))

        // The test alert the console sent through the HTTP endpoint, as it arrived.
        let tests = try await receiver.requests().filter { $0.path.hasPrefix("/console/herald-test-") }
        #expect(tests.count == 1, "\(tests.map(\.path))")
        let sent = try #require(tests.first)
        #expect(sent.method == "POST" && sent.header("X-Team") == "ops" && sent.header("Content-Type") == "application/json")
        let event = try #require(try JSONSerialization.jsonObject(with: Data(sent.body.utf8)) as? [String: Any])
        // The HTTP channel's default body: the event as JSON, with the fields and types plugin-sdk/README.md lists.
        #expect(event["name"] as? String == "Herald test alert" && event["level"] as? String == "Critical", "\(event)")
        #expect(event["object_id"] as? String == "herald-test" && event["status"] as? String == "firing", "\(event)")
        #expect(event["endpoint"] as? String == "web-hook" && event["team"] as? String == "ops", "\(event)")
        #expect((event["labels"] as? [String: String])?["herald_test"] == "true", "\(event)")
        #expect((event["starts_at"] as? String).flatMap { ISO8601DateFormatter.withFractions.date(from: $0) } != nil, "\(event)")
        #expect(sent.path == "/console/\(event["id"] as? String ?? "")")

        // The third-party plugin got the config the form made, with JSON's types, and its secret
        // after an edit that left the secret field empty.
        let lines = try String(contentsOf: outbox, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        let configs = try lines.map { line in
            let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(record["title"] as? String == "[Critical] Herald test alert")
            return try #require(record["config"] as? [String: Any])
        }
        for (config, priority) in zip(configs, [2, 4]) {
            #expect(config["api_key"] as? String == "k-123")
            #expect(config["priority"] as? Int == priority && config["weight"] as? Double == 1.5 && config["notify"] as? Bool == true)
            #expect(config["project"] as? String == "NET" && config["labels"] as? [String: String] == ["component": "alerting"])
            #expect(config["assignees"] as? [String] == ["alice@example.com", "bob@example.com"])
        }
    }
}

extension ISO8601DateFormatter {
    /// RFC 3339 with milliseconds, as the event's times are written.
    static var withFractions: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
