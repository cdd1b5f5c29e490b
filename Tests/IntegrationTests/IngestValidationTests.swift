import Foundation
import HeraldTesting
import Testing

/// Bad input gets a 4xx naming the field, and nothing of it is stored.
@Suite(.timeLimit(.minutes(2)))
struct IngestValidationTests {
    static let config = """
        teams:
          - name: ops
            tokens: [ops-token]
            project_ids: [p1]
          - name: dev
            tokens: [dev-token]
            project_ids: [p2]
        endpoints:
          - name: file
            team: ops
            channel: file
            levels: [Critical, Error, Warning, Info, Recovery]
            config: {path: "/dev/null"}
        policies:
          - name: all
            team: ops
            endpoints: [file]
        """

    static let metadata = #""event_name":"E","event_severity":"Major","event_type":"alarm","resource_provider":"ECS","resource_type":"vm","resource_id":"vm-1""#

    @Test(arguments: [
        ("POST", "/api/v1/events", #"{"level":"Critical","object_id":"x"}"#, 400, "name"),
        ("POST", "/api/v1/events", #"{"name":"n","level":"Fatal","object_id":"x"}"#, 400, "level"),
        ("POST", "/api/v1/events", #"{"name":"n","level":"Info","object_id":"x","labels":{"a":1}}"#, 400, "labels.a"),
        ("POST", "/api/v1/events", #"{"events":[{"name":"n","level":"Info","object_id":"x"},{"name":"n","level":"Info"}]}"#, 400, "events[1].object_id"),
        ("POST", "/api/v1/events", #"{"name":"n","level":"Info","object_id":"x","timeout":"soon"}"#, 400, "timeout"),
        ("POST", "/api/v1/events", #"{"name":"n","level":"Info","object_id":"x","starts_at":"yesterday"}"#, 400, "starts_at"),
        ("POST", "/api/v1/events", #"{"name":"n","#, 400, "body"),
        ("PUT", "/v2/p1/push/events", #"{"events":[{"metadata":{"event_name":"E"}}]}"#, 400, "events[0].metadata.event_severity"),
        ("PUT", "/v2/p1/push/events", #"{"events":[{"metadata":{\#(metadata.replacingOccurrences(of: "Major", with: "Huge"))}}]}"#, 400, "events[0].metadata.event_severity"),
        ("PUT", "/v2/p1/push/events", #"{"events":[{"starts_at":"now","metadata":{\#(metadata)}}]}"#, 400, "events[0].starts_at"),
        ("PUT", "/v2/p1/push/events", #"{"events":[]}"#, 400, "events"),
        // Repeated keys mean different alerts to different parsers: refused, naming the key.
        ("POST", "/api/v1/events", #"{"name":"a","level":"Info","object_id":"x","name":"b"}"#, 400, "name"),
        ("POST", "/api/v1/events", #"{"events":[{"name":"a","level":"Info","object_id":"x","labels":{"k":"1","\u006b":"2"}}]}"#, 400, "events[0].labels.k"),
        ("PUT", "/v2/p1/push/events", #"{"events":[{"metadata":{\#(metadata),"event_name":"F"}}]}"#, 400, "events[0].metadata.event_name"),
        // The PushEvents seed: string maps, integer times in range, ends_at not before starts_at.
        ("PUT", "/v2/p1/push/events", #"{"events":[{"annotations":{"n":1},"metadata":{\#(metadata)}}]}"#, 400, "events[0].annotations.n"),
        ("PUT", "/v2/p1/push/events", #"{"events":[{"attach_rule":{"policy_id":["a"]},"metadata":{\#(metadata)}}]}"#, 400, "events[0].attach_rule.policy_id"),
        ("PUT", "/v2/p1/push/events", #"{"events":[{"starts_at":1700000000000,"ends_at":1600000000000,"metadata":{\#(metadata)}}]}"#, 400, "events[0].ends_at"),
        ("PUT", "/v2/p1/push/events", #"{"events":[{"starts_at":1.5e20,"metadata":{\#(metadata)}}]}"#, 400, "events[0].starts_at"),
        ("PUT", "/v2/p1/push/events", #"{"events":[{"timeout":600000.5,"metadata":{\#(metadata)}}]}"#, 400, "events[0].timeout"),
        ("POST", "/api/v1/events", #"{"name":"n","level":"Info","object_id":"x","starts_at":"1969-12-31T23:59:59Z"}"#, 400, "starts_at"),
    ])
    func malformedInputIsRefusedNamingTheField(method: String, path: String, body: String, status: Int,
                                               field: String) async throws {
        let directory = try Repository.temporaryDirectory("herald-ingest")
        let daemon = try await Daemon(config: Self.config, directory: directory)
        defer { daemon.stop() }
        let bearer = ["Authorization": "Bearer ops-token"]
        // A good event first, so the listing below can tell "stored nothing" from "lists nothing".
        let good = #"{"id":"good","name":"n","level":"Critical","object_id":"x"}"#
        #expect(try await daemon.send("POST", "/api/v1/events", body: good, headers: bearer).status == 202)
        let token = path.hasPrefix("/v2") ? ["X-Auth-Token": "ops-token", "Content-Type": "application/json"] : bearer
        let answer = try await daemon.send(method, path, body: body, headers: token)
        #expect(answer.status == status)
        let error = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: [String: String]]
        #expect(error?["error"]?["field"] == field, "\(answer.body)")
        let stored = try await daemon.send("GET", "/api/v1/deliveries", headers: bearer)
        #expect(Self.eventIDs(stored.body) == ["good"], "nothing of a refused request is stored")
    }

    @Test func invalidUTF8AndOversizeBodiesAreRefused() async throws {
        let directory = try Repository.temporaryDirectory("herald-ingest")
        let daemon = try await Daemon(config: Self.config, directory: directory)
        defer { daemon.stop() }
        let auth = ["Authorization": "Bearer ops-token"]
        // URLSession would re-encode a String; send raw bytes with curl instead.
        let raw = directory.appendingPathComponent("latin1.json")
        try Data([0x7B, 0x22, 0x6E, 0x22, 0x3A, 0x22, 0xE9, 0x22, 0x7D]).write(to: raw)
        let output = try ChildProcess.run("/usr/bin/curl", ["-s", "-o", "-", "-w", " %{http_code}", "-X", "POST",
                                                            "-H", "Authorization: Bearer ops-token",
                                                            "--data-binary", "@\(raw.path)",
                                                            "http://127.0.0.1:\(daemon.port)/api/v1/events"])
        #expect(output.hasSuffix(" 400"), "\(output)")
        #expect(output.contains("not valid UTF-8"))
        let big = String(repeating: "x", count: 2 << 20)
        let oversize = try await daemon.send("POST", "/api/v1/events", body: big, headers: auth)
        #expect(oversize.status == 413)
    }

    /// Seed 004 lists `Content-Type: application/json` as mandatory.
    @Test(arguments: [nil, "text/plain", "application/x-www-form-urlencoded"])
    func huaweiNeedsJSONContentType(contentType: String?) async throws {
        let directory = try Repository.temporaryDirectory("herald-ingest")
        let daemon = try await Daemon(config: Self.config, directory: directory)
        defer { daemon.stop() }
        let body = #"{"events":[{"metadata":{\#(Self.metadata)}}]}"#
        // curl, as URLSession adds a form Content-Type to any body.
        var arguments = ["-s", "-o", "-", "-w", " %{http_code}", "-X", "PUT", "-H", "X-Auth-Token: ops-token",
                         "--data-binary", body, "http://127.0.0.1:\(daemon.port)/v2/p1/push/events"]
        arguments += ["-H", "Content-Type: \(contentType ?? "")"]
        let output = try await ChildProcess.runOffPool("/usr/bin/curl", arguments)
        #expect(output.hasSuffix(" 415"), "\(output)")
        #expect(output.contains(#""field":"Content-Type""#), "\(output)")
        let charset = try await daemon.send("PUT", "/v2/p1/push/events", body: body,
                                            headers: ["X-Auth-Token": "ops-token", "Content-Type": "Application/JSON; charset=utf-8"])
        #expect(charset.status == 204, "parameters and case do not matter: \(charset)")
    }

    /// The timeout that once killed the daemon (an overflow on a valid Long):
    /// accepted, clamped, and the daemon goes on answering.
    @Test func hugeHuaweiTimeoutIsClampedAndTheDaemonStaysUp() async throws {
        let directory = try Repository.temporaryDirectory("herald-ingest")
        let daemon = try await Daemon(config: Self.config, directory: directory)
        defer { daemon.stop() }
        let body = #"{"events":[{"timeout":9223372036854775807,"metadata":{\#(Self.metadata)}}]}"#
        let answer = try await daemon.send("PUT", "/v2/p1/push/events", body: body,
                                           headers: ["X-Auth-Token": "ops-token", "Content-Type": "application/json"])
        #expect(answer.status == 204, "\(answer)")
        #expect(try await daemon.send("GET", "/healthz").status == 200)
        let stored = try await daemon.send("GET", "/api/v1/deliveries", headers: ["Authorization": "Bearer ops-token"])
        #expect(Self.eventIDs(stored.body).count == 1)
    }

    /// Ids with quotes, backslashes, control characters and non-ASCII come
    /// back in the answer as sent, as JSON any parser reads.
    @Test func hostileIdsAreAnsweredAsValidJSON() async throws {
        let directory = try Repository.temporaryDirectory("herald-ingest")
        let daemon = try await Daemon(config: Self.config, directory: directory)
        defer { daemon.stop() }
        let ids = ["a\"b", "back\\slash", "line\nbreak\r\n", "tab\tnul\u{1}", "ünï😀", "</script>", "\u{2028}"]
        let events = ids.map { ["id": $0, "name": "n", "level": "Info", "object_id": "x"] }
        let body = String(decoding: try JSONSerialization.data(withJSONObject: ["events": events]), as: UTF8.self)
        let answer = try await daemon.send("POST", "/api/v1/events", body: body, headers: ["Authorization": "Bearer ops-token"])
        #expect(answer.status == 202, "\(answer)")
        // Python's json module: an independent reader of the answer.
        let file = directory.appendingPathComponent("answer.json")
        try answer.body.write(to: file, atomically: true, encoding: .utf8)
        let read = try await ChildProcess.runOffPool("/usr/bin/python3", ["-c", "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))['ids']))", file.path])
        let parsed = try JSONSerialization.jsonObject(with: Data(read.utf8)) as? [String]
        #expect(parsed == ids)
    }

    @Test func tokensAreCheckedPerTeamAndProject() async throws {
        let directory = try Repository.temporaryDirectory("herald-ingest")
        let daemon = try await Daemon(config: Self.config, directory: directory)
        defer { daemon.stop() }
        let event = #"{"name":"n","level":"Critical","object_id":"x"}"#
        #expect(try await daemon.send("POST", "/api/v1/events", body: event).status == 401)
        #expect(try await daemon.send("POST", "/api/v1/events", body: event,
                                      headers: ["Authorization": "Bearer nope"]).status == 401)
        let huawei = #"{"events":[{"metadata":{\#(Self.metadata)}}]}"#
        // dev's token is not valid for ops' project.
        #expect(try await daemon.send("PUT", "/v2/p1/push/events", body: huawei,
                                      headers: ["X-Auth-Token": "dev-token", "Content-Type": "application/json"]).status == 401)
        #expect(try await daemon.send("PUT", "/v2/p1/push/events", body: huawei,
                                      headers: ["X-Auth-Token": "ops-token", "Content-Type": "application/json"]).status == 204)
        // Teams see only their own deliveries.
        let devView = try await daemon.send("GET", "/api/v1/deliveries", headers: ["Authorization": "Bearer dev-token"])
        #expect(Self.eventIDs(devView.body) == [])
        let opsView = try await daemon.send("GET", "/api/v1/deliveries", headers: ["Authorization": "Bearer ops-token"])
        #expect(Self.eventIDs(opsView.body).count == 1)
    }

    /// The event ids of a deliveries listing.
    static func eventIDs(_ body: String) -> [String] {
        ((try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [[String: Any]] ?? []).compactMap {
            $0["event_id"] as? String
        }
    }

    /// A template that does not parse is a config error naming the file,
    /// the line and the field, not an empty body at run time.
    @Test func badTemplateIsAConfigError() throws {
        let directory = try Repository.temporaryDirectory("herald-config")
        let file = directory.appendingPathComponent("template.yaml")
        try """
            plugins:
              directories: ["\(Repository.plugins.path)"]
            teams:
              - name: ops
            endpoints:
              - name: out
                team: ops
                channel: file
                config:
                  path: /dev/null
                  line: "{{ name | nosuchfilter }}"
            """.write(to: file, atomically: true, encoding: .utf8)
        let (status, output) = try ChildProcess.runToEnd(Repository.herald.path, ["check", file.path])
        #expect(status != 0)
        #expect(output.contains("template.yaml:11:") && output.contains("endpoints[0].config.line: template"), "\(output)")
    }

    @Test func configErrorNamesFileLineAndField() throws {
        let directory = try Repository.temporaryDirectory("herald-config")
        let file = directory.appendingPathComponent("bad.yaml")
        try """
            plugins:
              directories: ["\(Repository.plugins.path)"]
            teams:
              - name: ops
            endpoints:
              - name: hook
                team: ops
                channel: http
                config:
                  url: http://127.0.0.1:1/x
                  method: DELETE
            """.write(to: file, atomically: true, encoding: .utf8)
        let (status, output) = try ChildProcess.runToEnd(Repository.herald.path,
                                                         ["plugins", "check", "--config", file.path])
        #expect(status != 0)
        #expect(output.contains("bad.yaml:11:"), "\(output)")
        #expect(output.contains("endpoints[0].config.method"), "\(output)")
    }
}
