import Foundation
import HeraldCore
import HeraldPluginHost
import HeraldStore
import Logging

/// Delivers to one endpoint: renders each push, hands it to the plugin with
/// up to `maxInFlight` in flight, and retries, dead-letters or records the
/// outcome. Each endpoint has its own worker, so a slow or dead one only
/// ever holds up itself.
actor EndpointWorker {
    let endpoint: Endpoint
    private let instance: PluginInstance
    private let templates: TemplateSet
    private let pipeline: Pipeline
    private let logger: Logger

    private var ready: [PendingDelivery] = []
    private var readyHead = 0
    /// Deliveries waiting for their retry time, unordered (few, normally).
    private var delayed: [PendingDelivery] = []
    private var inFlight = 0
    private var waiting: CheckedContinuation<Void, Never>?
    private var stopping = false

    init(endpoint: Endpoint, instance: PluginInstance, templates: TemplateSet, pipeline: Pipeline, logger: Logger) {
        self.endpoint = endpoint
        self.instance = instance
        self.templates = templates
        self.pipeline = pipeline
        var logger = logger
        logger[metadataKey: "endpoint"] = "\(endpoint.name)"
        self.logger = logger
    }

    func enqueue(_ deliveries: [PendingDelivery]) {
        let now = Date().timeIntervalSince1970
        for delivery in deliveries {
            if delivery.notBefore > now { delayed.append(delivery) } else { ready.append(delivery) }
        }
        signal()
    }

    /// Moves retries whose time has come to the ready queue. Called on the
    /// dispatcher's tick.
    func tick(now: Double) {
        guard !delayed.isEmpty else { return }
        var due: [PendingDelivery] = []
        delayed.removeAll { delivery in
            if delivery.notBefore <= now { due.append(delivery); return true }
            return false
        }
        guard !due.isEmpty else { return }
        ready.append(contentsOf: due.sorted { $0.id < $1.id })
        signal()
    }

    var backlog: Int { ready.count - readyHead + delayed.count + inFlight }

    /// Stops taking new deliveries; `run` returns once those in flight end.
    func stop() {
        stopping = true
        signal()
    }

    /// Delivers until `stop()`; then waits for the attempts in flight.
    func run() async {
        await withDiscardingTaskGroup { group in
            while !stopping {
                while inFlight < endpoint.maxInFlight, let delivery = nextReady() {
                    inFlight += 1
                    let attempt = delivery.attempts + 1
                    let prepared = prepare(delivery)
                    let started = Date().timeIntervalSince1970
                    group.addTask { [instance, endpoint] in
                        let outcome: DeliveryOutcome
                        switch prepared {
                        case .success(let (event, rendered)):
                            outcome = await instance.submit(deliveryID: delivery.push.deliveryID, attempt: attempt,
                                                            timeout: endpoint.timeoutSeconds, eventJSON: event,
                                                            renderedJSON: rendered)
                        case .failure(let error):
                            outcome = .fail(reason: error.description)
                        }
                        await self.finished(delivery, attempt: attempt, startedAt: started, outcome: outcome)
                    }
                }
                if !stopping { await withCheckedContinuation { waiting = $0 } }
            }
        }
    }

    private func nextReady() -> PendingDelivery? {
        guard readyHead < ready.count else { return nil }
        let delivery = ready[readyHead]
        readyHead += 1
        if readyHead > 1024, readyHead * 2 > ready.count {
            ready.removeFirst(readyHead)
            readyHead = 0
        }
        return delivery
    }

    private func signal() {
        waiting?.resume()
        waiting = nil
    }

    private func prepare(_ delivery: PendingDelivery) -> Result<([UInt8], [UInt8]), TemplateError> {
        let fields = delivery.push.fields
        do {
            let rendered = try templates.render(fields)
            let event = Array(JSONValue.object(fields).jsonText.utf8)
            let renderedJSON = Array(JSONValue.object(rendered.mapValues(JSONValue.string)).jsonText.utf8)
            return .success((event, renderedJSON))
        } catch {
            return .failure(error)
        }
    }

    private func finished(_ delivery: PendingDelivery, attempt: Int, startedAt: Double, outcome: DeliveryOutcome) {
        inFlight -= 1
        let now = Date().timeIntervalSince1970
        let next: AttemptRecord.Next
        switch outcome {
        case .ok:
            next = .delivered
        case .fail(let reason):
            next = .dead
            logger.warning("Delivery failed for good", metadata: [
                "delivery.id": "\(delivery.id)", "delivery.attempt": "\(attempt)", "reason": "\(reason)"])
        case .retry(let reason, let retryAfter):
            if let delay = endpoint.retry.delay(afterAttempt: attempt, retryAfter: retryAfter,
                                                unitRandom: Double.random(in: 0..<1)) {
                next = .retryAt(now + delay)
                delayed.append(PendingDelivery(id: delivery.id, push: delivery.push, attempts: attempt,
                                               notBefore: now + delay))
                logger.info("Delivery will be retried", metadata: [
                    "delivery.id": "\(delivery.id)", "delivery.attempt": "\(attempt)", "reason": "\(reason)",
                    "retry.in_seconds": "\(String(format: "%.2f", delay))"])
            } else {
                next = .dead
                logger.warning("Delivery dead-lettered after its last retry", metadata: [
                    "delivery.id": "\(delivery.id)", "delivery.attempt": "\(attempt)", "reason": "\(reason)"])
            }
        }
        pipeline.record(AttemptRecord(deliveryID: delivery.id, attempt: attempt, startedAt: startedAt,
                                      finishedAt: now, outcome: outcome, next: next))
        signal()
    }

    /// Closes the plugin instance; blocks, so it runs on its own thread.
    nonisolated func close() async {
        let instance = instance
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                instance.close()
                done.resume()
            }
        }
    }
}
