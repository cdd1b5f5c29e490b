public import HeraldDispatch
import HeraldCore
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

    /// The item the path names (`:name`) among `items` of the running config,
    /// if the caller may see it: another team's is answered as missing.
    func named<Item>(_ context: HeraldRequestContext, _ kind: String, in items: (HeraldConfig) -> [Item],
                     name: (Item) -> String, team: (Item) -> String) throws -> (Item, HeraldConfig) {
        let caller = try context.caller()
        let wanted = try context.parameters.require("name")
        let config = dispatcher.config
        guard let item = items(config).first(where: { name($0) == wanted }), caller.owns(team(item)) else {
            throw APIError(.notFound, field: "name", "no such \(kind)")
        }
        return (item, config)
    }
}
