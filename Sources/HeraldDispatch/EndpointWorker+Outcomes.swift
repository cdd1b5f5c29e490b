import Foundation
import HeraldCore
import HeraldStore
import HeraldTelemetry
import Logging

/// What an attempt's outcome means for the delivery and for the endpoint.
extension EndpointWorker {
    /// Takes an attempt's outcome: records it, and retries, holds or
    /// dead-letters the delivery. One call per attempt (one hop onto the
    /// worker), so it also does `returned(from:)`.
    /// - Parameter generation: the instance it went to, which closes if
    ///   it was replaced and this was its last submission out.
    func finished(_ delivery: PendingDelivery, attempt: Int, startedAt: Double, outcome: DeliveryOutcome,
                  generation: Int) async {
        inFlight -= 1
        let wasProbe = delivery.id == probeID
        if wasProbe { probeID = nil }
        carefulInFlight.remove(delivery.id)
        suspectGroups[delivery.id] = nil
        let now = Date().timeIntervalSince1970
        var outcome = outcome
        var next: AttemptRecord.Next
        var change: EndpointHealth.Change?
        // The plugin came back from this one: not the one that crashes it.
        if case .crash = outcome {} else { suspects.remove(delivery.id) }
        metrics.attempted(outcome: outcome.name, seconds: now - startedAt)
        switch outcome {
        case .ok:
            next = .delivered
            change = health.answered(now: now)
        case .fail(let reason):
            next = .dead
            change = health.answered(now: now)
            logger.warning("Delivery failed for good", metadata: [
                "delivery.id": "\(delivery.id)", "delivery.attempt": "\(attempt)", "reason": "\(reason)"])
        case .crash(let reason, let alone):
            next = crashed(delivery, attempt: attempt, reason: reason, alone: alone, now: now)
            if next == .dead {
                outcome = .crash(reason: "poison: the plugin crashed \(poisonAfter) times with this delivery alone in flight; last: \(reason)",
                                 alone: alone)
            }
        case .retry(let reason, let retryAfter, let endpointDown):
            if endpointDown {
                change = health.endpointFailed(reason: reason, retryAfter: retryAfter, now: now, rule: endpoint.health,
                                               probe: wasProbe)
            } else {
                change = health.answered(now: now)
            }
            if health.isDown {
                // Held: back in its place, its retries untouched, until a probe gets through.
                next = .held
                putBack(delivery)
            } else if let delay = endpoint.retry.delay(afterAttempt: attempt, retryAfter: retryAfter,
                                                       unitRandom: Double.random(in: 0..<1)) {
                next = .retryAt(now + delay)
                delayed.append(delivery.with(attempts: attempt, notBefore: now + delay))
                logger.info("Delivery will be retried", metadata: [
                    "delivery.id": "\(delivery.id)", "delivery.attempt": "\(attempt)", "reason": "\(reason)",
                    "retry.in_seconds": "\(String(format: "%.2f", delay))"])
            } else {
                next = .dead
                logger.warning("Delivery dead-lettered after its last retry", metadata: [
                    "delivery.id": "\(delivery.id)", "delivery.attempt": "\(attempt)", "reason": "\(reason)"])
            }
        }
        var record = AttemptRecord(deliveryID: delivery.id, attempt: attempt, startedAt: startedAt, finishedAt: now,
                                   outcome: outcome, next: next)
        if next == .dead {
            (record.fallback, record.fallbackKey) = fallback(for: delivery, reason: outcome.reason)
        } else if next == .delivered, delivery.push.level != .recovery, fallbackKeys.remove(key(of: delivery)) != nil {
            // Its firing push reached this endpoint again: its recovery need not go elsewhere.
            record.fallbackKey = .cleared(key(of: delivery))
        }
        self.record(record, createdAt: delivery.createdAt)
        inFlightKeys.remove(key(of: delivery))
        if !parked.isEmpty { releaseParked() }
        signal()
        if let change { await report(change, now: now) }
        await returned(from: generation)
    }

    /// Hands an attempt's record to the writer, counting what it ends.
    func record(_ record: AttemptRecord, createdAt: Double) {
        switch record.next {
        case .delivered: metrics.delivered(secondsSinceStored: record.finishedAt - createdAt)
        case .dead: metrics.deadLettered()
        case .retryAt: metrics.retryScheduled()
        case .held: break
        }
        pipeline.record(record)
    }

    func key(of delivery: PendingDelivery) -> ThrottleKey {
        ThrottleKey(endpoint: endpoint.name, policy: delivery.push.policy, objectID: delivery.push.event.objectID)
    }

    /// Where a dead delivery goes instead: this endpoint's fallbacks, with
    /// the reason it died. A firing push that goes there takes its key
    /// with it, so the alert's recovery follows.
    func fallback(for delivery: PendingDelivery, reason: String) -> (Fallback?, FallbackKeyChange?) {
        guard !endpoint.fallback.isEmpty else { return (nil, nil) }
        logger.notice("Delivery goes to the fallback endpoints", metadata: [
            "delivery.id": "\(delivery.id)", "fallback": "\(endpoint.fallback.joined(separator: ","))", "reason": "\(reason)"])
        let fallback = Fallback(push: delivery.push, endpoints: endpoint.fallback, reason: reason, createdAt: delivery.createdAt)
        guard delivery.push.level != .recovery else { return (fallback, nil) }
        fallbackKeys.insert(key(of: delivery))
        return (fallback, .fellBack(key(of: delivery)))
    }

    /// A recovery whose alert's firing push went to the fallbacks goes
    /// there too, not here: a receiver never gets a resolve without its
    /// trigger. Returns whether it was sent that way.
    func followsItsTriggerToTheFallbacks(_ delivery: PendingDelivery, now: Double) -> Bool {
        guard delivery.push.level == .recovery, fallbackKeys.remove(key(of: delivery)) != nil else { return false }
        var record = AttemptRecord(deliveryID: delivery.id, attempt: delivery.attempts + 1, startedAt: now, finishedAt: now,
                                   outcome: .fail(reason: "its alert's firing push went to the fallback endpoints"),
                                   next: .dead, fallbackKey: .cleared(key(of: delivery)))
        record.fallback = fallback(for: delivery, reason: record.outcome.reason).0
        self.record(record, createdAt: delivery.createdAt)
        return true
    }

    /// Dead-letters (to the fallbacks) a delivery that waited past
    /// `max_age`; returns whether it did.
    func expire(_ delivery: PendingDelivery, now: Double) -> Bool {
        guard now - delivery.createdAt > endpoint.health.maxAgeSeconds else { return false }
        let reason = health.isDown ? "expired while the endpoint was down"
            : "expired: waited longer than max_age"
        var record = AttemptRecord(deliveryID: delivery.id, attempt: delivery.attempts + 1, startedAt: now, finishedAt: now,
                                   outcome: .fail(reason: reason), next: .dead)
        (record.fallback, record.fallbackKey) = fallback(for: delivery, reason: reason)
        self.record(record, createdAt: delivery.createdAt)
        return true
    }

    /// While down: every held delivery past `max_age` is dead-lettered now,
    /// so its fallbacks get it without waiting for the endpoint.
    func expireHeld(now: Double) {
        let maxAge = endpoint.health.maxAgeSeconds
        let old = { (delivery: PendingDelivery) in now - delivery.createdAt > maxAge }
        guard ready[readyHead...].contains(where: old) || delayed.contains(where: old) else { return }
        var kept: [PendingDelivery] = []
        for delivery in ready[readyHead...] where !expire(delivery, now: now) { kept.append(delivery) }
        ready = kept
        readyHead = 0
        delayed.removeAll { expire($0, now: now) }
    }

    /// One log line per change of the endpoint's health, its state kept
    /// in the store so a restart holds instead of trying everything.
    func report(_ change: EndpointHealth.Change, now: Double) async {
        switch change {
        case .wentDown:
            // What waits to be retried is held too, in its place in line.
            for delivery in delayed { putBack(delivery.with(attempts: delivery.attempts, notBefore: 0)) }
            delayed.removeAll()
            releaseParked()
            logger.error("Endpoint down: holding its deliveries and probing it", metadata: [
                "plugin": "\(endpoint.channel)", "reason": "\(health.lastError ?? "")",
                "deliveries.held": "\(inMemory)\(spilling ? "+" : "")"])
            do { try await store.setEndpointDown(endpoint.name, since: now) } catch {
                logger.error("Could not store the endpoint's state", metadata: ["error": "\(error)"])
            }
        case .cameBack(let downSeconds):
            let held = (try? await store.pendingCount(endpoint: endpoint.name)) ?? inMemory
            logger.notice("Endpoint back up: delivering what it held", metadata: [
                "plugin": "\(endpoint.channel)", "down_seconds": "\(Int(downSeconds))", "deliveries.held": "\(held)"])
            do { try await store.setEndpointDown(endpoint.name, since: nil) } catch {
                logger.error("Could not store the endpoint's state", metadata: ["error": "\(error)"])
            }
            signal()
        }
    }
}
