import Foundation
import HeraldCore
import HeraldDispatch
import Hummingbird

/// The ingest hub: other systems' alert formats, taken in as events.
extension IngestRoutes {
    func ingestAliyun(_ request: Request, _ context: Context) async throws -> Response {
        let team = try teams.team(request)
        let event = try AliyunFormat.event(try FormBody(try await collect(request)), team: team, now: Date())
        try await ingest([event])
        return Self.json(.ok, #"{"code":200,"message":"ok"}"#)
    }

    func ingestTencent(_ request: Request, _ context: Context) async throws -> Response {
        let team = try teams.team(request)
        let body = try decodeBody(TencentAlarmBody.self, from: try await collect(request))
        try await ingest([try body.event(team: team, now: Date())])
        // What Tencent's callback waits for.
        return Self.json(.ok, #"{"sessionId":\#(JSONValue.string(body.sessionId ?? "").jsonText),"retCode":0}"#)
    }

    func ingestPagerDuty(_ request: Request, _ context: Context) async throws -> Response {
        let bytes = try await collect(request)
        let body = try decodeBody(PagerDutyEventBody.self, from: bytes)
        guard let team = teams.team(token: body.routingKey) ?? (try? teams.team(request)) else {
            throw APIError(.badRequest, field: "routing_key", "not a token of any team")
        }
        try body.validated()
        let now = Date()
        var event = body.event(team: team, now: now)
        var previous: Event?
        if let dedupKey = body.dedupKey {
            previous = try await pipeline.latestEvent(team: team, id: PagerDutyEventBody.eventID(dedupKey: dedupKey))
        }
        switch body.eventAction {
        case "resolve":
            // A resolve closes what its dedup_key opened, whatever its own
            // payload says (senders often change the summary on resolve).
            if let previous {
                event = PagerDutyEventBody.resolving(previous, now: now)
            } else if event == nil {
                throw APIError(.badRequest, field: "dedup_key", "no triggered event with this dedup_key")
            }
        case "trigger" where previous?.status == .firing:
            // As PagerDuty folds a repeat trigger into the open incident.
            event = nil
        case "acknowledge":
            event = nil
        default:
            break
        }
        if let event { try await ingest([event]) }
        let key = JSONValue.string(body.dedupKey ?? event?.id ?? "").jsonText
        return Self.json(.accepted, #"{"status":"success","message":"Event processed","dedup_key":\#(key)}"#)
    }

    func ingestAlertmanagerWebhook(_ request: Request, _ context: Context) async throws -> Response {
        let team = try teams.team(request)
        let body = try decodeBody(AlertmanagerWebhookBody.self, from: try await collect(request))
        guard body.version == "4" else { throw APIError.badRequest("version", "expected \"4\", found \"\(body.version)\"") }
        let now = Date()
        var events: [Event] = []
        for (index, alert) in body.alerts.enumerated() {
            events.append(try alert.event(team: team, now: now, at: "alerts[\(index)]"))
        }
        let fresh = try await unseen(events, team: team)
        try await ingest(fresh)
        return Self.json(.accepted, #"{"accepted":\#(fresh.count),"repeats":\#(events.count - fresh.count)}"#)
    }

    /// Alertmanager's own API, as Prometheus calls it: a JSON array of alerts.
    func ingestAlertmanagerAlerts(_ request: Request, _ context: Context) async throws -> Response {
        let team = try teams.team(request)
        let alerts = try decodeBody([AlertmanagerAlert].self, from: try await collect(request))
        let now = Date()
        var events: [Event] = []
        for (index, alert) in alerts.enumerated() {
            events.append(try alert.event(team: team, now: now, at: "[\(index)]", clearsAtEnd: true))
        }
        try await ingest(try await unseen(events, team: team))
        return Response(status: .ok)
    }

    /// The events that are news: a repeat of an alert in the state it was
    /// last stored in (firing, or resolved) is dropped, so it is pushed
    /// once, and a firing repeat moves its auto-clear deadline later. A
    /// firing alert that was auto-cleared meanwhile fires again.
    private func unseen(_ events: [Event], team: String) async throws -> [Event] {
        var latest = try await pipeline.latestStatuses(team: team, ids: events.map(\.id))
        let now = Date().timeIntervalSince1970
        var extended: [String: Double] = [:]
        for event in events where latest[event.id] == .firing && event.status == .firing {
            if let timeout = event.timeoutSeconds { extended[event.alertKey] = now + Double(timeout) }
        }
        try await pipeline.extendAutoClear(extended)
        return events.filter { event in
            defer { latest[event.id] = event.status }
            return latest[event.id] != event.status
        }
    }

    private static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
