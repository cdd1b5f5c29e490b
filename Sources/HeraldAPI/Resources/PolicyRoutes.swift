import Foundation
import HeraldDispatch
import HeraldCore
import HeraldStore
public import Hummingbird

/// `/api/v1/policies`: a team's alert policies (matchers and the endpoints
/// they send to). A change routes the next event.
extension ResourceRoutes {
    func addPolicyRoutes(to router: Hummingbird.Router<HeraldRequestContext>) {
        router.get("/api/v1/policies") { request, context -> Response in
            let team = try context.team(naming: request.uri.queryParameters["team"].map(String.init))
            let config = dispatcher.config
            return try JSONAnswer.response(.ok, JSONValue.array(config.policies.filter { team == nil || $0.team == team }
                .map { .object(view($0, config)) }))
        }
        router.get("/api/v1/policies/:name") { _, context -> Response in
            let (policy, config) = try find(context)
            return try ResourceRequest.answer(.ok, view(policy, config))
        }
        router.post("/api/v1/policies") { request, context -> Response in
            let caller = try context.caller()
            let body = try await ResourceRequest.object(request)
            let name = try ResourceRequest.name(body)
            let team = try ResourceRequest.team(body, caller: caller, teams: teams)
            guard !dispatcher.config.policies.contains(where: { $0.id == name }) else {
                throw APIError(.conflict, field: "name", "a policy named \"\(name)\" exists")
            }
            _ = try await state.change(saving: [StoredResource(kind: .policy, name: name, team: team,
                                                               body: .object(body.merging(["team": .string(team)]) { $1 }))],
                                       deleting: [])
            return try answer(.created, name)
        }
        router.put("/api/v1/policies/:name") { request, context -> Response in
            let (policy, config) = try find(context)
            guard !config.isProvisioned(.policy, policy.id) else { throw ResourceRequest.provisioned("policy", policy.id) }
            var body = try await ResourceRequest.object(request)
            _ = try ResourceRequest.name(body, matching: policy.id)
            let team = try ResourceRequest.team(body, caller: try context.caller(), teams: teams, current: policy.team)
            body["name"] = .string(policy.id)
            body["team"] = .string(team)
            _ = try await state.change(saving: [StoredResource(kind: .policy, name: policy.id, team: team, body: .object(body))],
                                       deleting: [])
            return try answer(.ok, policy.id)
        }
        router.delete("/api/v1/policies/:name") { _, context -> Response in
            let (policy, config) = try find(context)
            guard !config.isProvisioned(.policy, policy.id) else { throw ResourceRequest.provisioned("policy", policy.id) }
            _ = try await state.change(saving: [], deleting: [(.policy, policy.id)])
            return Response(status: .noContent)
        }
    }

    private func find(_ context: HeraldRequestContext) throws -> (Policy, HeraldConfig) {
        try named(context, "policy", in: \.policies, name: \.id, team: \.team)
    }

    private func view(_ policy: Policy, _ config: HeraldConfig) -> [String: JSONValue] {
        ConfigBody.policy(policy).merging(["provisioned": .bool(config.isProvisioned(.policy, policy.id))]) { $1 }
    }

    private func answer(_ status: HTTPResponse.Status, _ name: String) throws -> Response {
        let config = dispatcher.config
        guard let policy = config.policies.first(where: { $0.id == name }) else { throw APIError(.internalServerError, "not applied") }
        return try ResourceRequest.answer(status, view(policy, config))
    }
}
