import Foundation
import HeraldTesting
import Testing

/// The daemon as a process, events in through both ingest APIs, out through
/// the HTTP plugin to real HTTP and HTTPS receivers.
@Suite(.timeLimit(.minutes(3)))
struct DaemonHTTPTests {
    static let token = "t0ken-ops"
    static let project = "0123456789abcdef0123456789abcdef"
    static let auth = ["Authorization": "Bearer \(token)", "Content-Type": "application/json"]

    /// A config with one endpoint per receiver behaviour, each behind a
    /// policy that matches on the `route` label.
    static func config(receiver: HTTPReceiver, tls: HTTPReceiver, caFile: URL) -> String {
        // One endpoint per line, in YAML's flow (JSON) style.
        func endpoint(_ name: String, _ url: String, extra: String = "", config: String = "") -> String {
            #"  - {name: \#(name), team: ops, channel: http, backoff: 100ms\#(extra), config: {url: "\#(url)"\#(config)}}"#
        }
        let endpoints = [
            endpoint("plain", "\(receiver.baseURL)/alerts/{{ policy_level }}?object={{ object_id }}",
                     config: #", method: put, headers: {X-Team: ops, X-Trace: "abc"}, "#
                        + #"body: '{"name":"{{ name }}","level":"{{ level }}","summary":{{ annotations.summary | tojson }}}'"#),
            endpoint("tls", "HTTPS://127.0.0.1:\(tls.port)/secure", config: ", ca_file: \(caFile.path)"),
            endpoint("flaky", "\(receiver.baseURL)/status/503,503,200"),
            endpoint("hangs", "\(receiver.baseURL)/hang", extra: ", timeout: 1s, retries: 0"),
            endpoint("refuses", "\(receiver.baseURL)/status/400"),
            endpoint("untrusted", "https://127.0.0.1:\(tls.port)/untrusted", extra: ", retries: 0"),
            endpoint("slowdown", "\(receiver.baseURL)/retry-after/2"),
            endpoint("clears", "\(receiver.baseURL)/clears"),
        ]
        let policies = ["plain", "tls", "flaky", "hangs", "refuses", "untrusted", "slowdown", "clears"].map { name in
            #"  - {name: to-\#(name), team: ops, matchers: ['route="\#(name)"'], endpoints: [\#(name)]}"#
        }
        return """
            teams:
              - name: ops
                tokens: [\(token)]
                project_ids: [\(project)]
            endpoints:
            \(endpoints.joined(separator: "\n"))
            policies:
            \(policies.joined(separator: "\n"))
            """
    }

    static func event(route: String, name: String = "HighCPU", object: String = "host-1") -> String {
        #"{"name":"\#(name)","level":"Critical","object_id":"\#(object)","labels":{"route":"\#(route)"},"annotations":{"summary":"CPU \"97%\""}}"#
    }

    final class Setup: Sendable {
        let directory: URL
        let receiver: HTTPReceiver
        let tls: HTTPReceiver
        let certificates: TestCertificates
        let daemon: Daemon

        init() async throws {
            directory = try Repository.temporaryDirectory("herald-http")
            certificates = try await TestCertificates(directory: directory)
            let receiver = try await HTTPReceiver(directory: directory)
            let tls: HTTPReceiver
            do {
                tls = try await HTTPReceiver(directory: directory, cert: certificates.certFile, key: certificates.keyFile)
            } catch {
                receiver.stop()
                throw error
            }
            do {
                daemon = try await Daemon(config: DaemonHTTPTests.config(receiver: receiver, tls: tls,
                                                                         caFile: certificates.caFile),
                                          directory: directory)
            } catch {
                receiver.stop()
                tls.stop()
                throw error
            }
            self.receiver = receiver
            self.tls = tls
        }

        func requests(path prefix: String) async throws -> [RecordedRequest] {
            try await receiver.requests().filter { $0.path.hasPrefix(prefix) }
        }

        /// Waits until the endpoint has a dead letter; returns the dead-letter listing.
        func deadLetters(of endpoint: String) async throws -> String {
            var dead = ""
            try await waitUntil(timeout: 10, "a dead letter of \(endpoint)") {
                dead = try await daemon.send("GET", "/api/v1/deliveries?status=dead", headers: DaemonHTTPTests.auth).body
                return dead.contains(#""endpoint":"\#(endpoint)""#)
            }
            return dead
        }

        func stop() {
            daemon.stop()
            receiver.stop()
            tls.stop()
        }
    }

    @Test func nativeEventArrivesWithMethodHeadersURLAndBody() async throws {
        let setup = try await Setup()
        defer { setup.stop() }
        let answer = try await setup.daemon.send("POST", "/api/v1/events", body: Self.event(route: "plain"),
                                                 headers: Self.auth)
        #expect(answer.status == 202)
        try await waitUntil(timeout: 10, "the delivery") { try await !setup.requests(path: "/alerts").isEmpty }
        let request = try #require(try await setup.requests(path: "/alerts").first)
        #expect(request.method == "PUT")
        #expect(request.path == "/alerts/Critical?object=host-1")
        #expect(request.header("X-Team") == "ops")
        #expect(request.header("X-Trace") == "abc")
        #expect(request.header("Content-Type") == "application/json")
        #expect(request.header("Idempotency-Key")?.hasPrefix("herald-") == true)
        #expect(request.body == #"{"name":"HighCPU","level":"Critical","summary":"CPU \"97%\""}"#)
    }

    @Test func huaweiEventArrivesOverHTTPSWithTheDefaultBody() async throws {
        let setup = try await Setup()
        defer { setup.stop() }
        let body = """
            {"events":[{"starts_at":1700000000000,"timeout":60000,"id":"hw-1",
              "metadata":{"event_name":"DiskFull","event_severity":"Major","event_type":"alarm",
                          "resource_provider":"ECS","resource_type":"vm","resource_id":"vm-7","route":"tls"},
              "annotations":{"message":"disk 95%"}}]}
            """
        let answer = try await setup.daemon.send("PUT", "/v2/\(Self.project)/push/events", body: body,
                                                 headers: ["X-Auth-Token": Self.token, "Content-Type": "application/json"])
        #expect(answer.status == 204)
        var arrived: [RecordedRequest] = []
        try await waitUntil(timeout: 10, "the HTTPS delivery") {
            arrived = try await setup.tls.requests(caFile: setup.certificates.caFile).filter { $0.path == "/secure" }
            return !arrived.isEmpty
        }
        let request = try #require(arrived.first)
        #expect(request.method == "POST")
        let event = try JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: Any]
        #expect(event?["name"] as? String == "DiskFull")
        #expect(event?["level"] as? String == "Error") // Major maps to Error
        #expect(event?["object_id"] as? String == "vm-7")
        #expect(event?["id"] as? String == "hw-1")
        #expect(event?["starts_at"] as? String == "2023-11-14T22:13:20.000Z")
        #expect((event?["annotations"] as? [String: String])?["message"] == "disk 95%")

        // Clearing it sends the recovery.
        let clear = try await setup.daemon.send("PUT", "/v2/\(Self.project)/push/events?action=clear",
                                                body: body.replacingOccurrences(of: "\"starts_at\":1700000000000,", with: ""),
                                                headers: ["X-Auth-Token": Self.token, "Content-Type": "application/json"])
        #expect(clear.status == 204)
        try await waitUntil(timeout: 10, "the recovery") {
            arrived = try await setup.tls.requests(caFile: setup.certificates.caFile).filter { $0.path == "/secure" }
            return arrived.count == 2
        }
        let recovery = try JSONSerialization.jsonObject(with: Data(arrived[1].body.utf8)) as? [String: Any]
        #expect(recovery?["level"] as? String == "Recovery")
        #expect(recovery?["previous_level"] as? String == "Error")
    }

    @Test func receiverAnswering503TwiceGetsExactlyThreeAttempts() async throws {
        let setup = try await Setup()
        defer { setup.stop() }
        _ = try await setup.daemon.send("POST", "/api/v1/events", body: Self.event(route: "flaky"), headers: Self.auth)
        try await waitUntil(timeout: 15, "three attempts") { try await setup.requests(path: "/status/503").count >= 3 }
        try await Task.sleep(for: .seconds(1)) // room for a wrong fourth attempt
        #expect(try await setup.requests(path: "/status/503").count == 3)
        let deliveries = try await setup.daemon.send("GET", "/api/v1/deliveries", headers: Self.auth)
        #expect(deliveries.body.contains(#""attempts":3"#) && deliveries.body.contains(#""status":"delivered""#))
    }

    @Test func hangingReceiverIsCutAtTheTimeout() async throws {
        let setup = try await Setup()
        defer { setup.stop() }
        _ = try await setup.daemon.send("POST", "/api/v1/events", body: Self.event(route: "hangs"), headers: Self.auth)
        let summary = try await setup.deadLetters(of: "hangs")
        #expect(summary.contains("Timeout") || summary.contains("timed out"))
        // The attempt as the daemon recorded it: cut at the 1 s timeout, not the 30 s answer.
        let dead = try #require(try JSONSerialization.jsonObject(with: Data(summary.utf8)) as? [[String: Any]])
        let id = try #require(dead.first { $0["endpoint"] as? String == "hangs" }?["id"] as? Int)
        let attempts = try await setup.daemon.send("GET", "/api/v1/deliveries/\(id)/attempts", headers: Self.auth)
        let attempt = try #require((try JSONSerialization.jsonObject(with: Data(attempts.body.utf8)) as? [[String: Any]])?.first)
        // Times in RFC 3339, read with Foundation's own ISO 8601 parser.
        let started = try #require((attempt["started_at"] as? String).flatMap { try? Date($0, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) })
        let finished = try #require((attempt["finished_at"] as? String).flatMap { try? Date($0, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) })
        let duration = finished.timeIntervalSince(started)
        #expect(abs(duration - (attempt["duration_seconds"] as? Double ?? -1)) < 0.01)
        #expect(duration >= 0.9 && duration < 3, "attempt took \(duration) s")
    }

    @Test func http400GoesToDeadLetterAfterOneTry() async throws {
        let setup = try await Setup()
        defer { setup.stop() }
        _ = try await setup.daemon.send("POST", "/api/v1/events", body: Self.event(route: "refuses"), headers: Self.auth)
        let dead = try await setup.deadLetters(of: "refuses")
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await setup.requests(path: "/status/400").count == 1)
        #expect(dead.contains("HTTP 400: answer 400"))

        // A replay sends the dead letter once more.
        let replay = try await setup.daemon.send("POST", "/api/v1/deliveries/replay", body: "{}", headers: Self.auth)
        #expect(replay.body == #"{"replayed":1}"#)
        try await waitUntil(timeout: 10, "the replayed attempt") { try await setup.requests(path: "/status/400").count == 2 }
    }

    @Test func retryAfterFromTheReceiverIsHonoured() async throws {
        let setup = try await Setup()
        defer { setup.stop() }
        _ = try await setup.daemon.send("POST", "/api/v1/events", body: Self.event(route: "slowdown"), headers: Self.auth)
        try await waitUntil(timeout: 15, "the retry") { try await setup.requests(path: "/retry-after").count >= 2 }
        let attempts = try await setup.requests(path: "/retry-after")
        // 429 with Retry-After: 2, where the endpoint's own backoff would wait about 0.1 s.
        #expect(attempts[1].time - attempts[0].time >= 1.9)
    }

    @Test func huaweiAlarmPastItsTimeoutIsClearedWithARecovery() async throws {
        let setup = try await Setup()
        defer { setup.stop() }
        let body = """
            {"events":[{"timeout":1000,"metadata":{"event_name":"Stale","event_severity":"Critical","event_type":"alarm",
              "resource_provider":"ECS","resource_type":"vm","resource_id":"vm-9","route":"clears"}}]}
            """
        let sentAt = Date().timeIntervalSince1970
        let answer = try await setup.daemon.send("PUT", "/v2/\(Self.project)/push/events", body: body,
                                                 headers: ["X-Auth-Token": Self.token, "Content-Type": "application/json"])
        #expect(answer.status == 204)
        var arrived: [RecordedRequest] = []
        try await waitUntil(timeout: 10, "the auto-clear recovery") {
            arrived = try await setup.requests(path: "/clears")
            return arrived.count == 2
        }
        let levels = arrived.compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.body.utf8)) as? [String: Any])?["level"] as? String
        }
        #expect(levels == ["Critical", "Recovery"])
        #expect(arrived[1].body.contains(#""herald_auto_cleared":"true""#))
        #expect(arrived[1].time - sentAt >= 1, "not before its 1 s timeout")
    }

    @Test func certificateFromAnUnknownCAIsNotTrusted() async throws {
        let setup = try await Setup()
        defer { setup.stop() }
        _ = try await setup.daemon.send("POST", "/api/v1/events", body: Self.event(route: "untrusted"), headers: Self.auth)
        let dead = try await setup.deadLetters(of: "untrusted")
        #expect(dead.lowercased().contains("certificate") || dead.contains("SSL"))
        #expect(try await setup.tls.requests(caFile: setup.certificates.caFile).filter { $0.path == "/untrusted" }.isEmpty)
    }
}
