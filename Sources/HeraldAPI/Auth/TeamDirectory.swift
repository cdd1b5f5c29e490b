import Crypto
import Foundation
public import HeraldDispatch
import Hummingbird
import Synchronization

/// Who is calling: a team, acting on its own endpoints, policies, events
/// and history only, or an admin (a token from `admin.tokens`), acting for
/// every team and on teams themselves.
public enum Caller: Sendable, Equatable {
    case team(String)
    case admin

    /// Whether the caller may see and change what belongs to `team`.
    public func owns(_ team: String) -> Bool {
        switch self {
        case .admin: true
        case .team(let name): name == team
        }
    }
}

/// Who may send what: API tokens and Huawei project ids, each mapped to
/// its team, and the admin tokens. Tokens are kept only as SHA-256
/// digests and a presented one is compared with every digest in constant
/// time, so neither memory nor timing gives one away. Replaced as a whole
/// when the config changes.
public final class TeamDirectory: Sendable {
    private struct Tables {
        var tokens: [(digest: [UInt8], caller: Caller)] = []
        var teamByProject: [String: String] = [:]
        var teamNames: Set<String> = []
    }

    private let tables: Mutex<Tables>

    public init(config: HeraldConfig) { tables = Mutex(Self.tables(config)) }

    public func update(config: HeraldConfig) { tables.withLock { $0 = Self.tables(config) } }

    private static func tables(_ config: HeraldConfig) -> Tables {
        var tables = Tables()
        for token in config.adminTokens { tables.tokens.append((digest(token), .admin)) }
        for team in config.teams {
            tables.teamNames.insert(team.name)
            for token in team.tokens { tables.tokens.append((digest(token), .team(team.name))) }
            for hex in team.tokenDigests { tables.tokens.append((bytes(hex: hex), .team(team.name))) }
            for project in team.projectIDs { tables.teamByProject[project] = team.name }
        }
        return tables
    }

    static func digest(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Data(token.utf8))) }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// Hex checked by the config reader (64 hex digits).
    private static func bytes(hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex), index < hex.endIndex {
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return bytes
    }

    /// The caller a token stands for, if any.
    public func caller(token: String) -> Caller? {
        let presented = Self.digest(token)
        return tables.withLock { tables in
            var found: Caller?
            for entry in tables.tokens {
                // Every digest is compared in full, a match or not.
                var difference: UInt8 = 0
                for (a, b) in zip(entry.digest, presented) { difference |= a ^ b }
                if difference == 0 { found = entry.caller }
            }
            return found
        }
    }

    /// Whether a team of this name exists.
    public func hasTeam(_ name: String) -> Bool { tables.withLock { $0.teamNames.contains(name) } }

    /// The team of a `Authorization: Bearer <token>` header, for ingest:
    /// events belong to a team, so an admin token does not send them.
    /// `authenticated`: the caller `CallerAuthenticator` found for the same
    /// header, so the token is not hashed and compared twice.
    func team(bearer header: String?, authenticated: Caller? = nil) throws(APIError) -> String {
        guard let header, header.lowercased().hasPrefix("bearer ") else {
            throw APIError(.unauthorized, field: "Authorization", "missing bearer token")
        }
        if case .team(let team) = authenticated { return team }
        return try team(token: String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces), field: "Authorization")
    }

    private func team(token: String, field: String) throws(APIError) -> String {
        switch caller(token: token) {
        case .team(let team): return team
        case .admin: throw APIError(.forbidden, field: field, "an admin token does not send events; use a team's token")
        case nil: throw APIError(.unauthorized, field: field, "unknown token")
        }
    }

    /// The team of a bearer token, or else of a `token` query parameter
    /// (for callback senders that cannot set headers).
    func team(_ request: Request, authenticated: Caller? = nil) throws(APIError) -> String {
        if request.headers[.authorization] == nil, let token = request.uri.queryParameters["token"].map(String.init) {
            return try team(token: token, field: "token")
        }
        return try team(bearer: request.headers[.authorization], authenticated: authenticated)
    }

    /// The team whose token this is, if any.
    func team(token: String) -> String? {
        if case .team(let team) = caller(token: token) { team } else { nil }
    }

    /// The team of a Huawei project, if the token belongs to it.
    func team(project: String, token: String?) throws(APIError) -> String {
        guard let token, !token.isEmpty else { throw APIError(.unauthorized, field: "X-Auth-Token", "missing token") }
        let owner = tables.withLock { $0.teamByProject[project] }
        guard let owner, self.team(token: token) == owner else {
            throw APIError(.unauthorized, field: "X-Auth-Token", "token not valid for project \(project)")
        }
        return owner
    }
}
