import Foundation
import HeraldTesting
import Testing

/// Alerts taken in through Alertmanager's API end at their `endsAt` when
/// Prometheus stops repeating them; a repeat moves the end later, and one
/// that comes after the end fires the alert again.
@Suite(.timeLimit(.minutes(2)))
struct AlertmanagerExpiryTests {
    /// Each alert on its own host: pushes are throttled per monitored object.
    static func post(_ name: String, endsIn seconds: Double, to daemon: Daemon) async throws {
        let ends = ISO8601DateFormatter().string(from: Date().addingTimeInterval(seconds))
        let body = #"[{"labels":{"alertname":"\#(name)","severity":"critical","instance":"\#(name)-host"},"startsAt":"2026-11-18T11:06:40Z","endsAt":"\#(ends)"}]"#
        let answer = try await daemon.send("POST", "/api/v2/alerts", body: body,
                                           headers: ["Authorization": "Bearer t0ken", "Content-Type": "application/json"])
        #expect(answer.status == 200, "\(answer)")
    }

    /// A daemon whose one endpoint pushes every alert to `/<name>/<level>` of a receiver.
    static func daemon(_ name: String) async throws -> (URL, HTTPReceiver, Daemon) {
        let directory = try Repository.temporaryDirectory(name)
        let receiver = try await HTTPReceiver(directory: directory)
        do {
            let daemon = try await Daemon(config: """
                teams:
                  - {name: ops, tokens: [t0ken]}
                endpoints:
                  - {name: hook, team: ops, channel: http, config: {url: "\(receiver.baseURL)/{{ name }}/{{ level }}"}}
                policies:
                  - {name: all, team: ops, endpoints: [hook]}
                """, directory: directory)
            return (directory, receiver, daemon)
        } catch {
            receiver.stop()
            throw error
        }
    }

    @Test func silentAlertsEndAtEndsAtAndRepeatsPostponeIt() async throws {
        let (_, receiver, daemon) = try await Self.daemon("herald-am-expiry")
        defer { receiver.stop(); daemon.stop() }
        try await Self.post("Silent", endsIn: 2, to: daemon)
        // Repeated's first end leaves room for its repeat: on a loaded machine
        // (CI runs every suite at once on two cores) one post took 1.25 s.
        try await Self.post("Repeated", endsIn: 6, to: daemon)
        try await Task.sleep(for: .seconds(1))
        // Prometheus's next evaluation; a wide margin, as a loaded machine can
        // delay the sweep by seconds.
        try await Self.post("Repeated", endsIn: 14, to: daemon)
        try await waitUntil(timeout: 10, "Silent's recovery") {
            try await receiver.requests().contains { $0.path == "/Silent/Recovery" }
        }
        let early = try await receiver.requests().map(\.path)
        #expect(!early.contains("/Repeated/Recovery"), "the repeat should have moved Repeated's end: \(early)")
        try await waitUntil(timeout: 30, "Repeated's recovery") {
            try await receiver.requests().contains { $0.path == "/Repeated/Recovery" }
        }
        // Prometheus sends Silent again: it fires again, as in Alertmanager.
        try await Self.post("Silent", endsIn: 60, to: daemon)
        try await waitUntil(timeout: 10, "Silent firing again") {
            try await receiver.requests().filter { $0.path == "/Silent/Critical" }.count == 2
        }
        let paths = try await receiver.requests().map(\.path)
        #expect(paths.sorted() == ["/Repeated/Critical", "/Repeated/Recovery", "/Silent/Critical", "/Silent/Critical",
                                   "/Silent/Recovery"])
    }

    /// The repeat check runs in the writer, so an alert posted many times at
    /// the same instant (Alertmanager instances of one cluster each sending
    /// it) is news once, however the posts fall into batches.
    @Test func simultaneousRepeatsAreStoredAndPushedOnce() async throws {
        let (directory, receiver, daemon) = try await Self.daemon("herald-am-repeats")
        defer { receiver.stop(); daemon.stop() }
        // The alert twice in one body as well: a batch repeats itself too.
        let alert = #"{"status":"firing","labels":{"alertname":"Twice","severity":"critical","instance":"db-1"},"annotations":{},"startsAt":"2026-11-18T11:06:40Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"f1"}"#
        let body = #"{"version":"4","groupKey":"{}","status":"firing","receiver":"herald","groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am","alerts":["# + alert + "," + alert + "]}"
        // curl opens every connection at once and sends on each as soon as
        // it is up, so the posts reach the daemon together.
        let posts = 48
        let bodyFile = directory.appendingPathComponent("twice.json")
        try body.write(to: bodyFile, atomically: true, encoding: .utf8)
        let curl = try ChildProcess("/usr/bin/curl", [
            "-s", "--parallel", "--parallel-immediate", "--parallel-max", "\(posts)",
            "-H", "Authorization: Bearer t0ken", "-H", "Content-Type: application/json", "--data-binary", "@\(bodyFile.path)",
        ] + Array(repeating: "http://127.0.0.1:\(daemon.port)/api/v1/ingest/alertmanager", count: posts),
            log: directory.appendingPathComponent("curl.out"))
        try await waitUntil(timeout: 30, "curl's posts") { !curl.isRunning }
        let answers = try NSRegularExpression(pattern: #"\{"accepted":(\d+),"repeats":(\d+)\}"#)
            .matches(in: curl.log, range: NSRange(curl.log.startIndex..., in: curl.log))
            .map { match in (1...2).map { Int((curl.log as NSString).substring(with: match.range(at: $0))) ?? -1 } }
        #expect(answers.count == posts, "\(curl.log)")
        #expect(answers.allSatisfy { $0[0] + $0[1] == 2 }, "\(answers)")
        let accepted = answers.reduce(0) { $0 + $1[0] }
        #expect(accepted == 1)
        try await waitUntil(timeout: 10, "the push") { try await !receiver.requests().isEmpty }
        // Time for a wrongly stored repeat's push to follow.
        try await Task.sleep(for: .seconds(1))
        #expect(try await receiver.requests().map(\.path) == ["/Twice/Critical"])
    }

    /// As in Alertmanager, an alert sent without `startsAt` (amtool, a
    /// script) continues its open alert instead of starting a new one each
    /// time; once resolved, the next one starts anew.
    @Test func alertsWithoutStartsAtContinueTheirOpenAlert() async throws {
        let (_, receiver, daemon) = try await Self.daemon("herald-am-no-start")
        defer { receiver.stop(); daemon.stop() }
        func post(_ alerts: [String]) async throws {
            let answer = try await daemon.send("POST", "/api/v2/alerts", body: "[" + alerts.joined(separator: ",") + "]",
                                               headers: ["Authorization": "Bearer t0ken", "Content-Type": "application/json"])
            #expect(answer.status == 200, "\(answer)")
        }
        let firing = #"{"labels":{"alertname":"NoStart","severity":"critical","instance":"db-1"}}"#
        let ended = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-1))
        let resolved = #"{"labels":{"alertname":"NoStart","severity":"critical","instance":"db-1"},"endsAt":"\#(ended)"}"#
        let paths = { try await receiver.requests().map(\.path) }
        try await post([firing, firing])  // twice in one batch: one alert
        try await post([firing])
        try await waitUntil(timeout: 10, "the first push") { try await paths() == ["/NoStart/Critical"] }
        try await post([firing])
        try await post([resolved])
        try await waitUntil(timeout: 10, "the recovery") { try await paths().count == 2 }
        try await post([firing])
        try await waitUntil(timeout: 10, "the new alert's push") { try await paths().count == 3 }
        // Time for a wrongly stored repeat's push to follow.
        try await Task.sleep(for: .seconds(1))
        #expect(try await paths() == ["/NoStart/Critical", "/NoStart/Recovery", "/NoStart/Critical"])
    }
}
