import Foundation
import HeraldCore
import Testing

struct RouterTests {
    static func event(team: String = "ops", name: String = "HighCPU", labels: [String: String] = [:],
                      policy: String? = nil) -> Event {
        Event(id: "e1", team: team, name: name, level: .critical, objectID: "host-1", labels: labels,
              startsAt: Date(timeIntervalSince1970: 0), policyID: policy)
    }

    let router = Router(policies: [
        Policy(id: "api", team: "ops", matchers: [try! Matcher("service=api")], endpoints: ["hook", "mail"]),
        Policy(id: "cpu", team: "ops", matchers: [try! Matcher("alertname=~High.*")], endpoints: ["hook"]),
        Policy(id: "other-team", team: "dev", matchers: [], endpoints: ["dev-hook"]),
    ])

    @Test func eventGoesToEveryMatchingPolicyOfItsTeam() {
        let routes = router.routes(for: Self.event(labels: ["service": "api"]))
        #expect(routes == [Route(policy: "api", endpoint: "hook"), Route(policy: "api", endpoint: "mail"),
                           Route(policy: "cpu", endpoint: "hook")])
    }

    @Test func policyOfAnotherTeamNeverMatches() {
        #expect(router.routes(for: Self.event(team: "ops", name: "Other")).isEmpty)
        #expect(router.routes(for: Self.event(team: "dev")) == [Route(policy: "other-team", endpoint: "dev-hook")])
    }

    @Test func explicitPolicyIDOverridesMatchers() {
        let routes = router.routes(for: Self.event(name: "Nothing", labels: [:], policy: "api"))
        #expect(routes.map(\.policy) == ["api", "api"])
    }

    @Test func builtInLabelsCanBeMatched() throws {
        let router = Router(policies: [Policy(id: "p", team: "ops", matchers: [try Matcher("level=Critical"),
                                                                                  try Matcher("object_id=host-1")],
                                              endpoints: ["e"])])
        #expect(router.routes(for: Self.event()).count == 1)
    }
}
