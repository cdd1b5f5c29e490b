import Foundation
import HeraldCore
import HeraldPluginHost
import Logging

/// What a test send came to, as `POST /api/v1/endpoints/{name}/test` answers it.
public struct TestSendResult: Sendable, Encodable {
    /// `ok`, `retry`, `fail` or `crash`, as the plugin answered.
    public let outcome: String
    public let reason: String
    public let durationSeconds: Double
    /// The receiver asked to wait this long (a RETRY's retry-after).
    public let retryAfterSeconds: Double?
    /// The plugin flagged the endpoint itself as unreachable or overloaded.
    public let endpointDown: Bool
    /// The test event's id and delivery id, for finding it at the receiver.
    public let eventID: String
    public let deliveryID: String

    enum CodingKeys: String, CodingKey {
        case outcome, reason, durationSeconds = "duration_seconds", retryAfterSeconds = "retry_after_seconds"
        case endpointDown = "endpoint_down", eventID = "event_id", deliveryID = "delivery_id"
    }
}

/// Grafana's Test button: a made-up alert rendered through the endpoint's
/// templates and handed to its plugin now, past the queue, the throttle and
/// the history (it is not an alert of the team's).
extension EndpointWorker {
    /// - Returns: nil while the plugin hangs in a call (the endpoint is
    ///   suspended): a test would only wait behind it.
    func testSend() async -> TestSendResult? {
        guard suspension == nil, instance.isAvailable() else { return nil }
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let now = Date()
        let event = Event(id: "herald-test-\(suffix)", team: endpoint.team, name: "Herald test alert", level: .critical,
                          objectID: "herald-test", labels: ["alertname": "HeraldTest", "herald_test": "true"],
                          annotations: ["summary": "A test alert sent from Herald to check endpoint \(endpoint.name)"],
                          startsAt: now, source: "test")
        let push = Push(event: event, policy: "herald-test", endpoint: endpoint.name, level: .critical,
                        deliveryID: "herald-test-\(suffix)")
        let started = Date().timeIntervalSince1970
        let outcome: DeliveryOutcome
        switch prepare(push, attempt: 1) {
        case .success(let submission):
            let (instance, generation) = (instance, generation)
            inFlightByGeneration[generation, default: 0] += 1
            outcome = await instance.submit(submission)
            await returned(from: generation)
        case .failure(let error):
            outcome = .fail(reason: error.description)
        }
        var retryAfter: Double?
        var endpointDown = false
        if case .retry(_, let after, let down) = outcome { (retryAfter, endpointDown) = (after, down) }
        logger.info("Test alert sent", metadata: ["outcome": "\(outcome.name)", "reason": "\(outcome.reason)"])
        return TestSendResult(outcome: outcome.name, reason: outcome.reason,
                              durationSeconds: Date().timeIntervalSince1970 - started, retryAfterSeconds: retryAfter,
                              endpointDown: endpointDown, eventID: event.id, deliveryID: push.deliveryID)
    }
}
