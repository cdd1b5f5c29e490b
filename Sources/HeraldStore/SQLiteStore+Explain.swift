import Foundation
import HeraldCore
import GRDB

/// "What happened to my alert?": each stored event with an id, where its
/// policies sent it, and what each endpoint did with it.
extension SQLiteStore {
    public func explain(team: String, eventID: String, limit: Int) async throws -> [ExplainedEvent] {
        try await pool.read { db in
            let events: SQLRequest<Row> = """
                SELECT row, body, receivedAt FROM event WHERE team = \(team) AND eventID = \(eventID)
                ORDER BY row DESC LIMIT \(limit)
                """
            return try events.fetchAll(db).map { event in
                let row: Int64 = event["row"]
                var routes: [ExplainedRoute] = []
                let deliveries: SQLRequest<Row> = """
                    SELECT delivery.*, event.eventID, event.team, event.receivedAt FROM delivery JOIN event ON event.row = delivery.eventRow
                    WHERE delivery.eventRow = \(row) ORDER BY delivery.id
                    """
                for delivery in try deliveries.fetchAll(db) {
                    let summary = Self.summary(delivery)
                    let attempts = try Self.attempts(deliveryID: summary.id, db)
                    routes.append(ExplainedRoute(policy: summary.policy, endpoint: summary.endpoint,
                                                 outcome: summary.fallbackOf == nil ? "pushed" : "fallback",
                                                 delivery: summary, attempts: attempts))
                }
                let suppressions: SQLRequest<Row> = """
                    SELECT endpoint, policy, reason FROM suppression WHERE eventRow = \(row) ORDER BY rowid
                    """
                for suppression in try suppressions.fetchAll(db) {
                    routes.append(ExplainedRoute(policy: suppression["policy"], endpoint: suppression["endpoint"],
                                                 outcome: suppression["reason"], delivery: nil, attempts: []))
                }
                let body: Data = event["body"]
                return ExplainedEvent(
                    receivedAt: Timestamp.iso8601(Date(timeIntervalSince1970: event["receivedAt"])),
                    event: try JSONDecoder().decode(JSONValue.self, from: body), routes: routes)
            }
        }
    }
}
