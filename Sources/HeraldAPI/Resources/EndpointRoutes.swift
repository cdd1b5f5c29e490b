import Foundation
import HeraldDispatch
import HeraldCore
import HeraldPluginHost
import HeraldStore
public import Hummingbird

/// `/api/v1/endpoints`: a team's push endpoints. Each shows its settings
/// (secrets as `"(set)"`), how many policies use it, whether it comes from
/// the config file (`provisioned`, read-only here) and its state. Made,
/// edited and deleted live; configs checked as the file's are.
extension ResourceRoutes {
    func addEndpointRoutes(to router: Hummingbird.Router<HeraldRequestContext>) {
        router.get("/api/v1/endpoints") { request, context -> Response in
            let team = try context.team(naming: request.uri.queryParameters["team"].map(String.init))
            let config = dispatcher.config
            var views: [JSONValue] = []
            for endpoint in config.endpoints where team == nil || endpoint.team == team {
                views.append(.object(await view(endpoint, config)))
            }
            return try JSONAnswer.response(.ok, JSONValue.array(views))
        }
        router.get("/api/v1/endpoints/:name") { _, context -> Response in
            let (endpoint, config) = try endpoint(context)
            return try ResourceRequest.answer(.ok, await view(endpoint, config))
        }
        router.get("/api/v1/endpoints/:name/policies") { _, context -> Response in
            let (endpoint, config) = try endpoint(context)
            let users = config.policies.filter { $0.endpoints.contains(endpoint.name) }
            return try JSONAnswer.response(.ok, JSONValue.array(users.map { policy in
                .object(ConfigBody.policy(policy).merging(["provisioned": .bool(config.isProvisioned(.policy, policy.id))]) { $1 })
            }))
        }
        router.post("/api/v1/endpoints") { request, context -> Response in
            let caller = try context.caller()
            let body = try await ResourceRequest.object(request)
            let name = try ResourceRequest.name(body)
            let team = try ResourceRequest.team(body, caller: caller, teams: teams)
            try checkChannel(body, caller: caller)
            guard !dispatcher.config.endpoints.contains(where: { $0.name == name }) else {
                throw APIError(.conflict, field: "name", "an endpoint named \"\(name)\" exists")
            }
            let item = StoredResource(kind: .endpoint, name: name, team: team, body: .object(body.merging(["team": .string(team)]) { $1 }))
            _ = try await state.change(saving: [item], deleting: [])
            return try await answer(.created, name)
        }
        router.put("/api/v1/endpoints/:name") { request, context -> Response in
            let (endpoint, config) = try endpoint(context)
            guard !config.isProvisioned(.endpoint, endpoint.name) else { throw ResourceRequest.provisioned("endpoint", endpoint.name) }
            var body = try await ResourceRequest.object(request)
            _ = try ResourceRequest.name(body, matching: endpoint.name)
            let team = try ResourceRequest.team(body, caller: try context.caller(), teams: teams, current: endpoint.team)
            try checkChannel(body, caller: try context.caller())
            body["name"] = .string(endpoint.name)
            body["team"] = .string(team)
            if let config = body["config"] { body["config"] = try await keepingSecrets(config, of: endpoint) }
            _ = try await state.change(saving: [StoredResource(kind: .endpoint, name: endpoint.name, team: team, body: .object(body))],
                                       deleting: [])
            return try await answer(.ok, endpoint.name)
        }
        router.delete("/api/v1/endpoints/:name") { request, context -> Response in
            let (endpoint, config) = try endpoint(context)
            guard !config.isProvisioned(.endpoint, endpoint.name) else { throw ResourceRequest.provisioned("endpoint", endpoint.name) }
            let saving = try await unlink(endpoint.name, from: config, force: ResourceRequest.force(request))
            _ = try await state.change(saving: saving, deleting: [(.endpoint, endpoint.name)])
            return Response(status: .noContent)
        }
        // A test alert through the endpoint now; the plugin's answer.
        router.post("/api/v1/endpoints/:name/test") { _, context -> Response in
            let (endpoint, _) = try endpoint(context)
            do {
                return try JSONAnswer.response(.ok, try await dispatcher.testSend(team: nil, endpoint: endpoint.name))
            } catch Dispatcher.TestSendError.noSuchEndpoint {
                throw APIError(.conflict, field: "name", "the endpoint's plugin could not open it; see the log")
            } catch Dispatcher.TestSendError.suspended {
                throw APIError(.conflict, field: "name", "the endpoint is suspended: its plugin hangs in a call")
            }
        }
    }

    /// The endpoint the path names, if the caller may see it.
    func endpoint(_ context: HeraldRequestContext) throws -> (Endpoint, HeraldConfig) {
        try named(context, "endpoint", in: \.endpoints, name: \.name, team: \.team)
    }

    /// A team's token makes endpoints of the channels open to teams only.
    private func checkChannel(_ body: [String: JSONValue], caller: Caller) throws(APIError) {
        guard caller != .admin, case .string(let channel)? = body["channel"] else { return }
        let open = dispatcher.config.teamChannels
        guard open.contains(channel) else {
            throw APIError(.forbidden, field: "channel", "\"\(channel)\" is not open to teams (api.team_channels: \(open.sorted().joined(separator: ", ")))")
        }
    }

    private func answer(_ status: HTTPResponse.Status, _ name: String) async throws -> Response {
        let config = dispatcher.config
        guard let endpoint = config.endpoints.first(where: { $0.name == name }) else {
            throw APIError(.internalServerError, "the change was not applied")
        }
        return try ResourceRequest.answer(status, await view(endpoint, config))
    }

    private func view(_ endpoint: Endpoint, _ config: HeraldConfig) async -> [String: JSONValue] {
        let secrets = dispatcher.catalog.plugins[endpoint.channel]?.schema.secretFields ?? []
        var view = ConfigBody.endpoint(endpoint, secrets: secrets)
        view["policies"] = .number(Double(config.policies.filter { $0.endpoints.contains(endpoint.name) }.count))
        view["provisioned"] = .bool(config.isProvisioned(.endpoint, endpoint.name))
        if let state = await dispatcher.endpointStates(team: endpoint.team).first(where: { $0.name == endpoint.name }) {
            let members = ResourceRequest.members(state)
            view["state"] = members["state"]
            for key in ["down", "suspended_since", "reason"] where members[key] != nil { view[key] = members[key] }
        } else {
            // Its plugin could not open it (logged); its deliveries wait in the store.
            view["state"] = .string("disabled")
        }
        return view
    }

    /// A secret sent back as `"(set)"` keeps the value in force.
    private func keepingSecrets(_ config: JSONValue, of endpoint: Endpoint) async throws(APIError) -> JSONValue {
        guard case .object(var members) = config else { return config }
        let stored = await state.stored.first { $0.kind == .endpoint && $0.name == endpoint.name }
        let previous = stored?.body.objectValue?["config"]?.objectValue ?? [:]
        for (key, value) in members where value == .string(ConfigBody.secretMask) {
            guard let kept = previous[key] else { throw APIError(.badRequest, field: "config.\(key)", "no value is set to keep") }
            members[key] = kept
        }
        return .object(members)
    }

    /// Before deleting an endpoint: the policies and fallbacks that name it
    /// refuse the delete (409 naming them), or with `force` lose it (those
    /// made through the API; the config file's cannot be changed here).
    private func unlink(_ name: String, from config: HeraldConfig, force: Bool) async throws(APIError) -> [StoredResource] {
        let policies = config.policies.filter { $0.endpoints.contains(name) }
        let fallbacks = config.endpoints.filter { $0.fallback.contains(name) }
        guard !policies.isEmpty || !fallbacks.isEmpty else { return [] }
        let users = policies.map { "policy \($0.id)" } + fallbacks.map { "endpoint \($0.name) (fallback)" }
        guard force else {
            throw APIError(.conflict, field: "name", "used by \(users.joined(separator: ", ")); ?force=true removes it from them")
        }
        let fixed = policies.map { (StoredResource.Kind.policy, $0.id) } + fallbacks.map { (StoredResource.Kind.endpoint, $0.name) }
        if let fromFile = fixed.first(where: { config.isProvisioned($0.0, $0.1) }) {
            throw APIError(.conflict, field: "name", "\(fromFile.0.rawValue) \"\(fromFile.1)\" from the config file names it; change the file")
        }
        let stored = await state.stored
        return fixed.compactMap { kind, itemName in
            guard let item = stored.first(where: { $0.kind == kind && $0.name == itemName }),
                  case .object(var body) = item.body else { return nil }
            let key = kind == .policy ? "endpoints" : "fallback"
            let kept: [JSONValue] = (body[key].flatMap { if case .array(let items) = $0 { items } else { nil } } ?? [])
                .filter { $0 != .string(name) }
            body[key] = .array(kept)
            return StoredResource(kind: kind, name: itemName, team: item.team, body: .object(body))
        }
    }
}
