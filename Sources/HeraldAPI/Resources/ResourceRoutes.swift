public import HeraldDispatch
public import Hummingbird

/// The API's teams, endpoints (and their captures) and policies (one file each): made, edited
/// and deleted live through `ConfigState`, for the caller's team.
public struct ResourceRoutes: Sendable {
    let state: ConfigState
    let dispatcher: Dispatcher
    let teams: TeamDirectory

    public init(state: ConfigState, dispatcher: Dispatcher, teams: TeamDirectory) {
        self.state = state
        self.dispatcher = dispatcher
        self.teams = teams
    }

    public func addRoutes(to router: Hummingbird.Router<HeraldRequestContext>) {
        addTeamRoutes(to: router)
        addEndpointRoutes(to: router)
        addCaptureRoutes(to: router)
        addPolicyRoutes(to: router)
    }
}
