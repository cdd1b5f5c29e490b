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

    @Test func silentAlertsEndAtEndsAtAndRepeatsPostponeIt() async throws {
        let directory = try Repository.temporaryDirectory("herald-am-expiry")
        let receiver = try await HTTPReceiver(directory: directory)
        defer { receiver.stop() }
        let daemon = try await Daemon(config: """
            teams:
              - {name: ops, tokens: [t0ken]}
            endpoints:
              - {name: hook, team: ops, channel: http, config: {url: "\(receiver.baseURL)/{{ name }}/{{ level }}"}}
            policies:
              - {name: all, team: ops, endpoints: [hook]}
            """, directory: directory)
        defer { daemon.stop() }
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
}
