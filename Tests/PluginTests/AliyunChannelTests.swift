import Foundation
import HeraldCore
import HeraldPluginHost
import HeraldConformance
import HeraldTesting
import Logging
import Testing

/// The Aliyun adapter: CloudMonitor's form callback as a real receiver
/// recorded it, the signature checked with the openssl CLI.
@Suite(.timeLimit(.minutes(2)))
struct AliyunChannelTests {
    static let library = Repository.plugins.appendingPathComponent("libHeraldAliyun.so")

    static func load() throws -> LoadedPlugin { try PluginLoader(logger: Logger(label: "test")).load(file: library.path) }

    /// Form fields in order, decoded (`+` is a space, then percent-decoding).
    static func form(_ body: String) -> [(String, String)] {
        body.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }
    }

    @Test func aliyunPluginConforms() async throws {
        let receiver = try await HTTPReceiver(directory: try Repository.temporaryDirectory("herald-aliyun"))
        defer { receiver.stop() }
        let problems = await PluginConformance.check(try Self.load(), validConfig: .object(["url": .string(receiver.baseURL + "/aliyun")]),
                                                     invalidConfig: .object(["url": .string("aliyun://x")]))
        #expect(problems.isEmpty, "\(problems)")
        // The exactly-once rule's 20 submissions arrived once each (the kit sends others too).
        let bodies = try await receiver.requests().map(\.body)
        for object in Conformance.objects {
            #expect(bodies.filter { $0.contains(#"instanceName="# + object + #"&"#) }.count == 1, "\(object)")
        }
    }

    /// Every field of the form, firing then recovery, with preTriggerLevel
    /// from the host's last push and a signature the openssl CLI agrees with.
    @Test func formCarriesEveryFieldAndAVerifiableSignature() async throws {
        let receiver = try await HTTPReceiver(directory: try Repository.temporaryDirectory("herald-aliyun"))
        defer { receiver.stop() }
        let config = JSONValue.object(["url": .string(receiver.baseURL + "/aliyun"), "secret": .string("s3cret key"),
                                       "fields": .object(["userId": .array([.string("labels.userId"), .string("=1234567")])])])
        let instance = try Self.load().open(config: config)
        defer { instance.close() }
        let start = Date(timeIntervalSince1970: 1_795_000_000)
        let firing = Event(id: "a-1", team: "ops", name: "CPU 使用率", level: .critical, objectID: "i-bp1",
                           labels: ["metric": "CPUUtilization", "metricProject": "acs_ecs_dashboard",
                                    "namespace": "acs_ecs_dashboard", "instanceName": "web-1"],
                           annotations: ["value": "95.5", "expression": "$Average>90"], startsAt: start)
        var resolved = firing
        resolved.id = "a-2"
        resolved.status = .resolved
        resolved.endsAt = start.addingTimeInterval(60)
        #expect(await PluginConformance.push(firing, to: instance, config: config, policy: "cpu").name == "ok")
        // The host passes the level it last pushed; here, as it would after the firing push.
        let outcome = await PluginConformance.push(resolved, to: instance, config: config, policy: "cpu",
                                                   previousLevel: .critical)
        #expect(outcome.name == "ok", "\(outcome)")
        let requests = try await receiver.requests()
        try #require(requests.count == 2)
        for (index, request) in requests.enumerated() {
            #expect(request.header("Content-Type") == "application/x-www-form-urlencoded; charset=UTF-8")
            let fields = Self.form(request.body)
            #expect(fields.map(\.0) == ["alertName", "alertState", "curValue", "dimensions", "expression", "instanceName",
                                        "metricName", "metricProject", "namespace", "preTriggerLevel", "ruleId",
                                        "timestamp", "triggerLevel", "userId", "signature"])
            let values = Dictionary(uniqueKeysWithValues: fields)
            #expect(values["alertName"] == "CPU 使用率")
            #expect(values["alertState"] == ["ALERT", "OK"][index])
            #expect(values["curValue"] == "95.5" && values["expression"] == "$Average>90")
            #expect(values["dimensions"] == "{userId=1234567, instanceId=i-bp1}")
            #expect(values["instanceName"] == "web-1" && values["metricName"] == "CPUUtilization")
            #expect(values["metricProject"] == "acs_ecs_dashboard" && values["namespace"] == "acs_ecs_dashboard")
            #expect(values["preTriggerLevel"] == ["", "CRITICAL"][index])
            #expect(values["ruleId"] == "cpu")
            #expect(values["timestamp"] == ["1795000000000", "1795000060000"][index])
            #expect(values["triggerLevel"] == "CRITICAL")
            #expect(values["userId"] == "1234567")
            let unsigned = String(request.body[..<request.body.range(of: "&signature=")!.lowerBound])
            let scratch = try Repository.temporaryDirectory("herald-aliyun-sig").appendingPathComponent("unsigned")
            try unsigned.write(to: scratch, atomically: true, encoding: .utf8)
            let openssl = try await ChildProcess.runOffPool("/usr/bin/openssl", ["dgst", "-sha256", "-hmac", "s3cret key", scratch.path])
            #expect(openssl.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("= " + (values["signature"] ?? "?")), "\(openssl)")
        }
    }

    /// Without a secret there is no signature field; a data-missing alert
    /// says INSUFFICIENT_DATA; Error goes as WARN.
    @Test func unsignedInsufficientDataAndErrorLevel() async throws {
        let receiver = try await HTTPReceiver(directory: try Repository.temporaryDirectory("herald-aliyun"))
        defer { receiver.stop() }
        let config = JSONValue.object(["url": .string(receiver.baseURL + "/aliyun")])
        let instance = try Self.load().open(config: config)
        defer { instance.close() }
        let event = Event(id: "a-3", team: "ops", name: "NoData", level: .error, objectID: "i-2",
                          labels: ["alertState": "INSUFFICIENT_DATA", "dimensions.region": "cn-hangzhou",
                                   "dimensions.instanceId": "i-2"], startsAt: Date())
        #expect(await PluginConformance.push(event, to: instance, config: config).name == "ok")
        let values = Dictionary(uniqueKeysWithValues: Self.form(try #require(try await receiver.requests().first).body))
        #expect(values["signature"] == nil)
        #expect(values["alertState"] == "INSUFFICIENT_DATA" && values["triggerLevel"] == "WARN")
        #expect(values["dimensions"] == "{instanceId=i-2, region=cn-hangzhou}")
    }

    /// CloudMonitor's 14 fields, each with a value taken from the event even
    /// when the alert carries none of the labels and annotations that map to
    /// them: the team for namespace, metricProject and userId, the policy's
    /// matchers for expression, the state for curValue.
    @Test func everyFieldHasAValueForABareAlert() async throws {
        let receiver = try await HTTPReceiver(directory: try Repository.temporaryDirectory("herald-aliyun"))
        defer { receiver.stop() }
        let config = JSONValue.object(["url": .string(receiver.baseURL + "/aliyun")])
        let instance = try Self.load().open(config: config)
        defer { instance.close() }
        let start = Date(timeIntervalSince1970: 1_795_000_000)
        let firing = Event(id: "a-5", team: "ops", name: "Bare", level: .warning, objectID: "i-9", startsAt: start)
        var resolved = firing
        resolved.status = .resolved
        resolved.endsAt = start.addingTimeInterval(5)
        for event in [firing, resolved] {
            let outcome = await PluginConformance.push(event, to: instance, config: config, policy: "web",
                                                       policyMatchers: #"{service="api", env!~"dev|test"}"#)
            #expect(outcome.name == "ok", "\(outcome)")
        }
        let requests = try await receiver.requests()
        try #require(requests.count == 2)
        for (index, request) in requests.enumerated() {
            let values = Dictionary(uniqueKeysWithValues: Self.form(request.body))
            #expect(values == [
                "alertName": "Bare", "alertState": ["ALERT", "OK"][index], "curValue": ["1", "0"][index],
                "dimensions": "{userId=ops, instanceId=i-9}", "expression": #"{service="api", env!~"dev|test"}"#,
                "instanceName": "i-9", "metricName": "Bare", "metricProject": "ops", "namespace": "ops",
                "preTriggerLevel": "", "ruleId": "web", "timestamp": ["1795000000000", "1795000005000"][index],
                "triggerLevel": "WARN", "userId": "ops",
            ])
            // Every field but the first push's preTriggerLevel has a value.
            #expect(values.filter { $0.value.isEmpty }.keys.sorted() == ["preTriggerLevel"])
        }
    }

    @Test(arguments: [
        (#"{"url":"ftp://x"}"#, "url"),
        (#"{"url":"http://x","fields":{"triggerLevel":"=CRITICAL"}}"#, "fields"),
        (#"{"url":"http://x","fields":{"userId":"user"}}"#, "fields"),
        (#"{"url":"http://x","secret":""}"#, "secret"),
    ])
    func badConfigIsRefusedNamingTheField(json: String, field: String) throws {
        let error = #expect(throws: PluginConfigError.self) { try Self.load().validate(config: try JSONValue.parse(json)) }
        #expect(error?.field == field, "\(String(describing: error))")
    }

    @Test func readmeListsEveryOption() throws {
        let plugin = try Self.load()
        #expect(try PluginDocs.documentedOptions(readme: "Plugins/Aliyun/README.md") == Set(plugin.schema.fields.map(\.name)))
        #expect(plugin.schema.secretFields == ["secret"])
    }
}
