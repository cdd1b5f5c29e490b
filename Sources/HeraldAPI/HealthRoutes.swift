public import HeraldDispatch
public import Hummingbird
public import Prometheus

/// Health and metrics, unauthenticated as Prometheus and load balancers
/// expect (they tell how the daemon runs, nothing of a team's alerts
/// beyond endpoint names and counts):
///
/// - `GET /healthz`: 200 while the daemon runs, with each endpoint's state
///   (`up`, `down`, `suspended`):
///   `{"status":"ok","endpoints":[{"name":"ops","channel":"http","state":"up"}]}`.
/// - `GET /-/healthy` and `GET /-/ready`, as Alertmanager names them: 200
///   `OK` while the daemon runs; ready once its endpoints are open (503 before).
/// - `GET /metrics`: the Prometheus text format.
/// - `GET /api/v1/openapi.yaml`: the API's OpenAPI document.
public struct HealthRoutes<Context: RequestContext>: Sendable {
    let dispatcher: Dispatcher
    let registry: PrometheusCollectorRegistry

    public init(dispatcher: Dispatcher, registry: PrometheusCollectorRegistry) {
        self.dispatcher = dispatcher
        self.registry = registry
    }

    private struct Health: Encodable {
        let status: String
        let endpoints: [EndpointState]
    }

    public func addRoutes(to router: Hummingbird.Router<Context>) {
        router.get("/healthz") { _, _ -> Response in
            try JSONAnswer.response(.ok, Health(status: "ok", endpoints: await dispatcher.endpointStates()))
        }
        router.get("/-/healthy") { _, _ -> Response in Self.text(.ok, "OK\n") }
        router.get("/-/ready") { _, _ -> Response in
            dispatcher.isReady ? Self.text(.ok, "OK\n") : Self.text(.serviceUnavailable, "Service Unavailable\n")
        }
        router.get("/api/v1/openapi.yaml") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/yaml"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: PackageResources.openapi_yaml)))
        }
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
    }

    private static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
