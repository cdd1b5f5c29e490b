import Foundation
import HeraldTesting
import Testing

/// `herald plugins check` and `herald plugins new`, as a plugin author
/// runs them: outside the repository, through the herald binary.
@Suite(.timeLimit(.minutes(10)))
struct PluginKitCommandTests {
    static func check(_ library: URL, config: String? = nil, in directory: URL) throws -> (status: Int32, output: String) {
        var arguments = ["plugins", "check", library.path]
        if let config {
            let file = directory.appendingPathComponent("config-\(UUID().uuidString.prefix(6)).json")
            try config.write(to: file, atomically: true, encoding: .utf8)
            arguments += ["--config", file.path]
        }
        return try ChildProcess.runToEnd(Repository.herald.path, arguments)
    }

    /// The kit fails a plugin for each rule it breaks, and a crash or a hang
    /// gives a report naming the rule, not a dead checker.
    @Test(arguments: [
        ("double", "FAIL exactly-once: 200 second completion(s)"),
        ("never", "FAIL exactly-once: 200 of 200 submissions were never completed"),
        ("block", "FAIL submit-returns-quickly"),
        ("crash", "FAIL exactly-once: the plugin crashed (signal 11) during this rule"),
        ("outcome7", "FAIL exactly-once: an outcome other than OK, RETRY or FAIL"),
    ])
    func checkFailsAPluginThatBreaksARule(mode: String, failure: String) throws {
        let directory = try Repository.temporaryDirectory("herald-check")
        let library = try Repository.compileCPlugin(
            source: Repository.root.appendingPathComponent("Tests/fixtures/misbehaving_plugin.c"),
            output: directory.appendingPathComponent("libmisbehaving.so"))
        let (status, output) = try Self.check(library, config: #"{"mode":"\#(mode)"}"#, in: directory)
        #expect(status == 1, "\(output)")
        #expect(output.contains(failure), "\(output)")
        #expect(output.contains("rule(s) failed"))
    }

    /// Every plugin of the repository passes what can be checked without a
    /// live receiver, and the C example passes everything.
    @Test func everyRepositoryPluginPasses() throws {
        let directory = try Repository.temporaryDirectory("herald-check")
        let libraries = try FileManager.default.contentsOfDirectory(atPath: Repository.plugins.path)
            .filter { $0.hasSuffix(".so") }.sorted()
        #expect(libraries.count == 9, "\(libraries)")
        for name in libraries {
            let (status, output) = try Self.check(Repository.plugins.appendingPathComponent(name), in: directory)
            #expect(status == 0 && output.contains("conforms"), "\(name): \(output)")
            #expect(output.contains("PASS descriptor") && output.contains("PASS schema"), "\(name): \(output)")
        }
        let out = directory.appendingPathComponent("file.jsonl")
        let (status, output) = try Self.check(Repository.plugins.appendingPathComponent("libfile_channel.so"),
                                              config: #"{"path":"\#(out.path)"}"#, in: directory)
        #expect(status == 0 && !output.contains("SKIP") && !output.contains("FAIL"), "\(output)")
    }

    /// `herald plugins new` in C and in Swift, from a folder outside the
    /// repository: the project builds with its own tools, passes the kit,
    /// and, dropped into a plugins folder, delivers a real alert.
    @Test(arguments: ["c", "swift"])
    func newPluginBuildsPassesAndDelivers(lang: String) async throws {
        let workspace = try Repository.temporaryDirectory("herald-new-\(lang)")
        let started = Date()
        let created = try ChildProcess.run(Repository.herald.path, ["plugins", "new", "acme-\(lang)", "--lang", lang,
                                                                    "--dir", workspace.path])
        #expect(created.contains("Created"))
        let project = workspace.appendingPathComponent("acme-\(lang)")
        let library: URL
        if lang == "c" {
            try await ChildProcess.runOffPool("/usr/bin/make", ["-C", project.path])
            library = project.appendingPathComponent("libacme_c.so")
        } else {
            try await ChildProcess.runOffPool("/usr/bin/env", ["swift", "build", "--package-path", project.path])
            library = project.appendingPathComponent(".build/debug/libAcmeSwiftChannel.so")
        }
        print("plugins new (\(lang)): created and built in \(Int(Date().timeIntervalSince(started))) s")
        let log = workspace.appendingPathComponent("acme.log")
        let (status, output) = try Self.check(library, config: #"{"path":"\#(log.path)"}"#, in: workspace)
        #expect(status == 0, "\(output)")

        let plugins = workspace.appendingPathComponent("plugins")
        try FileManager.default.createDirectory(at: plugins, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: library, to: plugins.appendingPathComponent(library.lastPathComponent))
        let delivered = workspace.appendingPathComponent("delivered.log")
        let daemon = try await Daemon(config: """
            teams: [{name: ops, tokens: [ops-token]}]
            endpoints: [{name: mine, team: ops, channel: acme-\(lang), config: {path: "\(delivered.path)"}}]
            policies: [{name: all, team: ops, endpoints: [mine]}]
            """, directory: workspace, extraPluginDirectories: [plugins])
        defer { daemon.stop() }
        let answer = try await daemon.send("POST", "/api/v1/events", body: #"{"name":"NewPlugin","level":"Critical","object_id":"o"}"#,
                                           headers: ["Authorization": "Bearer ops-token"])
        #expect(answer.status == 202)
        try await waitUntil(timeout: 20, "the alert in \(delivered.path)") {
            ((try? String(contentsOf: delivered, encoding: .utf8)) ?? "").contains("[Critical] NewPlugin")
        }
        // Not shipped with Herald: it runs in a worker process by default.
        let health = try await daemon.send("GET", "/healthz")
        #expect(health.body.contains(#"{"channel":"acme-\#(lang)","isolation":"process","name":"mine","state":"up","team":"ops"}"#),
                "\(health.body)")
    }
}
