import Foundation
import HeraldCore
import HeraldPluginHost
import HeraldConformance
import HeraldTesting
import Logging
import Testing

/// The PagerDuty adapter against a receiver that enforces the Events API v2
/// schema and answers as PagerDuty does (202, 400, 429).
@Suite(.timeLimit(.minutes(2)))
struct PagerDutyChannelTests {
    static let library = Repository.plugins.appendingPathComponent("libHeraldPagerDuty.so")
    static let key = "0123456789abcdef0123456789abcdef"

    static func load() throws -> LoadedPlugin { try PluginLoader(logger: Logger(label: "test")).load(file: library.path) }

    static func config(_ receiver: HTTPReceiver, path: String = "/pagerduty/v2/enqueue", key: String = key,
                       _ extra: [String: JSONValue] = [:]) -> JSONValue {
        .object(["routing_key": .string(key), "url": .string(receiver.baseURL + path)].merging(extra) { $1 })
    }

    static func json(_ body: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
    }

    @Test func pagerDutyPluginConforms() async throws {
        let receiver = try await HTTPReceiver(directory: try Repository.temporaryDirectory("herald-pd"))
        defer { receiver.stop() }
        let problems = await PluginConformance.check(try Self.load(), validConfig: Self.config(receiver),
                                                     invalidConfig: Self.config(receiver, key: Self.key + "x"))
        #expect(problems.isEmpty, "\(problems)")
        // The exactly-once rule's 20 submissions arrived once each (the kit sends others too).
        let bodies = try await receiver.requests().map(\.body)
        for object in Conformance.objects {
            #expect(bodies.filter { $0.contains(#""source":""# + object + #"""#) }.count == 1, "\(object)")
        }
    }

    /// Every documented field, its type and value, for the trigger and the
    /// resolve; both under one dedup_key.
    @Test func triggerThenResolveShareOneDedupKey() async throws {
        let receiver = try await HTTPReceiver(directory: try Repository.temporaryDirectory("herald-pd"))
        defer { receiver.stop() }
        let config = Self.config(receiver, ["fields": .object(["component": .string("labels.service")])])
        let instance = try Self.load().open(config: config)
        defer { instance.close() }
        let labels = ["service": "checkout", "region": "eu-1"]
        let annotations = ["summary": "p99 over 2 s", "runbook_url": "https://runbooks.example/latency",
                           "image_url": "https://grafana.example/render/latency.png"]
        let start = Date(timeIntervalSince1970: 1_795_000_000)
        let firing = Event(id: "pd-1", team: "ops", name: "HighLatency", level: .error, objectID: "api-3",
                           labels: labels, annotations: annotations, startsAt: start)
        var resolved = firing
        resolved.id = "pd-2"
        resolved.status = .resolved
        resolved.endsAt = start.addingTimeInterval(300)
        for event in [firing, resolved] {
            let outcome = await PluginConformance.push(event, to: instance, config: config, policy: "latency")
            #expect(outcome.name == "ok", "\(outcome)")
        }
        let requests = try await receiver.requests()
        try #require(requests.count == 2)
        for (request, action) in zip(requests, ["trigger", "resolve"]) {
            #expect(request.method == "POST" && request.path == "/pagerduty/v2/enqueue")
            #expect(request.header("Content-Type") == "application/json")
            let body = try Self.json(request.body)
            #expect(body["routing_key"] as? String == Self.key)
            #expect(body["event_action"] as? String == action)
            #expect(body["dedup_key"] as? String == "latency/HighLatency/api-3")
            #expect(body["client"] as? String == "Herald")
            let payload = try #require(body["payload"] as? [String: Any])
            #expect(payload["summary"] as? String == "[Error] HighLatency on api-3: p99 over 2 s")
            #expect(payload["source"] as? String == "api-3")
            #expect(payload["severity"] as? String == "error")
            #expect(payload["timestamp"] as? String == "2026-11-18T11:06:40.000Z")
            #expect(payload["component"] as? String == "checkout")
            #expect(payload["group"] as? String == "ops")
            #expect(payload["class"] as? String == "HighLatency")
            let details = try #require(payload["custom_details"] as? [String: [String: String]])
            #expect(details["labels"] == labels && details["annotations"] == annotations)
            let links = try #require(body["links"] as? [[String: String]])
            #expect(links == [["href": "https://runbooks.example/latency", "text": "runbook_url"]])
            let images = try #require(body["images"] as? [[String: String]])
            #expect(images == [["src": "https://grafana.example/render/latency.png", "alt": "HighLatency"]])
        }
    }

    /// 400 fails with PagerDuty's message; 429 is retried after its Retry-After.
    @Test func refusalsFailAndThrottlingIsRetriedAfterRetryAfter() async throws {
        let receiver = try await HTTPReceiver(directory: try Repository.temporaryDirectory("herald-pd"))
        defer { receiver.stop() }
        let event = Event(id: "pd-9", team: "ops", name: "X", level: .critical, objectID: "o", startsAt: Date())
        func outcome(_ config: JSONValue) async throws -> DeliveryOutcome {
            let instance = try Self.load().open(config: config)
            defer { instance.close() }
            return await PluginConformance.push(event, to: instance, config: config)
        }
        let refused = try await outcome(Self.config(receiver, key: "unknown0123456789abcdef012345678"))
        #expect(refused.name == "fail" && refused.reason.contains("400") && refused.reason.contains("Invalid routing key"),
                "\(refused)")
        let throttled = try await outcome(Self.config(receiver, path: "/pagerduty-429/3/v2/enqueue"))
        #expect(throttled == .retry(reason: throttled.reason, retryAfter: 3, endpointDown: true), "\(throttled)")
        let again = try await outcome(Self.config(receiver, path: "/pagerduty-429/3/v2/enqueue"))
        #expect(again.name == "ok", "\(again)")
    }

    /// A huge annotation is cut so the body stays within 512 KB and is accepted.
    @Test func oversizedDetailsAreShrunkNotRefused() async throws {
        let receiver = try await HTTPReceiver(directory: try Repository.temporaryDirectory("herald-pd"))
        defer { receiver.stop() }
        let config = Self.config(receiver)
        let instance = try Self.load().open(config: config)
        defer { instance.close() }
        let event = Event(id: "big", team: "ops", name: "Dump", level: .warning, objectID: "o",
                          annotations: ["stack": String(repeating: "frame ", count: 120_000), "note": "kept"],
                          startsAt: Date())
        let outcome = await PluginConformance.push(event, to: instance, config: config)
        #expect(outcome.name == "ok", "\(outcome)")
        let request = try #require(try await receiver.requests().first)
        #expect(request.body.utf8.count <= 512 * 1024 && request.body.utf8.count > 500 * 1024)
        let details = try #require((try Self.json(request.body)["payload"] as? [String: Any])?["custom_details"]
                                   as? [String: [String: String]])
        #expect(details["annotations"]?["note"] == "kept")
        #expect(details["annotations"]?["stack"]?.hasSuffix("(cut by Herald: over PagerDuty's 512 KB)") == true)
    }

    /// The receiver really enforces the schema: each of these is refused.
    @Test(arguments: [
        (#"{"routing_key":"0123456789abcdef0123456789abcdef","event_action":"trigger","payload":{"source":"s","severity":"info"}}"#, "summary"),
        (#"{"routing_key":"0123456789abcdef0123456789abcdef","event_action":"trigger","payload":{"summary":"s","source":"s","severity":"fatal"}}"#, "severity"),
        (#"{"routing_key":"0123456789abcdef0123456789abcdef0","event_action":"trigger","payload":{"summary":"s","source":"s","severity":"info"}}"#, "routing_key"),
        (#"{"routing_key":"0123456789abcdef0123456789abcdef","event_action":"resolve"}"#, "dedup_key"),
    ])
    func receiverEnforcesTheSchema(body: String, field: String) async throws {
        let receiver = try await HTTPReceiver(directory: try Repository.temporaryDirectory("herald-pd"))
        defer { receiver.stop() }
        let answer = try await HTTPClient.send("POST", receiver.baseURL + "/pagerduty/v2/enqueue", body: body)
        #expect(answer.status == 400 && answer.body.contains(field), "\(answer)")
    }

    @Test(arguments: [
        (#"{"routing_key":"short"}"#, "routing_key"),
        (#"{"routing_key":"0123456789abcdef0123456789abcdef","url":"ftp://x"}"#, "url"),
        (#"{"routing_key":"0123456789abcdef0123456789abcdef","fields":{"severity":"labels.s"}}"#, "fields"),
        (#"{"routing_key":"0123456789abcdef0123456789abcdef","fields":{"group":"label.s"}}"#, "fields"),
    ])
    func badConfigIsRefusedNamingTheField(json: String, field: String) throws {
        let error = #expect(throws: PluginConfigError.self) { try Self.load().validate(config: try JSONValue.parse(json)) }
        #expect(error?.field == field, "\(String(describing: error))")
    }

    @Test func readmeListsEveryOptionAndTheKeyIsSecret() throws {
        let plugin = try Self.load()
        #expect(try PluginDocs.documentedOptions(readme: "Plugins/PagerDuty/README.md") == Set(plugin.schema.fields.map(\.name)))
        #expect(plugin.schema.secretFields == ["routing_key"])
    }
}
