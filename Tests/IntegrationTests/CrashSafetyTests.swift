import Foundation
import HeraldTesting
import Testing

/// Every accepted event survives a kill -9: none missing, duplicates only of
/// what was in flight.
@Suite(.timeLimit(.minutes(4)))
struct CrashSafetyTests {
    static let count = 2_000

    @Test func everyAcceptedEventIsDeliveredAfterKill9() async throws {
        let directory = try Repository.temporaryDirectory("herald-crash")
        let receiverPort = try Daemon.freePort()
        let config = """
            teams:
              - {name: ops, tokens: [ops-token]}
            endpoints:
              - {name: hook, team: ops, channel: http, retries: 100, backoff: 100ms, max_backoff: 500ms,
                 config: {url: "http://127.0.0.1:\(receiverPort)/crash"}}
            policies:
              - {name: all, team: ops, endpoints: [hook]}
            """
        // A small in-memory backlog, so most of the 2,000 wait in the store and are paged in.
        let daemon = try await Daemon(config: config, directory: directory, backlogInMemory: 150)
        let auth = ["Authorization": "Bearer ops-token"]
        // Given: 2,000 events accepted while the receiver is down, half in
        // batches of 100, half one per request.
        var accepted: Set<String> = []
        for batch in 0..<10 {
            let events = (0..<100).map { index in
                #"{"id":"b\#(batch)-\#(index)","name":"Crash","level":"Critical","object_id":"b\#(batch)-\#(index)"}"#
            }
            let answer = try await daemon.send("POST", "/api/v1/events",
                                               body: #"{"events":[\#(events.joined(separator: ","))]}"#, headers: auth)
            #expect(answer.status == 202)
            if answer.status == 202 { accepted.formUnion((0..<100).map { "b\(batch)-\($0)" }) }
        }
        try await withThrowingTaskGroup(of: String?.self) { group in
            for index in 0..<1_000 {
                group.addTask {
                    let id = "s-\(index)"
                    let answer = try await daemon.send("POST", "/api/v1/events", headers: auth, body:
                        #"{"id":"\#(id)","name":"Crash","level":"Critical","object_id":"\#(id)"}"#)
                    return answer.status == 202 ? id : nil
                }
            }
            for try await id in group { if let id { accepted.insert(id) } }
        }
        #expect(accepted.count == Self.count)

        // When: the daemon dies without warning, then comes back with the receiver up.
        daemon.kill9()
        let receiver = try await HTTPReceiver(directory: directory, port: receiverPort)
        defer { receiver.stop() }
        try await daemon.start()
        defer { daemon.stop() }

        // Then: every accepted event arrives.
        var delivered: Set<String> = []
        var arrivals = 0
        try await waitUntil(timeout: 120, "all \(Self.count) events at the receiver") {
            let requests = try await receiver.requests()
            arrivals = requests.count
            delivered = Set(requests.compactMap { request in
                (try? JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: Any])?["id"] as? String
            })
            return accepted.isSubset(of: delivered)
        }
        #expect(accepted.subtracting(delivered).isEmpty)
        print("crash safety: \(accepted.count) accepted, \(delivered.count) distinct delivered, \(arrivals - delivered.count) duplicates")
    }
}

/// A backlog larger than the memory limit waits in the store and still all arrives.
@Suite(.timeLimit(.minutes(2)))
struct BacklogTests {
    @Test func backlogOverTheMemoryLimitIsPagedInFromTheStore() async throws {
        let directory = try Repository.temporaryDirectory("herald-backlog")
        let receiver = try await HTTPReceiver(directory: directory)
        defer { receiver.stop() }
        let config = """
            teams:
              - {name: ops, tokens: [ops-token]}
            endpoints:
              - {name: hook, team: ops, channel: http, max_in_flight: 4, config: {url: "\(receiver.baseURL)/backlog"}}
            policies:
              - {name: all, team: ops, endpoints: [hook]}
            """
        let daemon = try await Daemon(config: config, directory: directory, backlogInMemory: 20)
        defer { daemon.stop() }
        for batch in 0..<3 {
            let events = (0..<100).map { #"{"id":"k\#(batch)-\#($0)","name":"Backlog","level":"Critical","object_id":"k\#(batch)-\#($0)"}"# }
            let answer = try await daemon.send("POST", "/api/v1/events", body: #"{"events":[\#(events.joined(separator: ","))]}"#,
                                               headers: ["Authorization": "Bearer ops-token"])
            #expect(answer.status == 202)
        }
        try await waitUntil(timeout: 60, "300 deliveries") { try await receiver.requests().count >= 300 }
        let ids = try await receiver.requests().compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.body.utf8)) as? [String: Any])?["id"] as? String
        }
        #expect(Set(ids).count == 300)
        #expect(daemon.log.contains("Backlog over the memory limit"))
    }
}

extension Daemon {
    func send(_ method: String, _ path: String, headers: [String: String], body: String) async throws
        -> (status: Int, body: String) {
        try await send(method, path, body: body, headers: headers)
    }
}
