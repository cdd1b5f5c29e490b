public import HeraldDispatch
public import Hummingbird

/// `GET /healthz`: 200 while the daemon runs (it is a liveness check), with
/// each endpoint's state, so a hanging plugin shows as its endpoint
/// `suspended`:
/// `{"status":"ok","endpoints":[{"name":"ops","channel":"http","state":"up"}]}`.
public struct HealthRoutes<Context: RequestContext>: Sendable {
    let dispatcher: Dispatcher

    public init(dispatcher: Dispatcher) { self.dispatcher = dispatcher }

    private struct Health: Encodable {
        let status: String
        let endpoints: [EndpointState]
    }

    public func addRoutes(to router: Hummingbird.Router<Context>) {
        router.get("/healthz") { _, _ -> Response in
            try JSONAnswer.response(.ok, Health(status: "ok", endpoints: await dispatcher.endpointStates()))
        }
    }
}
