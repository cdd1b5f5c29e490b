import Foundation
import HTTPTypes
public import HeraldDispatch
import HeraldCore
import HeraldIngest
import HeraldTelemetry
public import Hummingbird
public import HummingbirdAuth

/// The ingest routes: Herald's native JSON and Huawei Cloud's push API.
/// Each answers only after the events are durable.
public struct IngestRoutes<Context: AuthRequestContext>: Sendable where Context.Identity == Caller {
    let pipeline: Pipeline
    let teams: TeamDirectory
    let maxBodyBytes: Int
    let defaultTimeoutSeconds: Int

    public init(pipeline: Pipeline, teams: TeamDirectory, maxBodyBytes: Int, defaultTimeoutSeconds: Int) {
        self.pipeline = pipeline
        self.teams = teams
        self.maxBodyBytes = maxBodyBytes
        self.defaultTimeoutSeconds = defaultTimeoutSeconds
    }

    public func addRoutes(to router: Hummingbird.Router<Context>) {
        router.post("/api/v1/events", use: counted("native", ingestNative))
        router.put("/v2/:project_id/push/events", use: counted("huawei", ingestHuawei))
        router.post("/api/v1/ingest/aliyun", use: counted("aliyun", ingestAliyun))
        router.post("/api/v1/ingest/tencent", use: counted("tencent", ingestTencent))
        router.post("/v2/enqueue", use: counted("pagerduty", ingestPagerDuty))
        router.post("/api/v1/ingest/pagerduty", use: counted("pagerduty", ingestPagerDuty))
        router.post("/api/v1/ingest/alertmanager", use: counted("alertmanager", ingestAlertmanagerWebhook))
        router.post("/api/v2/alerts", use: counted("alertmanager", ingestAlertmanagerAlerts))
    }

    /// A route that counts its refusals in `herald_ingest_refused_total`,
    /// by format and the answer's status (`bad_request`, `unauthorized`, ...).
    private func counted(_ format: String, _ handler: @escaping @Sendable (Request, Context) async throws -> Response)
        -> @Sendable (Request, Context) async throws -> Response {
        { request, context in
            do {
                return try await handler(request, context)
            } catch let error as APIError {
                HeraldMetrics.ingestRefused(format: format, reason: error.status.reasonPhrase.lowercased()
                    .replacingOccurrences(of: " ", with: "_"))
                throw error
            } catch {
                HeraldMetrics.ingestRefused(format: format, reason: "error")
                throw error
            }
        }
    }

    private func ingestNative(_ request: Request, _ context: Context) async throws -> Response {
        let team = try teams.team(bearer: request.headers[.authorization], authenticated: context.identity)
        let body = try await collect(request)
        let events = try APIError.parsing { () throws(IngestError) in try NativeFormat.events(body: body, team: team, now: Date()) }
        try await ingest(events)
        return try JSONAnswer.response(.accepted, [
            "accepted": JSONValue.number(Double(events.count)), "ids": .array(events.map { .string($0.id) }),
        ])
    }

    private func ingestHuawei(_ request: Request, _ context: Context) async throws -> Response {
        let project = try context.parameters.require("project_id")
        let team = try teams.team(project: project, token: request.headers[.authToken])
        // The PushEvents API lists the header as mandatory.
        try requireJSON(request)
        let body = try await collect(request)
        let clear = request.uri.queryParameters["action"].map { String($0) } == "clear"
        let events = try APIError.parsing { () throws(IngestError) in
            try HuaweiFormat.events(body: body, team: team, clear: clear, defaultTimeout: defaultTimeoutSeconds, now: Date())
        }
        try await ingest(events)
        return Response(status: .noContent)
    }

    /// Refuses a body not declared as `application/json` (parameters such as charset allowed).
    private func requireJSON(_ request: Request) throws(APIError) {
        let type = request.headers[.contentType]?.split(separator: ";").first?
            .trimmingCharacters(in: .whitespaces).lowercased()
        guard type == "application/json" else {
            throw APIError(.unsupportedMediaType, field: "Content-Type",
                           "expected application/json, found \(type.map { "\"\($0)\"" } ?? "none")")
        }
    }


    /// Stores the events (less a sender's repeats with `dropRepeats`, see
    /// `Pipeline.ingest`); returns how many were stored.
    @discardableResult
    func ingest(_ events: [Event], dropRepeats: Bool = false, open: [Int: OpenAlert] = [:]) async throws -> Int {
        do {
            return try await pipeline.ingest(events, dropRepeats: dropRepeats, open: open)
        } catch is Pipeline.ShuttingDown {
            throw APIError(.serviceUnavailable, "shutting down; send again")
        } catch {
            throw APIError(.serviceUnavailable, "could not store the events; send again")
        }
    }

    func collect(_ request: Request) async throws -> [UInt8] {
        do {
            let buffer = try await request.body.collect(upTo: maxBodyBytes)
            return Array(buffer.readableBytesView)
        } catch {
            throw APIError(.contentTooLarge, field: "body", "larger than \(maxBodyBytes) bytes")
        }
    }
}

extension HTTPField.Name {
    /// Huawei's token header.
    static let authToken = Self("X-Auth-Token")!
}
