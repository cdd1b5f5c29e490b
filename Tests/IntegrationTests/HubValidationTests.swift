import Foundation
import HeraldTesting
import Testing

/// Malformed callbacks get a 4xx that names the field, and nothing is stored.
@Suite(.timeLimit(.minutes(2)))
struct HubValidationTests {
    static let token = HubRoundTripTests.token
    static let json = ["Content-Type": "application/json", "Authorization": "Bearer \(token)"]
    static let form = ["Content-Type": "application/x-www-form-urlencoded", "Authorization": "Bearer \(token)"]
    static let aliyun = "alertName=A&alertState=ALERT&triggerLevel=WARN&instanceName=i-1&curValue=1"
    static let tencent = #"{"alarmStatus":"1","alarmObjInfo":{"dimensions":{"objId":"o"}},"alarmPolicyInfo":{"conditions":{"metricShowName":"m"}},"firstOccurTime":"2026-11-18 19:06:40"}"#

    static let cases: [(path: String, headers: [String: String], body: String, status: Int, field: String)] = [
        ("/api/v1/ingest/aliyun", form, "alertState=ALERT&triggerLevel=WARN&instanceName=i-1", 400, "alertName"),
        ("/api/v1/ingest/aliyun", form, aliyun.replacingOccurrences(of: "WARN", with: "SEVERE"), 400, "triggerLevel"),
        ("/api/v1/ingest/aliyun", form, aliyun.replacingOccurrences(of: "ALERT", with: "ON"), 400, "alertState"),
        ("/api/v1/ingest/aliyun", form, aliyun + "&timestamp=yesterday", 400, "timestamp"),
        ("/api/v1/ingest/aliyun", form, "alertName=A&alertState=ALERT&triggerLevel=WARN", 400, "instanceName"),
        ("/api/v1/ingest/aliyun", form, aliyun + "&dimensions=%7Bbroken%7D", 400, "dimensions"),
        ("/api/v1/ingest/aliyun", form, "alertName=%E9%9D&alertState=ALERT", 400, "alertName"),
        ("/api/v1/ingest/aliyun", ["Content-Type": "application/x-www-form-urlencoded"], aliyun, 401, "Authorization"),
        ("/api/v1/ingest/aliyun?token=nope", ["Content-Type": "application/x-www-form-urlencoded"], aliyun, 401, "token"),
        ("/api/v1/ingest/tencent", json, tencent.replacingOccurrences(of: #""1""#, with: #""on""#), 400, "alarmStatus"),
        ("/api/v1/ingest/tencent", json, tencent.replacingOccurrences(of: "2026-11-18 19:06:40", with: "18/11/2026"), 400, "firstOccurTime"),
        ("/api/v1/ingest/tencent", json, tencent.replacingOccurrences(of: #""objId":"o""#, with: #""x":"o""#), 400, "alarmObjInfo.dimensions.objId"),
        ("/api/v1/ingest/tencent", json, tencent.replacingOccurrences(of: #","firstOccurTime":"2026-11-18 19:06:40""#, with: ""), 400, "firstOccurTime"),
        ("/api/v1/ingest/tencent", json, tencent.replacingOccurrences(of: #""objId":"o""#, with: #""objId":["o"]"#), 400, "alarmObjInfo.dimensions.objId"),
        ("/v2/enqueue", json, #"{"routing_key":"\#(token)","event_action":"trigger","payload":{"source":"s","severity":"info"}}"#, 400, "payload.summary"),
        ("/v2/enqueue", json, #"{"routing_key":"\#(token)","event_action":"trigger","payload":{"summary":"s","source":"s","severity":"fatal"}}"#, 400, "payload.severity"),
        ("/v2/enqueue", json, #"{"routing_key":"\#(token)","event_action":"resolve"}"#, 400, "dedup_key"),
        ("/v2/enqueue", json, #"{"routing_key":"\#(token)","event_action":"resolve","dedup_key":"never-triggered"}"#, 400, "dedup_key"),
        ("/v2/enqueue", json, #"{"routing_key":"\#(token)","event_action":"snooze","dedup_key":"k"}"#, 400, "event_action"),
        ("/v2/enqueue", ["Content-Type": "application/json"], #"{"routing_key":"unknownkey","event_action":"trigger","payload":{"summary":"s","source":"s","severity":"info"}}"#, 400, "routing_key"),
        ("/api/v1/ingest/alertmanager", json, #"{"version":"3","alerts":[]}"#, 400, "version"),
        ("/api/v1/ingest/alertmanager", json, #"{"version":"4","alerts":[{"labels":{"severity":"critical"}}]}"#, 400, "alerts[0].labels.alertname"),
        ("/api/v2/alerts", json, #"[{"labels":{"alertname":"A","severity":"apocalyptic"}}]"#, 400, "[0].labels.severity"),
        ("/api/v2/alerts", json, #"[{"labels":{"alertname":"A"},"startsAt":"soon"}]"#, 400, "[0].startsAt"),
        ("/api/v2/alerts", json, #"[{"labels":{"alertname":7}}]"#, 400, "[0].labels.alertname"),
        ("/api/v2/alerts", json, #"{"labels":{}}"#, 400, "body"),
        ("/api/v2/alerts", json, #"[{"labels":{"alertname":"A","alertname":"B"}}]"#, 400, "[0].labels.alertname"),
        ("/api/v2/alerts", json, #"[{"labels":{"alertname":"A"},"startsAt":"2026-11-18T11:06:40Z","endsAt":"2026-11-18T11:00:00Z"}]"#, 400, "[0].endsAt"),
        ("/api/v2/alerts", json, #"[{"labels":{"alertname":"A"},"startsAt":"300000000-01-01T00:00:00Z"}]"#, 400, "[0].startsAt"),
        ("/api/v1/ingest/alertmanager", json, #"{"version":"4","version":"3","alerts":[]}"#, 400, "version"),
        ("/api/v1/ingest/tencent", json, tencent.replacingOccurrences(of: #""alarmStatus":"1""#, with: #""alarmStatus":"1","alarmStatus":"0""#), 400, "alarmStatus"),
        ("/v2/enqueue", json, #"{"routing_key":"\#(token)","event_action":"trigger","event_action":"resolve","dedup_key":"k"}"#, 400, "event_action"),
        ("/api/v1/ingest/aliyun", form, aliyun + "&alertState=OK", 400, "alertState"),
        ("/api/v1/ingest/aliyun", form, aliyun + "&timestamp=99999999999999999", 400, "timestamp"),
    ]

    @Test func malformedCallbacksNameTheField() async throws {
        let directory = try Repository.temporaryDirectory("herald-hub-validation")
        let daemon = try await Daemon(config: """
            teams:
              - {name: ops, tokens: [\(Self.token)]}
            endpoints:
              - {name: file, team: ops, channel: file, config: {path: "\(directory.appendingPathComponent("out.jsonl").path)"}}
            policies:
              - {name: all, team: ops, endpoints: [file]}
            """, directory: directory)
        defer { daemon.stop() }
        for (path, headers, body, status, field) in Self.cases {
            let answer = try await daemon.send("POST", path, body: body, headers: headers)
            #expect(answer.status == status, "\(path) \(body): \(answer)")
            let error = (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])?["error"] as? [String: String]
            #expect(error?["field"] == field, "\(path) \(body): \(answer.body)")
        }
        // Any stored event would have made a delivery to the file endpoint.
        let stored = try await daemon.send("GET", "/api/v1/deliveries", headers: Self.json)
        #expect(stored.status == 200 && stored.body == "[]", "nothing of a refused callback is stored: \(stored.body)")
        let good = try await daemon.send("POST", "/api/v1/ingest/aliyun", body: Self.aliyun, headers: Self.form)
        #expect(good.status == 200, "\(good)")
        try await waitUntil(timeout: 10, "the good callback's delivery") {
            try await daemon.send("GET", "/api/v1/deliveries", headers: Self.json).body.contains(#""endpoint":"file""#)
        }
    }
}
