import Foundation
import HeraldTesting
import Testing

/// Herald as a hub: alerts taken in as Aliyun form, Tencent JSON, PagerDuty
/// events, Alertmanager webhooks and Alertmanager's API, pushed out through
/// the Aliyun, Tencent and PagerDuty adapters to a real receiver.
@Suite(.timeLimit(.minutes(3)))
struct HubRoundTripTests {
    static let token = "hub-token-0123456789abcdef012345"  // 32 characters: also a PagerDuty routing key
    static let routingKey = "0123456789abcdef0123456789abcdef"

    /// What every format must carry across: name, level, object, value, state.
    struct Alert: Equatable, CustomStringConvertible {
        var name: String
        var level: String
        var object: String
        var value: String
        var firing: Bool
        var description: String { "\(name) \(level) \(object) \(value) \(firing ? "firing" : "resolved")" }
    }

    static func daemon(_ receiver: HTTPReceiver, directory: URL) async throws -> Daemon {
        try await Daemon(config: """
            teams:
              - {name: ops, tokens: [\(token)]}
            endpoints:
              - {name: to-aliyun, team: ops, channel: aliyun, backoff: 100ms, config: {url: "\(receiver.baseURL)/out/aliyun"}}
              - {name: to-tencent, team: ops, channel: tencent, backoff: 100ms, config: {url: "\(receiver.baseURL)/out/tencent"}}
              - {name: to-pagerduty, team: ops, channel: pagerduty, backoff: 100ms,
                 config: {routing_key: \(routingKey), url: "\(receiver.baseURL)/pagerduty/out"}}
            policies:
              - {name: everything, team: ops, endpoints: [to-aliyun, to-tencent, to-pagerduty]}
            """, directory: directory)
    }

    /// The alert as each out-format carries it, parsed from the raw request.
    static func parse(_ request: RecordedRequest) throws -> (format: String, alert: Alert)? {
        if request.path == "/out/aliyun" {
            #expect(request.header("Content-Type") == "application/x-www-form-urlencoded; charset=UTF-8")
            let form = Dictionary(uniqueKeysWithValues: request.body.split(separator: "&").map { pair in
                let parts = pair.split(separator: "=", maxSplits: 1).map { $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
                return (parts[0], parts.count > 1 ? parts[1] : "")
            })
            let level = ["CRITICAL": "Critical", "WARN": "Warning", "INFO": "Info"][form["triggerLevel"] ?? ""] ?? "?"
            return ("aliyun", Alert(name: form["alertName"] ?? "", level: level, object: form["instanceName"] ?? "",
                                    value: form["curValue"] ?? "", firing: form["alertState"] != "OK"))
        }
        let body = try #require(try JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: Any])
        if request.path == "/out/tencent" {
            // Strings, but alarmNotifyPeriod (an integer, as in Tencent's sample).
            let conditions = ((body["alarmPolicyInfo"] as? [String: Any])?["conditions"] as? [String: Any] ?? [:])
                .compactMapValues { $0 as? String }
            let dimensions = (body["alarmObjInfo"] as? [String: Any])?["dimensions"] as? [String: String] ?? [:]
            return ("tencent", Alert(name: conditions["metricShowName"] ?? "", level: conditions["alarmLevel"] ?? "",
                                     object: dimensions["objId"] ?? "", value: conditions["currentValue"] ?? "",
                                     firing: body["alarmStatus"] as? String == "1"))
        }
        if request.path == "/pagerduty/out" {
            let payload = body["payload"] as? [String: Any] ?? [:]
            let annotations = (payload["custom_details"] as? [String: Any])?["annotations"] as? [String: String] ?? [:]
            return ("pagerduty", Alert(name: payload["class"] as? String ?? "",
                                       level: (payload["severity"] as? String ?? "").capitalized,
                                       object: payload["source"] as? String ?? "", value: annotations["value"] ?? "",
                                       firing: body["event_action"] as? String == "trigger"))
        }
        return nil
    }

    /// Sends one alert in one format, firing or resolved.
    static func send(_ format: String, _ alert: Alert, to daemon: Daemon, times: Int = 1) async throws {
        let auth = ["Authorization": "Bearer \(token)", "Content-Type": "application/json"]
        let critical = alert.level == "Critical"
        let (path, body, headers): (String, String, [String: String])
        switch format {
        case "aliyun":
            let form = ["alertName": alert.name, "alertState": alert.firing ? "ALERT" : "OK", "curValue": alert.value,
                        "dimensions": "{userId=1, instanceId=\(alert.object)}", "expression": "$Average>40",
                        "instanceName": alert.object, "metricName": "CPUUtilization", "metricProject": "acs_ecs_dashboard",
                        "namespace": "acs_ecs_dashboard", "ruleId": "r-1", "timestamp": "1795000000000",
                        "triggerLevel": critical ? "CRITICAL" : "WARN", "userId": "1"]
            (path, body, headers) = ("/api/v1/ingest/aliyun?token=\(token)",
                                     form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }
                                         .joined(separator: "&"),
                                     ["Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"])
        case "tencent":
            (path, body, headers) = ("/api/v1/ingest/tencent?token=\(token)", """
                {"sessionId":"s-1","alarmStatus":"\(alert.firing ? 1 : 0)","alarmType":"metric",
                 "alarmObjInfo":{"region":"gz","namespace":"qce/cvm","appId":"125","uin":"100",
                                 "dimensions":{"objId":"\(alert.object)","objName":"vm"}},
                 "alarmPolicyInfo":{"policyId":"p-1","policyType":"cvm_device","policyName":"cpu","policyTypeCName":"CVM",
                                    "conditions":{"metricName":"cpu_usage","metricShowName":"\(alert.name)","calcType":">",
                                                  "calcValue":"40","calcUnit":"%","currentValue":"\(alert.value)","historyValue":"1",
                                                  "unit":"%","period":"60","periodNum":"1","alarmNotifyType":"continuousAlarm",
                                                  "alarmNotifyPeriod":1,"alarmLevel":"\(alert.level)"}},
                 "firstOccurTime":"2026-11-18 19:06:40","durationTime":60,"recoverTime":"\(alert.firing ? "0" : "2026-11-18 19:07:40")"}
                """, ["Content-Type": "application/json"])
        case "pagerduty":
            // The resolve's payload names another class and source: Herald
            // resolves what the dedup_key triggered, as PagerDuty does.
            let payload = alert.firing
                ? #","payload":{"summary":"\#(alert.name) is up","source":"\#(alert.object)","severity":"\#(alert.level.lowercased())","class":"\#(alert.name)","custom_details":{"annotations":{"value":"\#(alert.value)"}}}"#
                : #","payload":{"summary":"all clear","source":"elsewhere","severity":"info","class":"Cleared"}"#
            (path, body, headers) = ("/v2/enqueue", #"{"routing_key":"\#(token)","event_action":"\#(alert.firing ? "trigger" : "resolve")","dedup_key":"k-\#(alert.name)"\#(payload)}"#,
                                     ["Content-Type": "application/json"])
        case "alertmanager-webhook":
            (path, body, headers) = ("/api/v1/ingest/alertmanager", """
                {"version":"4","groupKey":"{}:{alertname=\\"\(alert.name)\\"}","status":"\(alert.firing ? "firing" : "resolved")",
                 "receiver":"herald","groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am",
                 "alerts":[{"status":"\(alert.firing ? "firing" : "resolved")",
                            "labels":{"alertname":"\(alert.name)","severity":"\(alert.level.lowercased())","instance":"\(alert.object)"},
                            "annotations":{"value":"\(alert.value)"},"startsAt":"2026-11-18T11:06:40Z",
                            "endsAt":"\(alert.firing ? "0001-01-01T00:00:00Z" : "2026-11-18T11:07:40Z")",
                            "generatorURL":"http://prometheus","fingerprint":"f\(alert.name.count)"}]}
                """, auth)
        default:  // alertmanager-api: what Prometheus sends; endsAt in the past resolves
            let ends = alert.firing ? Date().addingTimeInterval(240) : Date().addingTimeInterval(-1)
            (path, body, headers) = ("/api/v2/alerts", """
                [{"labels":{"alertname":"\(alert.name)","severity":"\(alert.level.lowercased())","instance":"\(alert.object)"},
                  "annotations":{"value":"\(alert.value)"},"startsAt":"2026-11-18T11:06:40Z",
                  "endsAt":"\(ISO8601DateFormatter().string(from: ends))","generatorURL":"http://prometheus"}]
                """, auth)
        }
        for _ in 0..<times {
            let answer = try await daemon.send("POST", path, body: body, headers: headers)
            #expect((200..<300).contains(answer.status), "\(format): \(answer)")
        }
    }

    /// Every in-format to every out-format keeps name, level, object, value
    /// and state; repeats of a firing alert (Prometheus's, Alertmanager's,
    /// a PagerDuty trigger with an open dedup_key) push it once.
    @Test func everyPairKeepsTheAlert() async throws {
        let directory = try Repository.temporaryDirectory("herald-hub")
        let receiver = try await HTTPReceiver(directory: directory)
        defer { receiver.stop() }
        let daemon = try await Self.daemon(receiver, directory: directory)
        defer { daemon.stop() }
        let formats = ["aliyun", "tencent", "pagerduty", "alertmanager-webhook", "alertmanager-api"]
        let alerts = formats.enumerated().map { index, format in
            Alert(name: "RT-\(format)", level: index % 2 == 0 ? "Critical" : "Warning", object: "obj-\(format)",
                  value: "4\(index).5", firing: true)
        }
        for (format, alert) in zip(formats, alerts) {
            try await Self.send(format, alert, to: daemon, times: format == "aliyun" || format == "tencent" ? 1 : 3)
        }
        try await waitUntil(timeout: 20, "15 firing pushes") { try await receiver.requests().count >= 15 }
        for (format, alert) in zip(formats, alerts) {
            var resolved = alert
            resolved.firing = false
            try await Self.send(format, resolved, to: daemon, times: format.hasPrefix("alertmanager") ? 2 : 1)
        }
        try await waitUntil(timeout: 20, "15 recovery pushes") { try await receiver.requests().count >= 30 }
        try await Task.sleep(for: .milliseconds(500))  // any extra push (a repeat let through) would land by now
        let pushes = try await receiver.requests().compactMap(Self.parse)
        #expect(pushes.count == 30, "\(pushes.map { "\($0.format): \($0.alert)" })")
        for alert in alerts {
            for out in ["aliyun", "tencent", "pagerduty"] {
                let arrived = pushes.filter { $0.format == out && $0.alert.name == alert.name }.map(\.alert)
                var resolved = alert
                resolved.firing = false
                #expect(arrived == [alert, resolved], "\(alert.name) → \(out): \(arrived)")
            }
        }
    }
}
