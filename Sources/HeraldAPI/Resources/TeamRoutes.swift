import Foundation
import HeraldDispatch
import HeraldCore
import HeraldStore
public import Hummingbird

/// `/api/v1/teams`: the tenants. A team's token sees its own team; an admin
/// token sees all and makes and deletes teams. A team made here gets a
/// token, shown once in the answer and kept only as its SHA-256 digest.
extension ResourceRoutes {
    func addTeamRoutes(to router: Hummingbird.Router<HeraldRequestContext>) {
        // Whom the token acts for: {"admin":false,"team":"ops"} or {"admin":true,"team":null}.
        router.get("/api/v1/whoami") { _, context -> Response in
            let team: JSONValue = switch try context.caller() {
            case .team(let name): .string(name)
            case .admin: .null
            }
            return try ResourceRequest.answer(.ok, ["admin": .bool(team == .null), "team": team])
        }
        router.get("/api/v1/teams") { _, context -> Response in
            let caller = try context.caller()
            let config = dispatcher.config
            return try JSONAnswer.response(.ok, JSONValue.array(config.teams.filter { caller.owns($0.name) }
                .map { .object(view($0, config)) }))
        }
        router.get("/api/v1/teams/:name") { _, context -> Response in
            let (team, config) = try find(context)
            return try ResourceRequest.answer(.ok, view(team, config))
        }
        router.post("/api/v1/teams") { request, context -> Response in
            try requireAdmin(context)
            let body = try await ResourceRequest.object(request)
            let name = try ResourceRequest.name(body)
            guard !dispatcher.config.teams.contains(where: { $0.name == name }) else {
                throw APIError(.conflict, field: "name", "a team named \"\(name)\" exists")
            }
            var projects: [JSONValue] = []
            if let value = body["project_ids"] {
                guard case .array(let items) = value else { throw APIError(.badRequest, field: "project_ids", "expected a list") }
                projects = items
            }
            let token = "hrld_" + (0..<4).map { _ in String(format: "%016llx", UInt64.random(in: 0...UInt64.max)) }.joined()
            let stored: [String: JSONValue] = [
                "name": .string(name), "project_ids": .array(projects),
                "token_sha256": .array([.string(TeamDirectory.hex(TeamDirectory.digest(token)))]),
            ]
            _ = try await state.change(saving: [StoredResource(kind: .team, name: name, team: name, body: .object(stored))],
                                       deleting: [])
            let config = dispatcher.config
            guard let team = config.teams.first(where: { $0.name == name }) else { throw APIError(.internalServerError, "not applied") }
            // The only time the token is shown.
            return try ResourceRequest.answer(.created, view(team, config).merging(["token": .string(token)]) { $1 })
        }
        router.delete("/api/v1/teams/:name") { request, context -> Response in
            try requireAdmin(context)
            let (team, config) = try find(context)
            guard !config.isProvisioned(.team, team.name) else { throw ResourceRequest.provisioned("team", team.name) }
            let endpoints = config.endpoints.filter { $0.team == team.name }.map { (StoredResource.Kind.endpoint, $0.name) }
            let policies = config.policies.filter { $0.team == team.name }.map { (StoredResource.Kind.policy, $0.id) }
            let owned = endpoints + policies
            if !owned.isEmpty {
                guard ResourceRequest.force(request) else {
                    throw APIError(.conflict, field: "name", "the team has \(endpoints.count) endpoints and \(policies.count) policies; "
                                   + "?force=true deletes them with it")
                }
                if let fromFile = owned.first(where: { config.isProvisioned($0.0, $0.1) }) {
                    throw APIError(.conflict, field: "name", "\(fromFile.0.rawValue) \"\(fromFile.1)\" of the team comes from the config file")
                }
            }
            _ = try await state.change(saving: [], deleting: owned + [(.team, team.name)])
            return Response(status: .noContent)
        }
    }

    private func requireAdmin(_ context: HeraldRequestContext) throws(APIError) {
        guard try context.caller() == .admin else {
            throw APIError(.forbidden, field: "Authorization", "teams are made and deleted with an admin token")
        }
    }

    private func find(_ context: HeraldRequestContext) throws -> (Team, HeraldConfig) {
        try named(context, "team", in: \.teams, name: \.name, team: \.name)
    }

    private func view(_ team: Team, _ config: HeraldConfig) -> [String: JSONValue] {
        [
            "name": .string(team.name), "project_ids": .array(team.projectIDs.map(JSONValue.string)),
            "tokens": .number(Double(team.tokens.count + team.tokenDigests.count)),
            "endpoints": .number(Double(config.endpoints.filter { $0.team == team.name }.count)),
            "policies": .number(Double(config.policies.filter { $0.team == team.name }.count)),
            "provisioned": .bool(config.isProvisioned(.team, team.name)),
        ]
    }
}
