import Foundation
import HeraldTesting
import Testing

/// A receiver outage loses no alert and needs no hand: the endpoint goes
/// down, holds its deliveries, probes, and resumes in order when the
/// receiver is back.
@Suite(.timeLimit(.minutes(5)))
struct OutageTests {
    static let auth = ["Authorization": "Bearer ops-token"]

    static func health(_ daemon: Daemon, endpoint: String) async throws -> [String: Any] {
        let body = try await daemon.send("GET", "/healthz").body
        let all = (try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["endpoints"] as? [[String: Any]]
        return all?.first { $0["name"] as? String == endpoint } ?? [:]
    }

    static func deliveries(_ daemon: Daemon, status: String) async throws -> [[String: Any]] {
        let answer = try await daemon.send("GET", "/api/v1/deliveries?status=\(status)&limit=1000", headers: auth)
        return (try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [[String: Any]]) ?? []
    }

    /// The HTTP receiver is down for 30 s while 2,000 alerts arrive (200
    /// objects, 10 alerts each), then comes back with the default health
    /// settings: every alert arrives once (repeats at most what was in
    /// flight), in order per object, without a replay; the endpoint went
    /// down and back up; another endpoint kept its latency.
    @Test func httpReceiverDownFor30sLosesNothing() async throws {
        let directory = try Repository.temporaryDirectory("herald-outage")
        var receiver = try await HTTPReceiver(directory: directory)
        let port = receiver.port
        let file = directory.appendingPathComponent("other.jsonl")
        let daemon = try await Daemon(config: """
            teams: [{name: ops, tokens: [ops-token]}]
            endpoints:
              - {name: hook, team: ops, channel: http, retries: 3,
                 config: {url: "http://127.0.0.1:\(port)/a/{{ object_id }}/{{ labels.seq }}"}}
              - {name: other, team: ops, channel: file, config: {path: "\(file.path)", line: "{{ id }}"}}
            policies:
              - {name: main, team: ops, matchers: ['route="main"'], endpoints: [hook]}
              - {name: side, team: ops, matchers: ['route="side"'], endpoints: [other]}
            """, directory: directory)
        defer { daemon.stop() }
        receiver.stop()
        let outage = Date()
        for seq in 0..<10 {
            let events = (0..<200).map { object in
                #"{"id":"o\#(object)-s\#(seq)","name":"Outage","level":"Critical","object_id":"o\#(object)","labels":{"route":"main","seq":"\#(seq)"}}"#
            }
            let answer = try await daemon.send("POST", "/api/v1/events", body: #"{"events":[\#(events.joined(separator: ","))]}"#,
                                               headers: Self.auth)
            #expect(answer.status == 202)
        }
        // Meanwhile the other endpoint delivers at its normal latency.
        var latencies: [Int] = []
        while Date().timeIntervalSince(outage) < 30 {
            let id = "side-\(latencies.count)"
            let sent = Date()
            _ = try await daemon.send("POST", "/api/v1/events", body:
                #"{"id":"\#(id)","name":"Side","level":"Warning","object_id":"x","labels":{"route":"side"}}"#, headers: Self.auth)
            try await waitUntil(timeout: 10, "\(id) at the other endpoint") {
                ((try? String(contentsOf: file, encoding: .utf8)) ?? "").contains(#""line":"\#(id)""#)
            }
            latencies.append(Int(Date().timeIntervalSince(sent) * 1000))
            try await Task.sleep(for: .milliseconds(500))
        }
        let down = try await Self.health(daemon, endpoint: "hook")
        #expect(down["state"] as? String == "down", "\(down)")
        let held = (down["down"] as? [String: Any])?["held"] as? Int ?? 0
        #expect(held > 1900, "held \(held): the alerts wait, their retries untouched")
        #expect(try await Self.deliveries(daemon, status: "dead").isEmpty, "nothing dead-lettered during the outage")
        // The team's API shows the same state.
        let listed = try await daemon.send("GET", "/api/v1/endpoints", headers: Self.auth).body
        let states = (try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [[String: Any]] ?? [])
            .reduce(into: [String: String]()) { $0[$1["name"] as? String ?? ""] = $1["state"] as? String }
        #expect(states == ["hook": "down", "other": "up"], "\(listed)")
        let one = try await daemon.send("GET", "/api/v1/endpoints/hook", headers: Self.auth).body
        #expect(one.contains(#""next_probe_at""#) && one.contains(#""failed_probes""#), "\(one)")
        #expect(try await daemon.send("GET", "/api/v1/endpoints/nope", headers: Self.auth).status == 404)

        receiver = try await HTTPReceiver(directory: directory, port: port)
        defer { receiver.stop() }
        let back = Date()
        try await waitUntil(timeout: 120, "all 2,000 alerts after the outage") {
            Set(try await receiver.requests().map(\.path)).count >= 2000
        }
        let paths = try await receiver.requests().map(\.path)
        let resumed = Date().timeIntervalSince(back)
        print("outage: 2000 held for 30 s, \(Set(paths).count) distinct delivered \(Int(resumed)) s after the receiver came back, "
              + "\(paths.count - Set(paths).count) repeated; other endpoint latencies \(latencies.sorted()) ms")
        #expect(Set(paths).count == 2000 && paths.count - Set(paths).count <= 64)
        // In order per object: each object's sequence numbers arrive rising.
        var last: [String: Int] = [:]
        var outOfOrder: [String] = []
        for path in paths {
            let parts = path.split(separator: "/")
            guard parts.count == 3, let seq = Int(parts[2]) else { continue }
            if let previous = last[String(parts[1])], seq < previous { outOfOrder.append("\(parts[1]): \(seq) after \(previous)") }
            last[String(parts[1])] = max(seq, last[String(parts[1])] ?? 0)
        }
        #expect(outOfOrder.isEmpty, "\(outOfOrder.count) alerts out of order per object: \(outOfOrder.prefix(10))")
        #expect(latencies.sorted()[latencies.count / 2] < 500, "the other endpoint's median latency: \(latencies)")
        try await waitUntil(timeout: 10, "the endpoint up again") {
            try await Self.health(daemon, endpoint: "hook")["state"] as? String == "up"
        }
        #expect(daemon.log.contains("Endpoint down: holding its deliveries") && daemon.log.contains("Endpoint back up"))
        #expect(try await Self.deliveries(daemon, status: "dead").isEmpty)
        #expect(try await Self.deliveries(daemon, status: "pending").isEmpty)
        // Every delivery's attempts are recorded; the probes' failures among them.
        // Delivery 1 was in flight when the receiver went: it became the probe.
        let attempts = try await daemon.send("GET", "/api/v1/deliveries/1/attempts", headers: Self.auth).body
        #expect(attempts.contains(#""outcome":"retry""#) && attempts.contains(#""outcome":"ok""#), "\(attempts)")
    }

    /// The SMTP server down and back: every mail arrives.
    @Test func smtpServerOutageLosesNothing() async throws {
        let directory = try Repository.temporaryDirectory("herald-outage-smtp")
        let certificates = try await TestCertificates(directory: directory)
        var server = try await SMTPServer(directory: directory, certificates: certificates)
        let port = server.port
        let daemon = try await Daemon(config: """
            teams: [{name: ops, tokens: [ops-token]}]
            endpoints:
              - {name: mail, team: ops, channel: email, probe_backoff: 500ms, max_probe_backoff: 2s,
                 config: {server: "smtp://127.0.0.1:\(port)", ca_file: "\(certificates.caFile.path)",
                          from: "herald@example.com", to: ["ops@example.com"], subject: "{{ id }}"}}
            policies: [{name: all, team: ops, endpoints: [mail]}]
            """, directory: directory)
        defer { daemon.stop() }
        func batch(_ range: Range<Int>) -> String {
            #"{"events":[\#(range.map { #"{"id":"m-\#($0)","name":"Mail","level":"Critical","object_id":"o\#($0)"}"# }.joined(separator: ","))]}"#
        }
        #expect(try await daemon.send("POST", "/api/v1/events", body: batch(0..<20), headers: Self.auth).status == 202)
        try await waitUntil(timeout: 20, "the first 20 mails") { try server.mails().count >= 20 }
        server.stop()
        #expect(try await daemon.send("POST", "/api/v1/events", body: batch(20..<60), headers: Self.auth).status == 202)
        try await waitUntil(timeout: 20, "the endpoint down") {
            try await Self.health(daemon, endpoint: "mail")["state"] as? String == "down"
        }
        try await Task.sleep(for: .seconds(3))
        server = try await SMTPServer(directory: directory, certificates: certificates, port: port)
        defer { server.stop() }
        try await waitUntil(timeout: 60, "all 60 mails") { Set(try server.mails().compactMap { $0.headers["Subject"] }).count >= 60 }
        let subjects = try server.mails().compactMap { $0.headers["Subject"] }
        print("smtp outage: \(Set(subjects).count) distinct mails, \(subjects.count - Set(subjects).count) repeated")
        #expect(Set(subjects) == Set((0..<60).map { "m-\($0)" }))
        #expect(try await Self.deliveries(daemon, status: "dead").isEmpty)
        #expect(daemon.log.contains("Endpoint back up"))
    }

    /// kill -9 while deliveries are held: after the restart they are still
    /// held (the endpoint starts down, probing), not dead, and are
    /// delivered when the receiver returns.
    @Test func heldDeliveriesSurviveKill9() async throws {
        let directory = try Repository.temporaryDirectory("herald-outage-kill")
        var receiver = try await HTTPReceiver(directory: directory)
        let port = receiver.port
        receiver.stop()
        let daemon = try await Daemon(config: """
            teams: [{name: ops, tokens: [ops-token]}]
            endpoints:
              - {name: hook, team: ops, channel: http, retries: 1, probe_backoff: 500ms, max_probe_backoff: 1s,
                 config: {url: "http://127.0.0.1:\(port)/k/{{ id }}"}}
            policies: [{name: all, team: ops, endpoints: [hook]}]
            """, directory: directory)
        let events = (0..<50).map { #"{"id":"k-\#($0)","name":"Kill","level":"Critical","object_id":"o\#($0)"}"# }
        #expect(try await daemon.send("POST", "/api/v1/events", body: #"{"events":[\#(events.joined(separator: ","))]}"#,
                                      headers: Self.auth).status == 202)
        try await waitUntil(timeout: 20, "the endpoint down") {
            try await Self.health(daemon, endpoint: "hook")["state"] as? String == "down"
        }
        daemon.kill9()
        try await daemon.start()
        defer { daemon.stop() }
        #expect(try await Self.health(daemon, endpoint: "hook")["state"] as? String == "down", "down again at once")
        try await Task.sleep(for: .seconds(2))
        #expect(try await Self.deliveries(daemon, status: "dead").isEmpty, "held, not dead (retries: 1)")
        receiver = try await HTTPReceiver(directory: directory, port: port)
        defer { receiver.stop() }
        try await waitUntil(timeout: 30, "all 50 after the restart") { Set(try await receiver.requests().map(\.path)).count >= 50 }
        #expect(try await Self.deliveries(daemon, status: "dead").isEmpty)
    }
}
