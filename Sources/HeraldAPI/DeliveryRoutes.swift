import Foundation
import HeraldIngest
public import HeraldDispatch
public import HeraldStore
public import Hummingbird

/// A team's deliveries: history, dead letters, and replaying them.
public struct DeliveryRoutes: Sendable {
    let store: any Store
    let dispatcher: Dispatcher

    public init(store: any Store, dispatcher: Dispatcher) {
        self.store = store
        self.dispatcher = dispatcher
    }

    private struct ReplayBody: Decodable {
        let ids: [Int64]?
    }

    public func addRoutes(to router: Hummingbird.Router<HeraldRequestContext>) {
        // GET /api/v1/deliveries?status=dead&limit=100 (an admin sees every team's, or `team=`'s)
        router.get("/api/v1/deliveries") { request, context -> Response in
            let team = try context.team(naming: request.uri.queryParameters["team"].map(String.init))
            let status = request.uri.queryParameters["status"].map(String.init)
            if let status, !["pending", "delivered", "dead", "cancelled"].contains(status) {
                throw APIError.badRequest("status", "expected pending, delivered, dead or cancelled")
            }
            let limit = request.uri.queryParameters["limit"].flatMap { Int(String($0)) } ?? 100
            return try json(try await store.deliveries(team: team, status: status, limit: min(max(limit, 1), 1000)))
        }
        // GET /api/v1/deliveries/{id}/attempts
        router.get("/api/v1/deliveries/:id/attempts") { request, context -> Response in
            let caller = try context.caller()
            guard let id = Int64(try context.parameters.require("id")) else {
                throw APIError.badRequest("id", "expected a delivery id")
            }
            // Another team's delivery is answered as missing, not as forbidden.
            guard let delivery = try await store.delivery(id: id), caller.owns(delivery.team) else {
                throw APIError(.notFound, field: "id", "no such delivery")
            }
            return try json(try await store.attempts(deliveryID: id))
        }
        // POST /api/v1/deliveries/replay, body {} for every dead letter or {"ids":[...]}
        router.post("/api/v1/deliveries/replay") { request, context -> Response in
            let team = try context.team(naming: request.uri.queryParameters["team"].map(String.init))
            let bytes = Array(try await request.body.collect(upTo: 1 << 20).readableBytesView)
            let body = bytes.isEmpty ? ReplayBody(ids: nil)
                : try APIError.parsing { () throws(IngestError) in try decodeJSONBody(ReplayBody.self, from: bytes) }
            let count = try await dispatcher.replayDeadLetters(team: team, ids: body.ids)
            return try json(["replayed": count])
        }
    }

    private func json(_ value: some Encodable) throws -> Response { try JSONAnswer.response(.ok, value) }

}
