import Foundation

/// Decides which events of a team go to which of its endpoints.
///
/// A policy matches an event when every matcher matches its labels (a
/// policy with no matchers takes every event of its team), or when the
/// event names the policy explicitly by id.
public struct Policy: Sendable, Equatable {
    public var id: String
    public var team: String
    public var matchers: [Matcher]
    /// Names of endpoints of the same team.
    public var endpoints: [String]

    public init(id: String, team: String, matchers: [Matcher] = [], endpoints: [String]) {
        self.id = id
        self.team = team
        self.matchers = matchers
        self.endpoints = endpoints
    }

    /// The matchers as a Prometheus-style selector, `{service="api", env!~"dev|test"}`;
    /// `{}` for a policy that takes every event.
    public var selector: String {
        let parts = matchers.map { matcher in
            let value = matcher.value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\(matcher.label)\(matcher.op.rawValue)\"\(value)\""
        }
        return "{\(parts.joined(separator: ", "))}"
    }

    public func matches(_ event: Event) -> Bool {
        guard event.team == team else { return false }
        if let explicit = event.policyID { return explicit == id }
        let labels = event.matchLabels
        return matchers.allSatisfy { $0.matches(labels) }
    }
}

/// One (policy, endpoint) pair an event is routed to.
public struct Route: Sendable, Hashable {
    public let policy: String
    public let endpoint: String

    public init(policy: String, endpoint: String) {
        self.policy = policy
        self.endpoint = endpoint
    }
}

/// The routing table: every policy, checked in order.
public struct Router: Sendable {
    public let policies: [Policy]

    public init(policies: [Policy]) { self.policies = policies }

    /// Every (policy, endpoint) pair the event goes to, without repeats.
    public func routes(for event: Event) -> [Route] {
        var seen = Set<Route>()
        var routes: [Route] = []
        for policy in policies where policy.matches(event) {
            for endpoint in policy.endpoints {
                let route = Route(policy: policy.id, endpoint: endpoint)
                if seen.insert(route).inserted { routes.append(route) }
            }
        }
        return routes
    }
}
