import Foundation
import HeraldCore
import HeraldDispatch
import HeraldIngest
import Hummingbird
import HummingbirdAuth

/// The ingest hub: other systems' alert formats, taken in as events.
extension IngestRoutes {
    func ingestAliyun(_ request: Request, _ context: Context) async throws -> Response {
        let team = try teams.team(request, authenticated: context.identity)
        let body = try await collect(request)
        let event = try APIError.parsing { () throws(IngestError) in try AliyunFormat.event(body: body, team: team, now: Date()) }
        try await ingest([event])
        return try JSONAnswer.response(.ok, ["code": JSONValue.number(200), "message": .string("ok")])
    }

    func ingestTencent(_ request: Request, _ context: Context) async throws -> Response {
        let team = try teams.team(request, authenticated: context.identity)
        let body = try await collect(request)
        let (event, sessionID) = try APIError.parsing { () throws(IngestError) in
            try TencentFormat.event(body: body, team: team, now: Date())
        }
        try await ingest([event])
        // What Tencent's callback waits for.
        return try JSONAnswer.response(.ok, ["sessionId": JSONValue.string(sessionID), "retCode": .number(0)])
    }

    func ingestPagerDuty(_ request: Request, _ context: Context) async throws -> Response {
        let bytes = try await collect(request)
        let body = try APIError.parsing { () throws(IngestError) in try PagerDutyFormat.parse(body: bytes) }
        guard let team = teams.team(token: body.routingKey) ?? (try? teams.team(request)) else {
            throw APIError(.badRequest, field: "routing_key", "not a token of any team")
        }
        let now = Date()
        var event = body.event(team: team, now: now)
        var previous: Event?
        if let dedupKey = body.dedupKey {
            previous = try await pipeline.latestEvent(team: team, id: PagerDutyEvent.eventID(dedupKey: dedupKey))
        }
        switch body.eventAction {
        case "resolve":
            // A resolve closes what its dedup_key opened, whatever its own
            // payload says (senders often change the summary on resolve).
            if let previous {
                event = PagerDutyEvent.resolving(previous, now: now)
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
        return try JSONAnswer.response(.accepted, [
            "status": "success", "message": "Event processed", "dedup_key": body.dedupKey ?? event?.id ?? "",
        ])
    }

    func ingestAlertmanagerWebhook(_ request: Request, _ context: Context) async throws -> Response {
        let team = try teams.team(request, authenticated: context.identity)
        let body = try await collect(request)
        let alerts = try APIError.parsing { () throws(IngestError) in
            try AlertmanagerFormat.webhookAlerts(body: body, team: team, now: Date())
        }
        let stored = try await ingest(alerts)
        return try JSONAnswer.response(.accepted, ["accepted": stored, "repeats": alerts.count - stored])
    }

    /// Alertmanager's own API, as Prometheus calls it: a JSON array of alerts.
    func ingestAlertmanagerAlerts(_ request: Request, _ context: Context) async throws -> Response {
        let team = try teams.team(request, authenticated: context.identity)
        let body = try await collect(request)
        let alerts = try APIError.parsing { () throws(IngestError) in
            try AlertmanagerFormat.apiAlerts(body: body, team: team, now: Date())
        }
        try await ingest(alerts)
        return Response(status: .ok)
    }

    /// Stores Alertmanager alerts less their repeats; those sent without
    /// `startsAt` continue their open alert (see `Pipeline.ingest`).
    @discardableResult
    private func ingest(_ alerts: [AlertmanagerFormat.Alert]) async throws -> Int {
        var open: [Int: OpenAlert] = [:]
        for (index, alert) in alerts.enumerated() { open[index] = alert.open }
        return try await ingest(alerts.map(\.event), dropRepeats: true, open: open)
    }
}
