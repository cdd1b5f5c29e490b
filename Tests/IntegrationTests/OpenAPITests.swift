import Foundation
import HeraldTesting
import Testing

/// The OpenAPI document holds every route the daemon serves and nothing
/// else, and every route answers as it says: each documented operation is
/// called, and each answer's status and body are checked against the
/// document by an independent reader (PyYAML and jsonschema). Bad tokens
/// and other teams' items are tried on every route of the router's own
/// table, so a new route cannot be missed.
@Suite(.timeLimit(.minutes(3)))
struct OpenAPITests {
    struct Exchange: Encodable {
        let method: String
        let template: String
        let status: Int
        let content_type: String?
        let body: String
    }

    final class Recorder: @unchecked Sendable {
        // `@unchecked Sendable`: used from the one test task only, in order.
        var exchanges: [Exchange] = []
        let daemon: Daemon

        init(_ daemon: Daemon) { self.daemon = daemon }

        @discardableResult
        func call(_ method: String, _ template: String, path: String? = nil, token: String? = nil,
                  headers: [String: String] = [:], body: String? = nil) async throws -> (status: Int, body: String) {
            var all = headers
            if let token { all["Authorization"] = "Bearer \(token)" }
            if body != nil && all["Content-Type"] == nil { all["Content-Type"] = "application/json" }
            let answer = try await HTTPClient.exchange(method, "http://127.0.0.1:\(daemon.port)\(path ?? template)", body: body, headers: all)
            exchanges.append(Exchange(method: method, template: template, status: answer.status,
                                      content_type: answer.headers["content-type"], body: answer.body))
            return (answer.status, answer.body)
        }
    }

    static func corpus(_ format: String, _ file: String) throws -> String {
        try String(contentsOf: Repository.root.appendingPathComponent("Tests/Fuzz/corpus/\(format)/\(file)"), encoding: .utf8)
    }

    @Test func everyRouteIsDocumentedAndAnswersAsItSays() async throws {
        let directory = try Repository.temporaryDirectory("herald-openapi")
        let receiver = try await HTTPReceiver(directory: directory)
        defer { receiver.stop() }
        let project = "0123456789abcdef0123456789abcdef"
        // A capture file as the PCAP channel names them (capturing itself needs root; listing does not).
        let captures = directory.appendingPathComponent("captures")
        try FileManager.default.createDirectory(at: captures, withIntermediateDirectories: true)
        let pcapHeader: [UInt8] = [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0]
        try Data(pcapHeader).write(to: captures.appendingPathComponent("capture-20261130T120000.000Z-0001.pcap"))
        let daemon = try await Daemon(config: """
            admin: {tokens: [admin-token]}
            teams:
              - {name: ops, tokens: [ops-token], project_ids: [\(project)]}
              - {name: dev, tokens: [dev-token]}
            endpoints:
              - {name: hook, team: ops, channel: http, config: {url: "\(receiver.baseURL)/ok/{{ id }}"}}
              - {name: refusing, team: ops, channel: http, retries: 0, config: {url: "\(receiver.baseURL)/status/400/{{ id }}"}}
              - {name: capture, team: ops, channel: pcap, config: {interface: lo, directory: "\(captures.path)"}}
            policies:
              - {name: all, team: ops, endpoints: [hook]}
              - {name: bad, team: ops, matchers: ['route="bad"'], endpoints: [refusing]}
            """, directory: directory)
        defer { daemon.stop() }
        let api = Recorder(daemon)

        // Ingest, in every format.
        try await api.call("POST", "/api/v1/events", token: "ops-token",
                           body: #"{"id":"e1","name":"A","level":"Critical","object_id":"o1","labels":{"route":"bad"}}"#)
        try await api.call("POST", "/api/v1/events", token: "ops-token", body: #"{"id":"e2"}"#)
        try await api.call("PUT", "/v2/{project_id}/push/events", path: "/v2/\(project)/push/events",
                           headers: ["X-Auth-Token": "ops-token", "Content-Type": "application/json"], body: try Self.corpus("huawei", "event.json"))
        try await api.call("POST", "/api/v1/ingest/aliyun", path: "/api/v1/ingest/aliyun?token=ops-token",
                           headers: ["Content-Type": "application/x-www-form-urlencoded"], body: try Self.corpus("aliyun", "alert.form"))
        try await api.call("POST", "/api/v1/ingest/tencent", path: "/api/v1/ingest/tencent?token=ops-token",
                           body: try Self.corpus("tencent", "firing.json"))
        let trigger = try Self.corpus("pagerduty", "trigger.json")
        try await api.call("POST", "/api/v1/ingest/pagerduty", body: trigger)
        try await api.call("POST", "/v2/enqueue", body: trigger.replacingOccurrences(of: "ops-token", with: "nope"))
        try await api.call("POST", "/api/v1/ingest/alertmanager", path: "/api/v1/ingest/alertmanager?token=ops-token",
                           body: try Self.corpus("alertmanager-webhook", "firing.json"))
        try await api.call("POST", "/api/v2/alerts", token: "ops-token", body: try Self.corpus("alertmanager-api", "firing.json"))

        // Operations.
        for path in ["/healthz", "/-/healthy", "/-/ready", "/metrics", "/api/v1/openapi.yaml"] { try await api.call("GET", path) }
        try await api.call("POST", "/-/reload")
        try await api.call("GET", "/api/v1/channels", token: "ops-token")
        try await api.call("GET", "/api/v1/whoami", token: "ops-token")
        try await api.call("GET", "/api/v1/whoami", token: "admin-token")

        // The console's files.
        // "/" redirects, which URLSession would follow: curl tells what it answered.
        let root = try ChildProcess.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                                                          "http://127.0.0.1:\(daemon.port)/"])
        #expect(root == "302 http://127.0.0.1:\(daemon.port)/ui/", "\(root)")
        api.exchanges.append(Exchange(method: "GET", template: "/", status: Int(root.prefix(3)) ?? 0, content_type: nil, body: ""))
        try await api.call("GET", "/ui")
        try await api.call("GET", "/ui/{file}", path: "/ui/app.js")
        try await api.call("GET", "/ui/{file}", path: "/ui/console.css")
        try await api.call("GET", "/ui/{file}", path: "/ui/no-such-file.js")

        // Teams, endpoints, policies through their whole life.
        try await api.call("GET", "/api/v1/teams", token: "admin-token")
        try await api.call("POST", "/api/v1/teams", token: "admin-token", body: #"{"name":"sre"}"#)
        try await api.call("POST", "/api/v1/teams", token: "ops-token", body: #"{"name":"sre2"}"#)
        try await api.call("GET", "/api/v1/teams/{name}", path: "/api/v1/teams/ops", token: "ops-token")
        try await api.call("DELETE", "/api/v1/teams/{name}", path: "/api/v1/teams/sre", token: "admin-token")
        try await api.call("GET", "/api/v1/endpoints", token: "ops-token")
        let endpoint = #"{"name":"made","channel":"http","push_cycle":"5m","config":{"url":"\#(receiver.baseURL)/made/{{ id }}"}}"#
        try await api.call("POST", "/api/v1/endpoints", token: "ops-token", body: endpoint)
        try await api.call("POST", "/api/v1/endpoints", token: "ops-token", body: #"{"name":"made2","channel":"http","config":{}}"#)
        try await api.call("GET", "/api/v1/endpoints/{name}", path: "/api/v1/endpoints/made", token: "ops-token")
        try await api.call("PUT", "/api/v1/endpoints/{name}", path: "/api/v1/endpoints/made", token: "ops-token",
                           body: endpoint.replacingOccurrences(of: "5m", with: "10m"))
        try await api.call("POST", "/api/v1/endpoints/{name}/test", path: "/api/v1/endpoints/made/test", token: "ops-token")
        try await api.call("GET", "/api/v1/endpoints/{name}/captures", path: "/api/v1/endpoints/capture/captures", token: "ops-token")
        try await api.call("GET", "/api/v1/endpoints/{name}/captures", path: "/api/v1/endpoints/made/captures", token: "ops-token")
        let file = "/api/v1/endpoints/capture/captures/capture-20261130T120000.000Z-0001.pcap"
        let download = try await api.call("GET", "/api/v1/endpoints/{name}/captures/{file}", path: file, token: "ops-token")
        #expect(download.status == 200 && !download.body.isEmpty)
        let outside = try await api.call("GET", "/api/v1/endpoints/{name}/captures/{file}",
                                         path: "/api/v1/endpoints/capture/captures/..%2Fherald.sqlite", token: "ops-token")
        #expect(outside.status == 404, "a path out of the capture folder: \(outside.status)")
        try await api.call("GET", "/api/v1/policies", token: "ops-token")
        try await api.call("POST", "/api/v1/policies", token: "ops-token", body: #"{"name":"to-made","endpoints":["made"]}"#)
        try await api.call("GET", "/api/v1/policies/{name}", path: "/api/v1/policies/to-made", token: "ops-token")
        try await api.call("PUT", "/api/v1/policies/{name}", path: "/api/v1/policies/to-made", token: "ops-token",
                           body: #"{"matchers":["service=\"api\""],"endpoints":["made"]}"#)
        try await api.call("GET", "/api/v1/endpoints/{name}/policies", path: "/api/v1/endpoints/made/policies", token: "ops-token")
        try await api.call("DELETE", "/api/v1/endpoints/{name}", path: "/api/v1/endpoints/made", token: "ops-token")
        try await api.call("DELETE", "/api/v1/policies/{name}", path: "/api/v1/policies/to-made", token: "ops-token")
        try await api.call("DELETE", "/api/v1/endpoints/{name}", path: "/api/v1/endpoints/made", token: "ops-token")

        // History.
        try await waitUntil(timeout: 15, "the dead letter") { try await OutageTests.deliveries(daemon, status: "dead").count >= 1 }
        try await api.call("GET", "/api/v1/events/{id}", path: "/api/v1/events/e1", token: "ops-token")
        try await api.call("GET", "/api/v1/deliveries", path: "/api/v1/deliveries?limit=5", token: "ops-token")
        let dead = try await OutageTests.deliveries(daemon, status: "dead")
        let id = try #require(dead.first?["id"] as? Int)
        try await api.call("GET", "/api/v1/deliveries/{id}/attempts", path: "/api/v1/deliveries/\(id)/attempts", token: "ops-token")
        try await api.call("POST", "/api/v1/deliveries/replay", token: "ops-token", body: #"{"ids":[\#(id)]}"#)

        // From the router's own table: every /api/v1 route but ingest's wants
        // a token, and an item of ops's is missing for dev.
        let routes = daemon.log.split(separator: "\n").filter { $0.hasSuffix("[herald] Route") }.compactMap { line -> [String]? in
            guard let method = line.range(of: "method="), let path = line.range(of: " path=") else { return nil }
            let end = line.range(of: " [herald]")?.lowerBound ?? line.endIndex
            return [String(line[method.upperBound..<path.lowerBound]), String(line[path.upperBound..<end])]
        }
        #expect(routes.count >= 30, "\(routes)")
        let ingest: Set<String> = ["/api/v1/events", "/api/v1/ingest/aliyun", "/api/v1/ingest/tencent", "/api/v1/ingest/pagerduty",
                                   "/api/v1/ingest/alertmanager", "/api/v1/openapi.yaml"]
        let samples = ["{name}": "hook", "{id}": "\(id)"]
        var guarded = 0
        for route in routes where route[1].hasPrefix("/api/v1/") && !(route[0] == "POST" && ingest.contains(route[1])) && !ingest.contains(route[1]) {
            let (method, template) = (route[0], route[1])
            var path = template.hasPrefix("/api/v1/teams/") ? template.replacingOccurrences(of: "{name}", with: "ops") : template
            for (parameter, value) in samples { path = path.replacingOccurrences(of: parameter, with: value) }
            if template == "/api/v1/events/{id}" { path = "/api/v1/events/e1" }
            let body = method == "GET" || method == "DELETE" ? nil : "{}"
            let anonymous = try await api.call(method, template, path: path, body: body)
            #expect(anonymous.status == 401, "\(method) \(path) without a token: \(anonymous.status)")
            let wrong = try await api.call(method, template, path: path, token: "not-a-token", body: body)
            #expect(wrong.status == 401, "\(method) \(path) with a wrong token: \(wrong.status)")
            if template.contains("{") && method != "POST" || template.hasSuffix("/test") {
                let other = try await api.call(method, template, path: path, token: "dev-token", body: body)
                // Deleting a team is an admin's: refused to any team's token, whichever team it names.
                let expected = method == "DELETE" && template == "/api/v1/teams/{name}" ? 403 : 404
                #expect(other.status == expected, "\(method) \(path) with another team's token: \(other.status) \(other.body)")
            }
            guarded += 1
        }
        #expect(guarded >= 20)

        // The checks, by a reader that is not Herald's.
        let document = directory.appendingPathComponent("openapi.yaml")
        try api.exchanges.first { $0.template == "/api/v1/openapi.yaml" }.map { try $0.body.write(to: document, atomically: true, encoding: .utf8) }
        let routesFile = directory.appendingPathComponent("routes.json")
        let exchangesFile = directory.appendingPathComponent("exchanges.json")
        try JSONEncoder().encode(routes).write(to: routesFile)
        try JSONEncoder().encode(api.exchanges).write(to: exchangesFile)
        let (status, output) = try ChildProcess.runToEnd("/usr/bin/python3", [
            Repository.root.appendingPathComponent("Tests/peers/check_openapi.py").path, document.path, routesFile.path, exchangesFile.path])
        print(output.split(separator: "\n").last.map(String.init) ?? "")
        #expect(status == 0, "\(output)")
        // The document served is the one kept in the repository.
        let kept = try String(contentsOf: Repository.root.appendingPathComponent("Sources/HeraldAPI/openapi.yaml"), encoding: .utf8)
        #expect(try String(contentsOf: document, encoding: .utf8) == kept)
    }
}
