import Foundation
import HeraldCore
@testable import HeraldIngest
import Testing

/// Alertmanager's bodies are read from the scanner's tree, not with
/// Foundation's decoder; these hold the reader to the decoder's answers
/// (the fuzz targets do it for arbitrary bodies).
struct AlertmanagerReaderTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: [
        (#"{"labels":{}}"#, "body", "expected an array"),
        (#"[1]"#, "[0]", "expected an object"),
        (#"[null]"#, "[0]", "expected an object, found null"),
        ("null", "body", "expected an array, found null"),
        (#"[{}]"#, "[0].labels", "required"),
        (#"[{"labels":null}]"#, "[0].labels", "expected an object, found null"),
        (#"[{"labels":"x"}]"#, "[0].labels", "expected an object"),
        (#"[{"labels":{"alertname":"A","8":9}}]"#, "[0].labels.8", "expected a string"),
        (#"[{"labels":{"alertname":"A","x":null}}]"#, "[0].labels.x", "expected a string, found null"),
        (#"[{"labels":{"alertname":"A"},"annotations":[]}]"#, "[0].annotations", "expected an object"),
        (#"[{"labels":{"alertname":"A"},"startsAt":1}]"#, "[0].startsAt", "expected a string"),
        (#"[{"labels":{"alertname":"A"},"status":"x"}]"#, "[0].status", "expected firing or resolved, found \"x\""),
        (#"[{"status":1}]"#, "[0].status", "expected a string"),
    ])
    func apiBodiesAreRefusedAsTheDecoderRefusesThem(body: String, field: String, message: String) {
        let expected = IngestError(field, message)
        #expect(throws: expected) { try AlertmanagerFormat.apiAlerts(body: Array(body.utf8), team: "t", now: Self.now) }
        #expect(throws: expected) { try AlertmanagerFormat.decodedAPIAlerts(body: Array(body.utf8), team: "t", now: Self.now) }
    }

    @Test(arguments: [
        (#"[]"#, "body", "expected an object"),
        (#"{"alerts":[]}"#, "version", "required"),
        (#"{"version":null,"alerts":[]}"#, "version", "expected a string, found null"),
        (#"{"version":"4"}"#, "alerts", "required"),
        (#"{"version":"4","alerts":{}}"#, "alerts", "expected an array"),
        (#"{"version":"4","alerts":null}"#, "alerts", "expected an array, found null"),
        (#"{"version":"4","alerts":[null]}"#, "alerts[0]", "expected an object, found null"),
        ("null", "body", "expected an object, found null"),
        (#"{"version":"3","alerts":[]}"#, "version", "expected \"4\", found \"3\""),
        (#"{"version":"4","alerts":[{"labels":{"alertname":"A","b":[]}}]}"#, "alerts[0].labels.b", "expected a string"),
    ])
    func webhookBodiesAreRefusedAsTheDecoderRefusesThem(body: String, field: String, message: String) {
        let expected = IngestError(field, message)
        #expect(throws: expected) { try AlertmanagerFormat.webhookAlerts(body: Array(body.utf8), team: "t", now: Self.now) }
        #expect(throws: expected) { try AlertmanagerFormat.decodedWebhookAlerts(body: Array(body.utf8), team: "t", now: Self.now) }
    }

    @Test func bothReadersTakeTheSameAlerts() throws {
        let body = Array(#"""
            [{"labels":{"alertname":"DiskFull","severity":"critical","instance":"db-1","8":"eight"},
              "annotations":{"summary":"disk \u00e9 full"},"startsAt":"2026-11-30T10:00:00Z","endsAt":"2026-11-30T10:04:00Z",
              "generatorURL":"http://prometheus/graph","unknown":{"nested":[1,2,{"x":null}]}},
             {"labels":{"alertname":"Quiet"},"status":"resolved","fingerprint":"abc"}]
            """#.utf8)
        let read = try AlertmanagerFormat.apiAlerts(body: body, team: "t", now: Self.now)
        let decoded = try AlertmanagerFormat.decodedAPIAlerts(body: body, team: "t", now: Self.now)
        #expect(read.map(\.event) == decoded.map(\.event))
        #expect(read.count == 2)
        #expect(read.first?.event.labels["8"] == "eight")
        #expect(read.first?.event.annotations["summary"] == "disk é full")
        #expect(read.first?.event.objectID == "db-1")
        #expect(read.last?.event.objectID == "abc")
    }

    /// Stored event ids hold the label-set hash: it must stay what it was.
    @Test func theLabelHashIsStable() {
        #expect(AlertmanagerAlert.fingerprint(["alertname": "x"]) == "6b841b0781e2135d")
        #expect(AlertmanagerAlert.fingerprint([:]) == "cbf29ce484222325")
    }
}
