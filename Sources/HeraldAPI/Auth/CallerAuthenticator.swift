import Foundation
public import Hummingbird
public import HummingbirdAuth

/// The request context of Herald's API: who is calling, once
/// `CallerAuthenticator` has read the bearer token.
public struct HeraldRequestContext: AuthRequestContext, RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: Caller?

    public init(source: Source) {
        coreContext = .init(source: source)
        identity = nil
    }

    /// The caller, or a 401 naming the header.
    public func caller() throws(APIError) -> Caller {
        guard let identity else { throw APIError(.unauthorized, field: "Authorization", "missing or unknown bearer token") }
        return identity
    }

    /// The team the caller acts for: its own, or for an admin the one it names
    /// (`?team=`, or the `team` of what it sends); nil when an admin names none.
    public func team(naming named: String?) throws(APIError) -> String? {
        switch try caller() {
        case .team(let team): return team
        case .admin: return named
        }
    }
}

/// Reads `Authorization: Bearer <token>` into the context's caller; the
/// routes then ask the context (`caller()`), not the header.
public struct CallerAuthenticator: AuthenticatorMiddleware {
    public typealias Context = HeraldRequestContext
    let teams: TeamDirectory

    public init(teams: TeamDirectory) { self.teams = teams }

    public func authenticate(request: Request, context: HeraldRequestContext) async throws -> Caller? {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else { return nil }
        return teams.caller(token: String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))
    }
}
