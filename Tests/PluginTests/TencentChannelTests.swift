import Foundation
import HeraldCore
import HeraldPluginHost
import HeraldConformance
import HeraldTesting
import Logging
import Testing

/// The Tencent adapter: the JSON alarm callback as a real receiver records it.
@Suite(.timeLimit(.minutes(2)))
struct TencentChannelTests {
    static let library = Repository.plugins.appendingPathComponent("libHeraldTencent.so")

    static func load() throws -> LoadedPlugin { try PluginLoader(logger: Logger(label: "test")).load(file: library.path) }

    static func url(_ receiver: HTTPReceiver, credentials: String = "", path: String = "/tencent") -> String {
        receiver.baseURL.replacingOccurrences(of: "http://", with: "http://\(credentials)") + path
    }

    @Test func tencentPluginConforms() async throws {
        let receiver = try await HTTPReceiver(directory: try Repository.temporaryDirectory("herald-tencent"))
        defer { receiver.stop() }
        let problems = await PluginConformance.check(try Self.load(), validConfig: .object(["url": .string(Self.url(receiver))]),
                                                     invalidConfig: .object(["url": .string("gopher://x")]))
        #expect(problems.isEmpty, "\(problems)")
        // The exactly-once rule's 20 submissions arrived once each (the kit sends others too).
        let bodies = try await receiver.requests().map(\.body)
        for object in Conformance.objects {
            #expect(bodies.filter { $0.contains(#""objId":""# + object + #"""#) }.count == 1, "\(object)")
        }
    }

    /// Every field of the metric-alarm structure, its type and value, firing
    /// then resolved; HTTP Basic authentication from the URL.
    @Test func alarmCallbackCarriesEveryField() async throws {
        let receiver = try await HTTPReceiver(directory: try Repository.temporaryDirectory("herald-tencent"))
        defer { receiver.stop() }
        let config = JSONValue.object(["url": .string(Self.url(receiver, credentials: "cb-user:p%40ss:word@"))])
        let instance = try Self.load().open(config: config)
        defer { instance.close() }
        let start = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18 19:06:40 in Shanghai
        let firing = Event(id: "t-1", team: "ops", name: "CPUHigh", level: .critical, objectID: "ins-abc",
                           labels: ["region": "gz", "namespace": "qce/cvm", "appId": "1250000000", "uin": "100000000",
                                    "metric": "cpu_usage", "dimensions.unInstanceId": "ins-abc", "policyType": "cvm_device"],
                           annotations: ["value": "97.5", "threshold": "90", "calcType": ">", "unit": "%",
                                         "period": "60", "periodNum": "1", "alarmNotifyType": "continuousAlarm",
                                         "alarmNotifyPeriod": "300"],
                           startsAt: start)
        var resolved = firing
        resolved.id = "t-2"
        resolved.status = .resolved
        resolved.endsAt = start.addingTimeInterval(330)
        for (event, delivery) in [(firing, "herald-7"), (resolved, "herald-8")] {
            let outcome = await PluginConformance.push(event, to: instance, config: config, policy: "cpu", deliveryID: delivery)
            #expect(outcome.name == "ok", "\(outcome)")
        }
        let requests = try await receiver.requests()
        try #require(requests.count == 2)
        for (index, request) in requests.enumerated() {
            #expect(request.path == "/tencent" && request.header("Content-Type") == "application/json")
            #expect(request.header("Authorization") == "Basic " + Data("cb-user:p@ss:word".utf8).base64EncodedString())
            let body = try #require(try JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: Any])
            #expect(Set(body.keys) == ["sessionId", "alarmStatus", "alarmType", "alarmObjInfo", "alarmPolicyInfo",
                                       "firstOccurTime", "durationTime", "recoverTime"])
            #expect(body["sessionId"] as? String == ["herald-7", "herald-8"][index])
            #expect(body["alarmStatus"] as? String == ["1", "0"][index])
            #expect(body["alarmType"] as? String == "metric")
            #expect(body["firstOccurTime"] as? String == "2026-11-18 19:06:40")
            #expect(body["recoverTime"] as? String == ["0", "2026-11-18 19:12:10"][index])
            let duration = try #require(body["durationTime"] as? Int)
            #expect(index == 1 ? duration == 330 : duration > 0)
            let object = try #require(body["alarmObjInfo"] as? [String: Any])
            #expect(object["region"] as? String == "gz" && object["namespace"] as? String == "qce/cvm")
            #expect(object["appId"] as? String == "1250000000" && object["uin"] as? String == "100000000")
            #expect(object["dimensions"] as? [String: String] == ["objId": "ins-abc", "objName": "ins-abc",
                                                                  "unInstanceId": "ins-abc"])
            let policy = try #require(body["alarmPolicyInfo"] as? [String: Any])
            #expect(policy["policyId"] as? String == "cpu" && policy["policyName"] as? String == "cpu")
            #expect(policy["policyType"] as? String == "cvm_device" && policy["policyTypeCName"] as? String == "")
            let conditions = try #require(policy["conditions"] as? [String: Any])
            #expect(conditions.filter { $0.key != "alarmNotifyPeriod" } as? [String: String] == [
                "metricName": "cpu_usage", "metricShowName": "CPUHigh", "calcType": ">", "calcValue": "90",
                "calcUnit": "%", "currentValue": "97.5", "historyValue": "", "unit": "%", "period": "60",
                "periodNum": "1", "alarmNotifyType": "continuousAlarm", "alarmLevel": "Critical",
            ])
            #expect(conditions["alarmNotifyPeriod"] as? Int == 300)
            try Self.checkTypes(request.body)
        }
    }

    /// Tencent's metric-alarm sample, field by field: the JSON type of each
    /// (`alarmNotifyPeriod` and `durationTime` are integers, the rest strings).
    /// Fields marked optional are left out when the alert has no value for them.
    static let seedTable: [(path: String, type: String, optional: Bool)] = [
        ("sessionId", "string", false), ("alarmStatus", "string", false), ("alarmType", "string", false),
        ("alarmObjInfo.region", "string", true), ("alarmObjInfo.namespace", "string", false),
        ("alarmObjInfo.appId", "string", false), ("alarmObjInfo.uin", "string", false),
        ("alarmObjInfo.dimensions.objId", "string", false), ("alarmObjInfo.dimensions.objName", "string", false),
        ("alarmPolicyInfo.policyId", "string", false), ("alarmPolicyInfo.policyType", "string", false),
        ("alarmPolicyInfo.policyName", "string", false), ("alarmPolicyInfo.policyTypeCName", "string", false),
        ("alarmPolicyInfo.conditions.metricName", "string", false),
        ("alarmPolicyInfo.conditions.metricShowName", "string", false),
        ("alarmPolicyInfo.conditions.calcType", "string", true), ("alarmPolicyInfo.conditions.calcValue", "string", true),
        ("alarmPolicyInfo.conditions.calcUnit", "string", true),
        ("alarmPolicyInfo.conditions.currentValue", "string", false),
        ("alarmPolicyInfo.conditions.historyValue", "string", false), ("alarmPolicyInfo.conditions.unit", "string", false),
        ("alarmPolicyInfo.conditions.period", "string", false), ("alarmPolicyInfo.conditions.periodNum", "string", false),
        ("alarmPolicyInfo.conditions.alarmNotifyType", "string", false),
        ("alarmPolicyInfo.conditions.alarmNotifyPeriod", "integer", false),
        ("firstOccurTime", "string", false), ("durationTime", "integer", false), ("recoverTime", "string", false),
    ]

    /// Checks a body against `seedTable` with Python's json module, an
    /// independent parser that tells integers from strings.
    static func checkTypes(_ body: String, absent: Set<String> = []) throws {
        let script = """
            import json, sys
            body = json.load(open(sys.argv[1]))
            for line in sys.argv[2:]:
                path, want = line.split("=")
                value = body
                for key in path.split("."):
                    value = value.get(key, "<absent>") if isinstance(value, dict) else "<absent>"
                got = "<absent>" if value == "<absent>" else "integer" if type(value) is int else "string" if type(value) is str else type(value).__name__
                print(path + "=" + got)
            """
        let wanted = seedTable.map { "\($0.path)=\(absent.contains($0.path) ? "<absent>" : $0.type)" }
        let file = try Repository.temporaryDirectory("herald-tencent").appendingPathComponent("body.json")
        try body.write(to: file, atomically: true, encoding: .utf8)
        let output = try ChildProcess.run("/usr/bin/python3", ["-c", script, file.path] + wanted)
        #expect(output.split(separator: "\n").map(String.init) == wanted)
    }

    /// A metric without a threshold: calcType, calcValue and calcUnit are
    /// left out, as Tencent leaves them out; region too when none is known.
    @Test func fieldsWithoutAValueAreLeftOutWhereTencentLeavesThemOut() async throws {
        let receiver = try await HTTPReceiver(directory: try Repository.temporaryDirectory("herald-tencent"))
        defer { receiver.stop() }
        let config = JSONValue.object(["url": .string(Self.url(receiver))])
        let instance = try Self.load().open(config: config)
        defer { instance.close() }
        let event = Event(id: "t-3", team: "ops", name: "Ping", level: .warning, objectID: "ins-1", startsAt: Date())
        #expect(await PluginConformance.push(event, to: instance, config: config).name == "ok")
        let request = try #require(try await receiver.requests().first)
        try Self.checkTypes(request.body, absent: ["alarmObjInfo.region", "alarmPolicyInfo.conditions.calcType",
                                                   "alarmPolicyInfo.conditions.calcValue",
                                                   "alarmPolicyInfo.conditions.calcUnit"])
        #expect(request.body.contains(#""alarmNotifyPeriod":0"#), "\(request.body)")
    }

    /// The password in the URL shows in no refusal or outcome, and the URL is a secret to the host.
    @Test func passwordNeverShows() async throws {
        let plugin = try Self.load()
        let bad = #expect(throws: PluginConfigError.self) {
            try plugin.validate(config: .object(["url": .string("ftp://u:hunter2@127.0.0.1/x")]))
        }
        #expect(bad?.field == "url" && bad?.message.contains("hunter2") == false)
        #expect(plugin.schema.secretFields == ["url"])
        let config = JSONValue.object(["url": .string("http://u:hunter2@127.0.0.1:\(try Daemon.freePort())/x")])
        let instance = try plugin.open(config: config)
        defer { instance.close() }
        let event = Event(id: "t-9", team: "ops", name: "X", level: .warning, objectID: "o", startsAt: Date())
        let outcome = await PluginConformance.push(event, to: instance, config: config)
        #expect(outcome.name == "retry" && !outcome.reason.contains("hunter2"), "\(outcome)")
    }

    @Test(arguments: [
        (#"{"url":"mailto:x"}"#, "url"),
        (#"{"url":"http://x","time_zone":"Mars/Olympus"}"#, "time_zone"),
        (#"{"url":"http://x","fields":{"alarmColour":"=red"}}"#, "fields"),
        (#"{"url":"http://x","ca_file":"/nonexistent.pem"}"#, "ca_file"),
    ])
    func badConfigIsRefusedNamingTheField(json: String, field: String) throws {
        let error = #expect(throws: PluginConfigError.self) { try Self.load().validate(config: try JSONValue.parse(json)) }
        #expect(error?.field == field, "\(String(describing: error))")
    }

    @Test func readmeListsEveryOption() throws {
        let plugin = try Self.load()
        #expect(try PluginDocs.documentedOptions(readme: "Plugins/Tencent/README.md") == Set(plugin.schema.fields.map(\.name)))
    }
}
