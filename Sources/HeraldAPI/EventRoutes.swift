import Foundation
public import HeraldStore
public import Hummingbird

/// `GET /api/v1/events/{id}`: what happened to an alert. Each of the
/// team's events with that id (newest first): as stored, whether a policy
/// matched, and for each endpoint whether it was pushed or why not (level
/// filtered, inside the push cycle, push frequency reached, a recovery
/// without its trigger), with each delivery's attempts.
public struct EventRoutes: Sendable {
    let store: any Store

    public init(store: any Store) { self.store = store }

    private struct Explained: Encodable {
        let id: String
        let events: [ExplainedEvent]
    }

    public func addRoutes(to router: Hummingbird.Router<HeraldRequestContext>) {
        // An admin names the team: ?team=ops.
        router.get("/api/v1/events/:id") { request, context -> Response in
            guard let team = try context.team(naming: request.uri.queryParameters["team"].map(String.init)) else {
                throw APIError(.badRequest, field: "team", "an admin token names the team: ?team=NAME")
            }
            let raw = try context.parameters.require("id")
            let id = raw.removingPercentEncoding ?? raw
            let events = try await store.explain(team: team, eventID: id, limit: 20)
            guard !events.isEmpty else { throw APIError(.notFound, field: "id", "no event with this id") }
            return try JSONAnswer.response(.ok, Explained(id: id, events: events))
        }
    }
}
