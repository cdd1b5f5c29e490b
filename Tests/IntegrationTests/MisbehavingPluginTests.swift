import Foundation
import HeraldTesting
import Testing

/// A plugin that hangs or crashes takes down its own endpoint at most:
/// ingest answers, the other endpoints deliver, SIGTERM stops the daemon,
/// and a delivery that crashes the plugin ends in the dead letters as poison.
@Suite(.timeLimit(.minutes(4)))
struct MisbehavingPluginTests {
    static let auth = ["Authorization": "Bearer ops-token"]

    /// The misbehaving C fixture, built into its own plugins folder.
    static func fixturePlugins(_ directory: URL) throws -> URL {
        let plugins = directory.appendingPathComponent("plugins")
        try FileManager.default.createDirectory(at: plugins, withIntermediateDirectories: true)
        try Repository.compileCPlugin(source: Repository.root.appendingPathComponent("Tests/fixtures/misbehaving_plugin.c"),
                                      output: plugins.appendingPathComponent("libmisbehaving.so"))
        return plugins
    }

    static func config(mode: String, isolation: String, file: URL, extra: String = "") -> String {
        """
        teams:
          - {name: ops, tokens: [ops-token]}
        endpoints:
          - {name: bad, team: ops, channel: misbehaving, isolation: \(isolation), timeout: 1s, retries: 20,
             backoff: 200ms, max_backoff: 1s, config: {mode: \(mode)}\(extra)}
          - {name: good, team: ops, channel: file, config: {path: "\(file.path)", line: "{{ id }}"}}
        policies:
          - {name: all, team: ops, endpoints: [bad, good]}
        """
    }

    static func event(_ id: String, name: String = "Disk") -> String {
        #"{"id":"\#(id)","name":"\#(name)","level":"Critical","object_id":"\#(id)"}"#
    }

    /// Lines the good endpoint wrote: the event ids, in order.
    static func delivered(_ file: URL) -> [String] {
        ((try? String(contentsOf: file, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line in
            ((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any])?["line"] as? String
        }
    }

    static func deliveries(_ daemon: Daemon, status: String) async throws -> [[String: Any]] {
        let answer = try await daemon.send("GET", "/api/v1/deliveries?status=\(status)&limit=1000", headers: auth)
        return (try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [[String: Any]]) ?? []
    }

    /// A plugin that loops forever in submit, in the daemon's process and
    /// in a worker process: ingest and the working endpoint carry on at
    /// normal latency, /healthz says which endpoint is suspended, SIGTERM
    /// stops the daemon within a bound, and the stuck deliveries stay pending.
    @Test(arguments: ["none", "process"])
    func hangingPluginSuspendsOnlyItsEndpoint(isolation: String) async throws {
        let directory = try Repository.temporaryDirectory("herald-hang")
        let file = directory.appendingPathComponent("good.jsonl")
        let daemon = try await Daemon(config: Self.config(mode: "block", isolation: isolation, file: file),
                                      directory: directory, extraPluginDirectories: [try Self.fixturePlugins(directory)])
        var stopped = false
        defer { if !stopped { daemon.stop() } }
        var ingest: [Double] = [], delivery: [Double] = []
        for index in 0..<20 {
            let sent = Date()
            let answer = try await daemon.send("POST", "/api/v1/events", body: Self.event("h-\(index)"), headers: Self.auth)
            #expect(answer.status == 202, "\(answer)")
            ingest.append(Date().timeIntervalSince(sent))
            try await waitUntil(timeout: 10, "h-\(index) at the good endpoint") { Self.delivered(file).contains("h-\(index)") }
            delivery.append(Date().timeIntervalSince(sent))
            try await Task.sleep(for: .milliseconds(100))
        }
        let ms = { (values: [Double]) in values.sorted().map { Int($0 * 1000) } }
        print("hang (\(isolation)): ingest answers \(ms(ingest)) ms; deliveries to the good endpoint \(ms(delivery)) ms")
        // Medians, as the test run loads the machine; a frozen daemon would
        // not answer at all (the waits above time out).
        #expect(ms(ingest)[10] < 500 && ms(delivery)[10] < 1000, "normal latency beside a hanging plugin")
        if isolation == "none" {
            let health = try await daemon.send("GET", "/healthz")
            #expect(health.status == 200)
            #expect(health.body.contains(#""name":"bad""#) && health.body.contains(#""state":"suspended""#), "\(health.body)")
            #expect(daemon.log.contains("Endpoint suspended: its plugin hangs in a call"))
        } else {
            // The worker is killed and started again; the daemon never hangs.
            try await waitUntil(timeout: 20, "the hung worker to be killed") { daemon.log.contains("plugin hung") }
        }
        let stopping = Date()
        daemon.stop(grace: 30)
        stopped = true
        let took = Date().timeIntervalSince(stopping)
        print("hang (\(isolation)): SIGTERM to exit \(String(format: "%.1f", took)) s")
        #expect(took < 15, "SIGTERM stops the daemon within a bound")
        // The stuck endpoint's deliveries wait for the next start, none lost.
        let list = try ChildProcess.run(Repository.herald.path, ["deliveries", "--config", daemon.configFile.path,
                                                                   "--status", "dead", "--limit", "1000"])
        #expect(!list.contains("\tbad\t"), "no delivery of the hanging endpoint was dead-lettered: \(list)")
        let pending = try ChildProcess.run(Repository.herald.path, ["deliveries", "--config", daemon.configFile.path,
                                                                      "--status", "pending", "--limit", "1000"])
        #expect(pending.split(separator: "\n").filter { $0.contains("\tbad\t") }.count == 20, "\(pending)")
    }

    /// A plugin that segfaults on one delivery, in a worker process: the
    /// daemon stays up, the worker restarts, the poison delivery ends in
    /// the dead letters, every other event is delivered.
    @Test func crashingPluginInAWorkerCostsOnlyThePoisonDelivery() async throws {
        let directory = try Repository.temporaryDirectory("herald-crash-process")
        let file = directory.appendingPathComponent("good.jsonl")
        let daemon = try await Daemon(config: Self.config(mode: "poison", isolation: "process", file: file),
                                      directory: directory, extraPluginDirectories: [try Self.fixturePlugins(directory)])
        defer { daemon.stop() }
        let ids = (0..<30).map { "c-\($0)" }
        for id in ids {
            let name = id == "c-10" ? "poison-pill" : "Disk"
            #expect(try await daemon.send("POST", "/api/v1/events", body: Self.event(id, name: name), headers: Self.auth).status == 202)
        }
        try await waitUntil(timeout: 60, "the poison dead-lettered and the rest delivered") {
            let dead = try await Self.deliveries(daemon, status: "dead")
            let delivered = try await Self.deliveries(daemon, status: "delivered")
            return dead.count == 1 && delivered.filter { $0["endpoint"] as? String == "bad" }.count == 29
        }
        let dead = try #require(try await Self.deliveries(daemon, status: "dead").first)
        #expect(dead["event_id"] as? String == "c-10" && dead["endpoint"] as? String == "bad")
        #expect((dead["last_error"] as? String)?.contains("poison") == true, "\(dead)")
        #expect((dead["last_error"] as? String)?.contains("signal 11") == true, "\(dead)")
        #expect(Set(Self.delivered(file)) == Set(ids), "the other endpoint got every event")
        #expect(try await daemon.send("GET", "/healthz").status == 200, "the daemon stayed up")
        #expect(daemon.log.contains("Plugin worker ended; starting it again"))
    }

    /// The same plugin in the daemon's process: the daemon dies with it, and
    /// comes back (as a supervisor restarts it) without a crash loop: the
    /// poison delivery is found by marked groups and dead-lettered, and
    /// every other accepted event is delivered.
    @Test func crashingPluginInTheDaemonEndsWithoutACrashLoop() async throws {
        let directory = try Repository.temporaryDirectory("herald-crash-none")
        let file = directory.appendingPathComponent("good.jsonl")
        let daemon = try await Daemon(config: Self.config(mode: "poison", isolation: "none", file: file),
                                      directory: directory, extraPluginDirectories: [try Self.fixturePlugins(directory)])
        defer { daemon.stop() }
        let ids = (0..<40).map { "n-\($0)" }
        var crashes = 0
        // A supervisor's job: start it again whenever it died, a bounded number of times.
        func restartIfDead() async throws {
            while !daemon.isRunning {
                crashes += 1
                try #require(crashes <= 16, "a crash loop: \(crashes) crashes")
                try? await daemon.start()
            }
        }
        // Each event is sent until the daemon accepts it (it may be down meanwhile).
        for id in ids {
            let name = id == "n-25" ? "poison-pill" : "Disk"
            var accepted = false
            for _ in 0..<20 where !accepted {
                let answer = try? await daemon.send("POST", "/api/v1/events", body: Self.event(id, name: name), headers: Self.auth)
                accepted = answer?.status == 202
                if !accepted {
                    try await Task.sleep(for: .milliseconds(300))
                    try await restartIfDead()
                }
            }
            #expect(accepted, "\(id) was never accepted")
        }
        let deadline = Date().addingTimeInterval(150)
        while Date() < deadline {
            try await Task.sleep(for: .milliseconds(500))
            if !daemon.isRunning {
                try await restartIfDead()
                continue
            }
            let dead = (try? await Self.deliveries(daemon, status: "dead")) ?? []
            let pending = (try? await Self.deliveries(daemon, status: "pending")) ?? []
            if !dead.isEmpty && pending.isEmpty { break }
        }
        print("crash (none): the daemon crashed \(crashes) times before the poison delivery was found")
        // Only the poison event is dead (twice, when the daemon died between
        // storing it and answering, and the sender sent it again).
        let dead = try await Self.deliveries(daemon, status: "dead")
        #expect(!dead.isEmpty && dead.allSatisfy { $0["event_id"] as? String == "n-25" }, "\(dead)")
        #expect(dead.allSatisfy { ($0["last_error"] as? String)?.contains("poison") == true }, "\(dead)")
        let delivered = try await Self.deliveries(daemon, status: "delivered")
        #expect(Set(delivered.filter { $0["endpoint"] as? String == "bad" }.compactMap { $0["event_id"] as? String })
                == Set(ids).subtracting(["n-25"]))
        #expect(Set(Self.delivered(file)) == Set(ids), "every accepted event reached the other endpoint")
        #expect(crashes >= 2 && crashes <= 16)
        #expect(try await Self.deliveries(daemon, status: "pending").isEmpty)
    }
}
