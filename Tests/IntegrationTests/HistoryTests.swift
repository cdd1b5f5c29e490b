import Foundation
import HeraldTesting
import Testing

/// The delivery history: paged, filtered, times in RFC 3339; dead letters
/// replayed one by one.
@Suite(.timeLimit(.minutes(2)))
struct HistoryTests {
    static let auth = ["Authorization": "Bearer ops-token"]

    @Test func historyIsPagedAndFiltered() async throws {
        let directory = try Repository.temporaryDirectory("herald-history")
        let receiver = try await HTTPReceiver(directory: directory)
        defer { receiver.stop() }
        let daemon = try await Daemon(config: """
            teams: [{name: ops, tokens: [ops-token]}]
            endpoints:
              - {name: a, team: ops, channel: http, config: {url: "\(receiver.baseURL)/a/{{ id }}"}}
              - {name: b, team: ops, channel: http, retries: 0, config: {url: "\(receiver.baseURL)/status/400/{{ id }}"}}
            policies:
              - {name: to-a, team: ops, matchers: ['to="a"'], endpoints: [a]}
              - {name: to-b, team: ops, matchers: ['to="b"'], endpoints: [b]}
            """, directory: directory)
        defer { daemon.stop() }
        let start = Date()
        let events = (0..<25).map { #"{"id":"a\#($0)","name":"H","level":"Critical","object_id":"o\#($0)","labels":{"to":"a"}}"# }
            + (0..<5).map { #"{"id":"b\#($0)","name":"H","level":"Critical","object_id":"p\#($0)","labels":{"to":"b"}}"# }
        #expect(try await daemon.send("POST", "/api/v1/events", body: #"{"events":[\#(events.joined(separator: ","))]}"#, headers: Self.auth).status == 202)
        try await waitUntil(timeout: 15, "30 deliveries ended") {
            let pending = try await OutageTests.deliveries(daemon, status: "pending")
            let arrived = try await receiver.requests().count
            return pending.isEmpty && arrived >= 30
        }

        // Pages of 10, newest first, each pointing at the next in its Link header.
        var path: String? = "/api/v1/deliveries?limit=10"
        var seen: [Int] = []
        while let next = path {
            let page = try await HTTPClient.exchange("GET", "http://127.0.0.1:\(daemon.port)\(next)", headers: Self.auth)
            let items = try #require(try JSONSerialization.jsonObject(with: Data(page.body.utf8)) as? [[String: Any]])
            seen += items.compactMap { $0["id"] as? Int }
            path = page.headers["link"].flatMap { link in
                link.range(of: "<").flatMap { open in link.range(of: ">").map { String(link[open.upperBound..<$0.lowerBound]) } }
            }
        }
        #expect(seen.count == 30 && Set(seen).count == 30 && seen == seen.sorted(by: >), "\(seen)")

        func count(_ query: String) async throws -> Int {
            let answer = try await daemon.send("GET", "/api/v1/deliveries?\(query)", headers: Self.auth)
            return (try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [Any])?.count ?? -1
        }
        #expect(try await count("endpoint=b") == 5)
        #expect(try await count("endpoint=b&status=dead") == 5)
        #expect(try await count("event_id=a7") == 1)
        let since = ISO8601DateFormatter().string(from: start.addingTimeInterval(-60))
        let future = ISO8601DateFormatter().string(from: Date().addingTimeInterval(3600))
        #expect(try await count("since=\(since)") == 30)
        #expect(try await count("since=\(future)") == 0)
        #expect(try await count("until=\(since)") == 0)
        #expect(try await daemon.send("GET", "/api/v1/deliveries?since=yesterday", headers: Self.auth).body.contains(#""field":"since""#))
        #expect(try await daemon.send("GET", "/api/v1/deliveries?limit=0", headers: Self.auth).status == 400)

        // Times are RFC 3339.
        let a1 = try await daemon.send("GET", "/api/v1/deliveries?event_id=a1", headers: Self.auth).body
        let first = try #require((try JSONSerialization.jsonObject(with: Data(a1.utf8)) as? [[String: Any]])?.first)
        #expect((first["created_at"] as? String).flatMap { try? Date($0, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) } != nil, "\(first)")

        // One dead letter replayed by id: only it goes out again.
        let dead = try await OutageTests.deliveries(daemon, status: "dead")
        let one = try #require(dead.first?["id"] as? Int)
        let replay = try await daemon.send("POST", "/api/v1/deliveries/replay", body: #"{"ids":[\#(one)]}"#, headers: Self.auth)
        #expect(replay.body == #"{"replayed":1}"#)
        try await waitUntil(timeout: 10, "the replayed attempt") { try await receiver.requests().count >= 31 }
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await receiver.requests().count == 31)
    }
}
