import Foundation
import HeraldCore
import HeraldIngest
import Hummingbird

/// What every resource route does with a request body and a name.
enum ResourceRequest {
    /// The body as a JSON object (repeated keys refused, as for ingest).
    static func object(_ request: Request) async throws -> [String: JSONValue] {
        let bytes: [UInt8]
        do { bytes = Array(try await request.body.collect(upTo: 1 << 20).readableBytesView) } catch {
            throw APIError(.contentTooLarge, field: "body", "larger than 1 MiB")
        }
        let value = try APIError.parsing { () throws(IngestError) in try decodeJSONBody(JSONValue.self, from: bytes) }
        guard case .object(let members) = value else { throw APIError(.badRequest, field: "body", "expected a JSON object") }
        return members
    }

    /// A name an API item may have: it appears in URLs, metric labels and logs.
    static func name(_ body: [String: JSONValue], matching path: String? = nil) throws(APIError) -> String {
        guard let value = body["name"] ?? path.map(JSONValue.string) else { throw APIError(.badRequest, field: "name", "required") }
        guard case .string(let name) = value else { throw APIError(.badRequest, field: "name", "expected a string") }
        if let path, name != path {
            throw APIError(.badRequest, field: "name", "\"\(name)\" differs from the name in the path, \"\(path)\" (a new name is a new item)")
        }
        guard PlainName.isPlain(name), (1...64).contains(name.utf8.count), name.first != "." else {
            throw APIError(.badRequest, field: "name", "1 to 64 letters, digits, '-', '_' or '.', not starting with '.'")
        }
        return name
    }

    /// The team an item belongs to: a team's caller makes its own (the body
    /// may repeat it), an admin names one that exists.
    static func team(_ body: [String: JSONValue], caller: Caller, teams: TeamDirectory,
                     current: String? = nil) throws(APIError) -> String {
        var named: String?
        if let value = body["team"] {
            guard case .string(let text) = value else { throw APIError(.badRequest, field: "team", "expected a string") }
            named = text
        }
        if let current, let named, named != current {
            throw APIError(.badRequest, field: "team", "an item cannot move to another team (it belongs to \"\(current)\")")
        }
        switch caller {
        case .team(let own):
            if let named, named != own { throw APIError(.badRequest, field: "team", "your token acts for team \"\(own)\"") }
            return own
        case .admin:
            guard let team = named ?? current else { throw APIError(.badRequest, field: "team", "required with an admin token") }
            guard teams.hasTeam(team) else { throw APIError(.badRequest, field: "team", "no team named \"\(team)\"") }
            return team
        }
    }

    static func force(_ request: Request) -> Bool { request.uri.queryParameters["force"].map(String.init) == "true" }

    /// An encodable value as JSON members, to add fields to.
    static func members(_ value: some Encodable) -> [String: JSONValue] {
        guard let data = try? JSONEncoder().encode(value),
              case .object(let members)? = try? JSONDecoder().decode(JSONValue.self, from: data) else { return [:] }
        return members
    }

    static func provisioned(_ kind: String, _ name: String) -> APIError {
        APIError(.conflict, field: "name", "\(kind) \"\(name)\" comes from the config file; change it there")
    }

    static func answer(_ status: HTTPResponse.Status, _ members: [String: JSONValue]) throws -> Response {
        try JSONAnswer.response(status, JSONValue.object(members))
    }
}
