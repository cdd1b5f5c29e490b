import Foundation
import HeraldTesting
import Testing

/// `GET /api/v1/events/{id}`: for each reason an event is not pushed, the
/// answer says so; a pushed one shows its delivery and attempts.
@Suite(.timeLimit(.minutes(2)))
struct ExplainTests {
    @Test func explainSaysWhereEachEventWentAndWhyNot() async throws {
        let directory = try Repository.temporaryDirectory("herald-explain")
        let receiver = try await HTTPReceiver(directory: directory)
        defer { receiver.stop() }
        let daemon = try await Daemon(config: """
            teams: [{name: ops, tokens: [ops-token]}, {name: dev, tokens: [dev-token]}]
            endpoints:
              - {name: cycle, team: ops, channel: http, levels: [Critical, Recovery], push_cycle: 1h,
                 config: {url: "\(receiver.baseURL)/c/{{ id }}"}}
              - {name: once, team: ops, channel: http, push_frequency: 1, config: {url: "\(receiver.baseURL)/o/{{ id }}"}}
            policies:
              - {name: a, team: ops, matchers: ['route="a"'], endpoints: [cycle]}
              - {name: b, team: ops, matchers: ['route="b"'], endpoints: [once]}
            """, directory: directory)
        defer { daemon.stop() }
        let auth = ["Authorization": "Bearer ops-token"]
        func post(_ id: String, object: String, route: String, level: String = "Critical", resolved: Bool = false) async throws {
            let status = resolved ? #","status":"resolved""# : ""
            let body = #"{"id":"\#(id)","name":"X","level":"\#(level)","object_id":"\#(object)","labels":{"route":"\#(route)"}\#(status)}"#
            #expect(try await daemon.send("POST", "/api/v1/events", body: body, headers: auth).status == 202)
        }
        func explain(_ id: String, token: String = "ops-token") async throws -> (status: Int, json: [String: Any]) {
            let answer = try await daemon.send("GET", "/api/v1/events/\(id)", headers: ["Authorization": "Bearer \(token)"])
            return (answer.status, (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]) ?? [:])
        }
        /// The outcome of each route of the newest event with the id.
        func outcomes(_ id: String) async throws -> [String] {
            let events = try await explain(id).json["events"] as? [[String: Any]] ?? []
            return (events.first?["routes"] as? [[String: Any]] ?? []).compactMap { $0["outcome"] as? String }
        }

        try await post("pushed", object: "o1", route: "a")
        try await post("cycled", object: "o1", route: "a")
        try await post("warned", object: "o2", route: "a", level: "Warning")
        try await post("unknown-recovery", object: "o3", route: "a", resolved: true)
        try await post("first", object: "o4", route: "b")
        try await post("second", object: "o4", route: "b")
        try await post("nowhere", object: "o5", route: "z")
        try await waitUntil(timeout: 10, "the two pushes") { try await receiver.requests().count >= 2 }

        #expect(try await outcomes("cycled") == ["push_cycle"])
        #expect(try await outcomes("warned") == ["level_filtered"])
        #expect(try await outcomes("unknown-recovery") == ["recovery_without_firing"])
        #expect(try await outcomes("second") == ["push_frequency"])
        let nowhere = try await explain("nowhere").json["events"] as? [[String: Any]]
        #expect(nowhere?.first?["routed"] as? Bool == false && (nowhere?.first?["routes"] as? [Any])?.isEmpty == true)

        try await waitUntil(timeout: 10, "the attempt recorded") {
            let events = try await explain("pushed").json["events"] as? [[String: Any]]
            let route = (events?.first?["routes"] as? [[String: Any]])?.first
            return (route?["attempts"] as? [[String: Any]])?.first?["outcome"] as? String == "ok"
        }
        let pushed = try #require((try await explain("pushed").json["events"] as? [[String: Any]])?.first)
        let route = try #require((pushed["routes"] as? [[String: Any]])?.first)
        #expect(route["outcome"] as? String == "pushed" && route["endpoint"] as? String == "cycle" && route["policy"] as? String == "a")
        #expect((route["delivery"] as? [String: Any])?["status"] as? String == "delivered")
        #expect((pushed["event"] as? [String: Any])?["object_id"] as? String == "o1")
        #expect((pushed["received_at"] as? String)?.hasSuffix("Z") == true)

        #expect(try await explain("never-sent").status == 404)
        #expect(try await explain("pushed", token: "dev-token").status == 404, "another team's event is missing")
        #expect(try await explain("pushed", token: "bad").status == 401)
    }
}
