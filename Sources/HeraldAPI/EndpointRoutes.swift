public import HeraldDispatch
public import Hummingbird

/// A team's endpoints and their state: up, down (held and probed, with the
/// detail `/healthz` shows) or suspended.
public struct EndpointRoutes<Context: RequestContext>: Sendable {
    let dispatcher: Dispatcher
    let teams: TeamDirectory

    public init(dispatcher: Dispatcher, teams: TeamDirectory) {
        self.dispatcher = dispatcher
        self.teams = teams
    }

    public func addRoutes(to router: Hummingbird.Router<Context>) {
        // GET /api/v1/endpoints
        router.get("/api/v1/endpoints") { request, _ -> Response in
            let team = try teams.team(bearer: request.headers[.authorization])
            return try JSONAnswer.response(.ok, await dispatcher.endpointStates(team: team))
        }
        // GET /api/v1/endpoints/{name}; another team's is answered as missing.
        router.get("/api/v1/endpoints/:name") { request, context -> Response in
            let team = try teams.team(bearer: request.headers[.authorization])
            let name = try context.parameters.require("name")
            guard let state = await dispatcher.endpointStates(team: team).first(where: { $0.name == name }) else {
                throw APIError(.notFound, field: "name", "no such endpoint")
            }
            return try JSONAnswer.response(.ok, state)
        }
        // POST /api/v1/endpoints/{name}/test: a test alert through the endpoint now; the plugin's answer.
        router.post("/api/v1/endpoints/:name/test") { request, context -> Response in
            let team = try teams.team(bearer: request.headers[.authorization])
            let name = try context.parameters.require("name")
            do {
                return try JSONAnswer.response(.ok, try await dispatcher.testSend(team: team, endpoint: name))
            } catch Dispatcher.TestSendError.noSuchEndpoint {
                throw APIError(.notFound, field: "name", "no such endpoint")
            } catch Dispatcher.TestSendError.suspended {
                throw APIError(.conflict, field: "name", "the endpoint is suspended: its plugin hangs in a call")
            }
        }
    }
}
