public import HeraldDispatch
import HeraldCore
import HeraldPluginHost
public import Hummingbird

/// `GET /api/v1/channels`: every loaded plugin's channel, version,
/// description and config schema: what a console needs to draw a form.
public struct ChannelRoutes: Sendable {
    let dispatcher: Dispatcher

    public init(dispatcher: Dispatcher) { self.dispatcher = dispatcher }

    public func addRoutes(to router: Hummingbird.Router<HeraldRequestContext>) {
        router.get("/api/v1/channels") { _, context -> Response in
            _ = try context.caller()
            let plugins = dispatcher.catalog.plugins.values.sorted { $0.channel < $1.channel }
            return try JSONAnswer.response(.ok, JSONValue.array(plugins.map { plugin in
                .object([
                    "name": .string(plugin.channel), "version": .string(plugin.version),
                    "description": .string(plugin.summary), "schema": plugin.schema.root,
                    "isolation": .string(plugin.isShipped ? "none" : "process"),
                ])
            }))
        }
    }
}
