import Foundation
import HeraldCore
import HeraldPluginHost
import HeraldStore
import Logging

/// Plugins that crash or hang cost their own endpoint, never the daemon.
extension EndpointWorker {
    /// Turns careful mode on for the deliveries pending up to `id`, and
    /// the suspects of the last crash (those of other endpoints are
    /// ignored): after an unclean stop of the daemon (isolation none), what
    /// was pending then goes out in groups marked durably in flight,
    /// nothing else beside them; a crash of the daemon is then blamed on
    /// the group, the next start splits it, and a delivery that crashes it
    /// alone `poisonAfter` times is poison.
    func deliverCarefully(through id: Int64, suspects: [Int64: Int]) {
        carefulUntil = id
        suspectGroups = suspects
        logger.notice("After an unclean stop, the deliveries pending then go out in small marked groups", metadata: [
            "delivery.last_id": "\(id)", "deliveries.suspected": "\(suspects.count)"])
    }

    func isCareful(_ delivery: PendingDelivery) -> Bool {
        delivery.id <= carefulUntil || suspectGroups[delivery.id] != nil
    }

    /// The next careful group from the head of the queue: a suspect goes
    /// out in a group a quarter the size of the one it crashed in (so a few
    /// more crashes find the one delivery), the rest in groups of 32.
    func takeCarefulGroup() -> [PendingDelivery] {
        func size(_ delivery: PendingDelivery) -> Int {
            suspectGroups[delivery.id].map { max(1, $0 / 4) } ?? Self.carefulGroupSize
        }
        guard let first = nextReady() else { return [] }
        var group = [first]
        let limit = min(size(first), endpoint.maxInFlight)
        while group.count < limit, let next = peekReady(), isCareful(next), size(next) >= limit, let taken = nextReady() {
            group.append(taken)
        }
        return group
    }

    static var carefulGroupSize: Int { 32 }

    /// A crash of the plugin (isolation process) with `delivery` in flight:
    /// tried again (the worker restarts meanwhile), alone while it is a
    /// suspect, and dead as poison after `poisonAfter` crashes with it
    /// alone in flight.
    func crashed(_ delivery: PendingDelivery, attempt: Int, reason: String, alone: Bool,
                 now: Double) -> AttemptRecord.Next {
        guard alone else {
            suspects.insert(delivery.id)
            delayed.append(delivery.with(attempts: attempt, notBefore: now + 1))
            return .retryAt(now + 1)
        }
        suspects.remove(delivery.id)
        let crashes = (soloCrashes[delivery.id] ?? 0) + 1
        soloCrashes[delivery.id] = crashes
        guard crashes < poisonAfter else {
            soloCrashes[delivery.id] = nil
            logger.error("Delivery dead-lettered as poison: the plugin crashed on it each time", metadata: [
                "delivery.id": "\(delivery.id)", "plugin": "\(endpoint.channel)", "crashes": "\(crashes)",
                "reason": "\(reason)"])
            return .dead
        }
        delayed.append(delivery.with(attempts: attempt, notBefore: now + 1))
        return .retryAt(now + 1)
    }

    /// A plugin call (submit, close) that runs past the endpoint's timeout
    /// suspends the endpoint: it holds a thread of its own only, so ingest
    /// and the other endpoints go on. It resumes when the call returns.
    func watchForHangs(now: Double) {
        instance.watchdog()
        let available = instance.isAvailable()
        if available && !wasAvailable { signal() }
        wasAvailable = available
        let busy = instance.busyFor()
        if let busy, busy > endpoint.timeoutSeconds, suspension == nil {
            let reason = "the \(endpoint.channel) plugin has not returned from a call for \(Int(busy)) s"
            suspension = Suspension(since: now - busy, reason: reason)
            logger.error("Endpoint suspended: its plugin hangs in a call", metadata: [
                "plugin": "\(endpoint.channel)", "hung_seconds": "\(Int(busy))",
                "timeout_seconds": "\(endpoint.timeoutSeconds)"])
        } else if busy == nil, let suspended = suspension {
            suspension = nil
            logger.notice("Endpoint resumed: its plugin returned", metadata: [
                "plugin": "\(endpoint.channel)", "suspended_seconds": "\(Int(now - suspended.since))"])
            signal()
        }
    }
}
