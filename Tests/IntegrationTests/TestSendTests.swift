import Foundation
import HeraldTesting
import Testing

/// `POST /api/v1/endpoints/{name}/test`: a test alert through the
/// endpoint's templates and plugin now, answered with the plugin's outcome.
@Suite(.timeLimit(.minutes(2)))
struct TestSendTests {
    @Test func testSendReachesTheReceiverAndAnswersTheOutcome() async throws {
        let directory = try Repository.temporaryDirectory("herald-test-send")
        let receiver = try await HTTPReceiver(directory: directory)
        defer { receiver.stop() }
        let daemon = try await Daemon(config: """
            teams: [{name: ops, tokens: [ops-token]}, {name: dev, tokens: [dev-token]}]
            endpoints:
              - {name: hook, team: ops, channel: http,
                 config: {url: "\(receiver.baseURL)/t/{{ id }}", body: '{"text":"{{ name }} on {{ object_id }}"}'}}
              - {name: refusing, team: ops, channel: http, config: {url: "\(receiver.baseURL)/status/400/{{ id }}"}}
              - {name: theirs, team: dev, channel: http, config: {url: "\(receiver.baseURL)/dev/{{ id }}"}}
            """, directory: directory)
        defer { daemon.stop() }
        let auth = ["Authorization": "Bearer ops-token"]

        let ok = try await daemon.send("POST", "/api/v1/endpoints/hook/test", headers: auth)
        #expect(ok.status == 200, "\(ok.body)")
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(ok.body.utf8)) as? [String: Any])
        #expect(answer["outcome"] as? String == "ok")
        #expect((answer["duration_seconds"] as? Double).map { $0 >= 0 && $0 < 5 } == true, "\(answer)")
        let eventID = try #require(answer["event_id"] as? String)
        let request = try #require(try await receiver.requests().first { $0.path == "/t/\(eventID)" })
        #expect(request.body == #"{"text":"Herald test alert on herald-test"}"#)

        let refused = try await daemon.send("POST", "/api/v1/endpoints/refusing/test", headers: auth)
        #expect(refused.status == 200)
        #expect(refused.body.contains(#""outcome":"fail""#) && refused.body.contains("HTTP 400"), "\(refused.body)")

        // Another team's endpoint is missing, as is an unknown one; no token, no test.
        #expect(try await daemon.send("POST", "/api/v1/endpoints/theirs/test", headers: auth).status == 404)
        #expect(try await daemon.send("POST", "/api/v1/endpoints/nope/test", headers: auth).status == 404)
        #expect(try await daemon.send("POST", "/api/v1/endpoints/hook/test").status == 401)
        #expect(try await receiver.requests().allSatisfy { !$0.path.hasPrefix("/dev/") })
        // Not an alert of the team's: nothing in its history.
        #expect(try await OutageTests.deliveries(daemon, status: "delivered").isEmpty)
    }
}
