import Foundation
import HeraldCore
import HeraldIngest
public import HeraldDispatch
public import HeraldStore
public import Hummingbird
import HTTPTypes

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
        // GET /api/v1/deliveries?status=dead&endpoint=ops&event_id=e1&since=2026-11-30T00:00:00Z&until=...&limit=100&before=ID
        // Newest first; a full page says where the next starts in `Link: <...&before=ID>; rel="next"`.
        router.get("/api/v1/deliveries") { request, context -> Response in
            let parameters = request.uri.queryParameters
            func text(_ name: String) -> String? { parameters[Substring(name)].map(String.init) }
            var query = DeliveryQuery(team: try context.team(naming: text("team")), status: text("status"),
                                      endpoint: text("endpoint"), eventID: text("event_id"))
            if let status = query.status, !["pending", "delivered", "dead", "cancelled"].contains(status) {
                throw APIError.badRequest("status", "expected pending, delivered, dead or cancelled")
            }
            query.since = try text("since").map { value throws(APIError) in try Self.time(value, field: "since") }
            query.until = try text("until").map { value throws(APIError) in try Self.time(value, field: "until") }
            if let before = text("before") {
                guard let id = Int64(before) else { throw APIError.badRequest("before", "expected a delivery id") }
                query.before = id
            }
            if let limit = text("limit") {
                guard let value = Int(limit), (1...1000).contains(value) else { throw APIError.badRequest("limit", "expected 1 to 1000") }
                query.limit = value
            }
            let page = try await store.deliveries(query)
            var response = try json(page)
            if page.count == query.limit, let last = page.last, let link = HTTPField.Name("Link") {
                var allowed = CharacterSet.urlQueryAllowed
                allowed.remove(charactersIn: "&+=")
                var next = parameters.filter { $0.key != "before" }.map { parameter in
                    "\(parameter.key)=\(String(parameter.value).addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
                }
                next.append("before=\(last.id)")
                response.headers[link] = "</api/v1/deliveries?\(next.joined(separator: "&"))>; rel=\"next\""
            }
            return response
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
            let progress = try await dispatcher.replayDeadLetters(team: team, ids: body.ids)
            // 200 when done; 202 when it goes on in the background (logged).
            guard progress.running else { return try json(["replayed": progress.replayed]) }
            return try JSONAnswer.response(.accepted, progress)
        }
    }

    private func json(_ value: some Encodable) throws -> Response { try JSONAnswer.response(.ok, value) }

    /// RFC 3339 (`2026-11-30T12:00:00Z`) or Unix seconds.
    static func time(_ text: String, field: String) throws(APIError) -> Double {
        if let date = Timestamp.parse(text) { return date.timeIntervalSince1970 }
        if let seconds = Double(text), seconds.isFinite { return seconds }
        throw APIError.badRequest(field, "expected an RFC 3339 time (2026-11-30T12:00:00Z) or Unix seconds")
    }

}
