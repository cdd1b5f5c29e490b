import Foundation
import HeraldCore
import HeraldStore
import Synchronization

/// Routes events through policies and the endpoints' throttles, producing
/// what one commit writes. Keeps the throttle state in memory (loaded from
/// the store at start) and changes it only once a commit succeeded.
struct Planner: Sendable {
    struct Plan: Sendable {
        var batch = IngestBatch()
        /// Events no policy matched, by team.
        var unrouted: [String: Int] = [:]
        /// Pushes held back, by endpoint and reason.
        var suppressed: [Suppression: Int] = [:]

        struct Suppression: Hashable, Sendable {
            let endpoint: String
            let reason: SuppressReason
        }

        func push(for delivery: NewDelivery, id: Int64) -> Push {
            Push(event: batch.events[delivery.eventIndex], policy: delivery.policy, endpoint: delivery.endpoint,
                 level: delivery.level, previousLevel: delivery.previousLevel, deliveryID: PendingDelivery.deliveryID(id))
        }
    }

    var router: Router
    var endpoints: [String: Endpoint]
    /// Shared, not copied: the writer plans inside its commit with a copy
    /// of the planner, and a copied dictionary would be copied whole each
    /// time `keep` changes it, every batch (it has a key per object).
    let throttle: ThrottleBook
    let now: @Sendable () -> Double

    /// Plans a batch without changing the kept state, so a failed commit
    /// leaves nothing half-applied.
    func plan(_ events: [Event]) -> Plan {
        var plan = Plan()
        plan.batch.events = events
        let now = now()
        for (index, event) in events.enumerated() {
            if event.status == .resolved {
                plan.batch.disarmTimeouts.insert(event.alertKey)
                plan.batch.armTimeouts[event.alertKey] = nil
            } else if let timeout = event.timeoutSeconds, timeout > 0 {
                let deadline = max(event.startsAt.timeIntervalSince1970, now) + Double(timeout)
                plan.batch.armTimeouts[event.alertKey] = (index, deadline)
                plan.batch.disarmTimeouts.remove(event.alertKey)
            }
            let routes = router.routes(for: event)
            if routes.isEmpty { plan.unrouted[event.team, default: 0] += 1 }
            for route in routes {
                guard let endpoint = endpoints[route.endpoint] else { continue }
                let key = ThrottleKey(endpoint: route.endpoint, policy: route.policy, objectID: event.objectID)
                // A key touched earlier in this batch counts with its new state.
                let state = plan.batch.throttle[key] ?? throttle.state(of: key)
                let decision = endpoint.throttle.decide(level: event.pushLevel, levels: endpoint.levels,
                                                        state: state, now: now)
                if decision.state != state { plan.batch.throttle[key] = .some(decision.state) }
                if let reason = decision.suppressed {
                    plan.suppressed[Plan.Suppression(endpoint: route.endpoint, reason: reason), default: 0] += 1
                    plan.batch.suppressions.append(NewSuppression(eventIndex: index, endpoint: route.endpoint,
                                                                  policy: route.policy, reason: reason.rawValue))
                } else {
                    plan.batch.deliveries.append(NewDelivery(
                        eventIndex: index, endpoint: route.endpoint, policy: route.policy, level: event.pushLevel,
                        previousLevel: state?.lastLevel))
                }
            }
        }
        return plan
    }

    func keep(_ plan: Plan) {
        throttle.apply(plan.batch.throttle)
    }
}

/// Every throttle key's state, as committed.
final class ThrottleBook: Sendable {
    private let states: Mutex<[ThrottleKey: ThrottleState]>

    init(_ states: [ThrottleKey: ThrottleState]) {
        self.states = Mutex(states)
    }

    func state(of key: ThrottleKey) -> ThrottleState? {
        states.withLock { $0[key] }
    }

    /// Sets each key's new state; nil forgets the key.
    func apply(_ changes: [ThrottleKey: ThrottleState?]) {
        states.withLock { states in
            for (key, state) in changes { states[key] = state }
        }
    }
}
