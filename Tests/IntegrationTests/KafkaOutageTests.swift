import Foundation
import HeraldTesting
import Testing

/// The daemon producing to a Kafka-protocol broker that goes down mid-run.
@Suite(.timeLimit(.minutes(2)))
struct KafkaOutageTests {
    /// Half the events are delivered, the broker goes down, the other half
    /// are accepted during the outage; once it is back every accepted event
    /// is in the topic, read back by kcat.
    @Test func everyAcceptedEventIsDeliveredOnceTheBrokerReturns() async throws {
        let directory = try Repository.temporaryDirectory("herald-kafka-outage")
        let broker = try await KafkaBroker(directory: directory)
        defer { broker.stop() }
        let daemon = try await Daemon(config: """
            teams:
              - {name: ops, tokens: [t0ken]}
            endpoints:
              - {name: kafka, team: ops, channel: kafka, retries: 30, backoff: 100ms, max_backoff: 500ms,
                 probe_backoff: 200ms, max_probe_backoff: 1s,
                 config: {brokers: "\(broker.bootstrap)", topic: alerts, message_timeout_ms: 1000}}
            policies:
              - {name: all, team: ops, endpoints: [kafka]}
            """, directory: directory)
        defer { daemon.stop() }
        func eventIDs() async throws -> [String] { try await broker.records(topic: "alerts").compactMap { $0.header("event_id") } }

        #expect(try await daemon.send("POST", "/api/v1/events", body: SyslogRestartTests.batch(0..<50),
                                      headers: SyslogRestartTests.auth).status == 202)
        try await waitUntil(timeout: 20, "the first 50 records") { try await eventIDs().count >= 50 }
        broker.down()
        #expect(try await daemon.send("POST", "/api/v1/events", body: SyslogRestartTests.batch(50..<100),
                                      headers: SyslogRestartTests.auth).status == 202)
        try await Task.sleep(for: .seconds(3))
        broker.up()
        try await waitUntil(timeout: 30, "all 100 records") { try await Set(eventIDs()).count >= 100 }
        let ids = try await eventIDs()
        let retries = daemon.log.components(separatedBy: "Delivery will be retried").count - 1
        print("kafka outage: \(Set(ids).count) distinct events in the topic, \(ids.count - Set(ids).count) repeated, "
              + "\(retries) attempts retried")
        #expect(Set(ids) == Set((0..<100).map { "ev-\($0)" }))
        // The outage takes the endpoint down: its deliveries are held, not
        // each retried, and it comes back up when the broker does.
        #expect(daemon.log.contains("Endpoint down: holding its deliveries") && daemon.log.contains("Endpoint back up"),
                "\(daemon.log.suffix(2000))")
        #expect(retries < 50, "held, not retried one by one")
    }
}
