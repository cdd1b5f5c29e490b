import Foundation
import HeraldTesting
import Testing

/// The daemon pushing alerts over TCP syslog while rsyslogd restarts.
@Suite(.timeLimit(.minutes(2)))
struct SyslogRestartTests {
    static let auth = ["Authorization": "Bearer t0ken", "Content-Type": "application/json"]

    static func batch(_ range: Range<Int>) -> String {
        let events = range.map { #"{"id":"ev-\#($0)","name":"Alert\#($0)","level":"Critical","object_id":"host-\#($0)"}"# }
        return #"{"events":[\#(events.joined(separator: ","))]}"#
    }

    /// Half the events go out while rsyslogd runs; it is stopped, the other
    /// half are accepted while it is down, then it starts again. Every
    /// event arrives, each once.
    @Test func nothingIsLostOverTCPWhenTheServerRestarts() async throws {
        let directory = try Repository.temporaryDirectory("herald-syslog-restart")
        let server = try await SyslogServer(directory: directory)
        defer { server.kill() }
        let daemon = try await Daemon(config: """
            teams:
              - {name: ops, tokens: [t0ken]}
            endpoints:
              - {name: syslog, team: ops, channel: syslog, retries: 30, backoff: 100ms, max_backoff: 500ms,
                 probe_backoff: 200ms, max_probe_backoff: 1s,
                 config: {destination: "\(server.urlTCP)", message: "{{ name }}"}}
            policies:
              - {name: all, team: ops, endpoints: [syslog]}
            """, directory: directory)
        defer { daemon.stop() }

        #expect(try await daemon.send("POST", "/api/v1/events", body: Self.batch(0..<50), headers: Self.auth).status == 202)
        try await waitUntil(timeout: 20, "the first 50 messages") { try server.records().count >= 50 }
        await server.stop()
        #expect(try await daemon.send("POST", "/api/v1/events", body: Self.batch(50..<100), headers: Self.auth).status == 202)
        try await Task.sleep(for: .seconds(1))
        let whileDown = try server.records().count
        try await server.start()
        try await waitUntil(timeout: 30, "all 100 messages") { try Set(server.records().map(\.msg)).count >= 100 }
        let messages = try server.records().map(\.msg)
        print("syslog restart: \(whileDown) of 100 arrived before the restart, \(Set(messages).count) distinct after, "
              + "\(messages.count - Set(messages).count) repeated")
        #expect(whileDown == 50)
        #expect(daemon.log.contains("Delivery will be retried"), "the restart should have made deliveries retry")
        #expect(Set(messages) == Set((0..<100).map { "Alert\($0)" }))
    }
}
