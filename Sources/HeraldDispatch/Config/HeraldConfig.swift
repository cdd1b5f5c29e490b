import Foundation
public import HeraldCore
public import HeraldPluginHost
import Yams

/// A team: a tenant with its own API tokens, endpoints and policies.
public struct Team: Sendable {
    public var name: String
    /// Bearer tokens (and Huawei X-Auth-Token values) that act for this team.
    public var tokens: [String]
    /// Huawei Cloud project ids whose pushed events belong to this team.
    public var projectIDs: [String]
    /// SHA-256 digests (hex) of more tokens, for tokens Herald must not
    /// keep: those it made for a team created through the API.
    public var tokenDigests: [String]

    public init(name: String, tokens: [String], projectIDs: [String] = [], tokenDigests: [String] = []) {
        self.name = name
        self.tokens = tokens
        self.projectIDs = projectIDs
        self.tokenDigests = tokenDigests
    }
}

/// Everything `herald serve` reads from its YAML file.
public struct HeraldConfig: Sendable {
    public var file: String
    public var host = "127.0.0.1"
    public var port = 8080
    /// Largest request body accepted by ingest, in bytes.
    public var maxBodyBytes = 1 << 20
    public var databasePath = "herald.sqlite"
    public var durability = "process"
    /// Log pages after which a commit checkpoints (0: never; see `SQLiteStore`).
    public var walAutocheckpoint = 1000
    public var pluginDirectories: [String] = []
    /// Crashes of a plugin with one delivery alone in flight after which
    /// that delivery is poison and goes to the dead letters.
    public var poisonAfterCrashes = 3
    /// New deliveries each endpoint holds in memory; the rest wait in the store.
    public var backlogInMemory = 10_000
    /// Seconds the history of an event (its deliveries and attempts) is
    /// kept once every delivery ended; 0 keeps it for ever.
    public var retentionSeconds: Double = 30 * 86400
    /// Auto-clear for Huawei events that give no `timeout`.
    public var defaultTimeoutSeconds = 3 * 86400
    public var teams: [Team] = []
    /// Tokens that act for every team and may change teams (`admin.tokens`).
    public var adminTokens: [String] = []
    public var endpoints: [Endpoint] = []
    public var policies: [Policy] = []
    /// Channels a team's token may make endpoints of through the API
    /// (`api.team_channels`); an admin may use any. By default the network
    /// channels Herald ships: `file` and `pcap` write on the daemon's host,
    /// and a plugin Herald does not ship is the operator's to open up.
    public var teamChannels: Set<String> = ["http", "email", "syslog", "kafka", "pagerduty", "aliyun", "tencent"]
    /// "kind/name" of the items made through the API (the rest are the file's).
    public var madeByAPI: Set<String> = []

    public init(file: String) { self.file = file }

    /// Reads and checks a config file, loading the plugins it names to
    /// check every endpoint's channel config against its plugin's schema
    /// and every template.
    /// - Parameter loadPlugins: loads the plugins of the given folders; nil
    ///   to read the file without loading any (read-only commands, which
    ///   must work while a plugin is broken): channel configs go unchecked.
    /// - Throws: `ConfigError` naming the file, line and field.
    public static func load(
        file: String, loadPlugins: (([String]) -> PluginCatalog)?
    ) throws(ConfigError) -> (HeraldConfig, PluginCatalog) {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw ConfigError(file: file, line: nil, column: nil, field: "", message: "cannot read: \(error.localizedDescription)")
        }
        return try parse(yaml: text, file: file, loadPlugins: loadPlugins)
    }

    public static func parse(
        yaml: String, file: String, loadPlugins: (([String]) -> PluginCatalog)?
    ) throws(ConfigError) -> (HeraldConfig, PluginCatalog) {
        try parse(root: try compose(yaml: yaml, file: file), file: file, loadPlugins: loadPlugins)
    }

    static func compose(yaml: String, file: String) throws(ConfigError) -> Node {
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw ConfigError(file: file, line: 1, column: 1, field: "", message: "the file is empty")
            }
            return node
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(file: file, line: nil, column: nil, field: "", message: "not valid YAML: \(error)")
        }
    }

    static func parse(
        root: Node, file: String, loadPlugins: (([String]) -> PluginCatalog)?
    ) throws(ConfigError) -> (HeraldConfig, PluginCatalog) {
        var config = HeraldConfig(file: file)
        let top = try ConfigNode(node: root, path: "", file: file)
            .mapping(allowed: ["server", "storage", "plugins", "huawei", "admin", "api", "teams", "endpoints", "policies"])
        try config.readServer(top["server"])
        try config.readStorage(top["storage"])
        let baseDirectory = (file as NSString).deletingLastPathComponent
        if let plugins = top["plugins"] {
            let fields = try plugins.mapping(allowed: ["directories", "poison_after_crashes"])
            config.pluginDirectories = try fields["directories"]?.strings().map {
                $0.hasPrefix("/") ? $0 : (baseDirectory as NSString).appendingPathComponent($0)
            } ?? []
            if let crashes = fields["poison_after_crashes"] { config.poisonAfterCrashes = try crashes.int(min: 1, max: 100) }
        }
        if let huawei = top["huawei"] {
            let fields = try huawei.mapping(allowed: ["default_timeout"])
            if let timeout = fields["default_timeout"] {
                config.defaultTimeoutSeconds = EventLimits.timeoutSeconds(try timeout.duration(max: Double(EventLimits.maxTimeoutSeconds)))
            }
        }
        let catalog = loadPlugins?(config.pluginDirectories)
        if let admin = top["admin"] {
            config.adminTokens = try Self.tokens(try admin.mapping(allowed: ["tokens", "tokens_file"]))
        }
        if let api = top["api"], let channels = try api.mapping(allowed: ["team_channels"])["team_channels"] {
            config.teamChannels = Set(try channels.strings())
        }
        try config.readTeams(top["teams"])
        try config.readEndpoints(top["endpoints"], catalog: catalog)
        try config.readPolicies(top["policies"])
        return (config, catalog ?? PluginCatalog())
    }

    // MARK: - Sections

    private mutating func readServer(_ node: ConfigNode?) throws(ConfigError) {
        guard let node else { return }
        let fields = try node.mapping(allowed: ["host", "port", "max_body_bytes"])
        if let host = fields["host"] { self.host = try host.nonEmptyString() }
        if let port = fields["port"] { self.port = try port.int(min: 0, max: 65535) }
        if let max = fields["max_body_bytes"] { maxBodyBytes = try max.int(min: 1024) }
    }

    private mutating func readStorage(_ node: ConfigNode?) throws(ConfigError) {
        guard let node else { return }
        let fields = try node.mapping(allowed: ["path", "durability", "backlog_in_memory", "wal_autocheckpoint", "retention"])
        if let retention = fields["retention"] { retentionSeconds = try retention.duration(max: 10 * 366 * 86400) }
        if let pages = fields["wal_autocheckpoint"] { walAutocheckpoint = try pages.int(min: 0) }
        if let backlog = fields["backlog_in_memory"] { backlogInMemory = try backlog.int(min: 2, max: 10_000_000) }
        if let path = fields["path"] {
            let value = try path.nonEmptyString()
            databasePath = value.hasPrefix("/") ? value
                : ((file as NSString).deletingLastPathComponent as NSString).appendingPathComponent(value)
        }
        if let mode = fields["durability"] {
            durability = try mode.string()
            guard ["process", "power"].contains(durability) else {
                throw mode.error("expected process (survives kill -9) or power (fsync per commit), found \"\(durability)\"")
            }
        }
    }

    private mutating func readTeams(_ node: ConfigNode?) throws(ConfigError) {
        guard let node else { return }
        var tokensSeen = Set(adminTokens)
        for item in try node.sequence() {
            let fields = try item.mapping(allowed: ["name", "tokens", "tokens_file", "token_sha256", "project_ids"])
            guard let name = fields["name"] else { throw item.error("name: required") }
            var digests: [String] = []
            for digest in try fields["token_sha256"]?.sequence() ?? [] {
                let hex = try digest.string().lowercased()
                guard hex.count == 64, hex.allSatisfy(\.isHexDigit) else { throw digest.error("expected 64 hex digits (a SHA-256 digest)") }
                digests.append(hex)
            }
            let team = Team(name: try name.nonEmptyString(), tokens: try Self.tokens(fields),
                            projectIDs: try fields["project_ids"]?.strings() ?? [], tokenDigests: digests)
            guard !teams.contains(where: { $0.name == team.name }) else { throw name.error("team \"\(team.name)\" is declared twice") }
            for token in team.tokens where !tokensSeen.insert(token).inserted {
                throw (fields["tokens"] ?? item).error("a token is given to two teams")
            }
            teams.append(team)
        }
    }

    /// `tokens: [...]` and the lines of `tokens_file` (blank lines and `#` comments skipped).
    private static func tokens(_ fields: [String: ConfigNode]) throws(ConfigError) -> [String] {
        var tokens = try fields["tokens"]?.strings() ?? []
        if let file = fields["tokens_file"] {
            tokens += try file.fileContents().split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        }
        return tokens
    }

    private mutating func readEndpoints(_ node: ConfigNode?, catalog: PluginCatalog?) throws(ConfigError) {
        guard let node else { return }
        var fallbackNodes: [String: ConfigNode] = [:]
        for item in try node.sequence() {
            let fields = try item.mapping(allowed: [
                "name", "team", "channel", "levels", "push_cycle", "push_frequency", "retries", "timeout",
                "backoff", "max_backoff", "max_in_flight", "isolation", "down_after", "probe_backoff", "max_probe_backoff",
                "max_age", "fallback", "config",
            ])
            guard let nameNode = fields["name"] else { throw item.error("name: required") }
            guard let teamNode = fields["team"] else { throw item.error("team: required") }
            guard let channelNode = fields["channel"] else { throw item.error("channel: required") }
            var endpoint = Endpoint(name: try nameNode.nonEmptyString(), team: try teamNode.nonEmptyString(),
                                    channel: try channelNode.nonEmptyString())
            guard !endpoints.contains(where: { $0.name == endpoint.name }) else {
                throw nameNode.error("endpoint \"\(endpoint.name)\" is declared twice")
            }
            guard teams.contains(where: { $0.name == endpoint.team }) else {
                throw teamNode.error("no team named \"\(endpoint.team)\"")
            }
            if let levels = fields["levels"] {
                var set: Set<Level> = []
                for levelNode in try levels.sequence() {
                    let name = try levelNode.string()
                    guard let level = Level(name: name) else {
                        throw levelNode.error("unknown level \"\(name)\" (use \(Level.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    set.insert(level)
                }
                endpoint.levels = set
            }
            if let cycle = fields["push_cycle"] { endpoint.throttle.pushCycleSeconds = try cycle.duration() }
            if let frequency = fields["push_frequency"] { endpoint.throttle.pushFrequency = try frequency.int(min: 0) }
            if let retries = fields["retries"] { endpoint.retry.retries = try retries.int(min: 0, max: 100) }
            if let backoff = fields["backoff"] { endpoint.retry.initialBackoffSeconds = try backoff.duration(max: 86400) }
            if let maxBackoff = fields["max_backoff"] { endpoint.retry.maxBackoffSeconds = try maxBackoff.duration(max: 86400) }
            if let timeout = fields["timeout"] {
                // A day at most: the ABI hands plugins the timeout in 32-bit milliseconds.
                endpoint.timeoutSeconds = try timeout.duration(max: 86400)
                guard endpoint.timeoutSeconds > 0 else { throw timeout.error("must be more than 0") }
            }
            if let inFlight = fields["max_in_flight"] { endpoint.maxInFlight = try inFlight.int(min: 1, max: 10000) }
            if let downAfter = fields["down_after"] { endpoint.health.downAfter = try downAfter.int(min: 1, max: 1000) }
            if let probe = fields["probe_backoff"] {
                endpoint.health.firstProbeSeconds = try probe.duration(max: 3600)
                guard endpoint.health.firstProbeSeconds > 0 else { throw probe.error("must be more than 0") }
            }
            if let maxProbe = fields["max_probe_backoff"] { endpoint.health.maxProbeSeconds = try maxProbe.duration(max: 86400) }
            if let maxAge = fields["max_age"] {
                endpoint.health.maxAgeSeconds = try maxAge.duration(max: 30 * 86400)
                guard endpoint.health.maxAgeSeconds > 0 else { throw maxAge.error("must be more than 0") }
            }
            if let fallback = fields["fallback"] {
                endpoint.fallback = try fallback.strings()
                fallbackNodes[endpoint.name] = fallback
            }
            let configNode = fields["config"]
            endpoint.config = try configNode?.json() ?? .object([:])
            if let plugin = catalog?.plugins[endpoint.channel] {
                endpoint.config = try Self.readSecretFiles(endpoint.config, secrets: plugin.schema.secretFields,
                                                           configNode: configNode)
            }
            let isolation = try fields["isolation"].map { node throws(ConfigError) -> Isolation in
                let name = try node.string()
                guard let isolation = Isolation(rawValue: name) else {
                    throw node.error("expected process (a worker process of its own) or none (in the daemon), found \"\(name)\"")
                }
                return isolation
            }
            guard let catalog else {
                endpoint.isolation = isolation ?? .process
                endpoints.append(endpoint)
                continue
            }
            guard let plugin = catalog.plugins[endpoint.channel] else {
                let known = catalog.plugins.keys.sorted().joined(separator: ", ")
                throw channelNode.error("no plugin provides channel \"\(endpoint.channel)\" (loaded: \(known.isEmpty ? "none" : known))")
            }
            // Herald's own plugins run in the daemon by default; any other in a worker process.
            endpoint.isolation = isolation ?? (plugin.isShipped ? .none : .process)
            do {
                try plugin.validate(config: endpoint.config, endpoint: endpoint.name)
            } catch {
                let at = error.field.flatMap { configNode?.descendant($0) } ?? configNode ?? item
                throw ConfigError(file: file, line: at.node.mark?.line, column: at.node.mark?.column,
                                  field: error.field.map { "\(item.path).config.\($0)" } ?? "\(item.path).config",
                                  message: error.message)
            }
            try checkTemplates(of: endpoint, plugin: plugin, item: item, configNode: configNode)
            endpoints.append(endpoint)
        }
        try checkFallbacks(fallbackNodes)
    }

    /// A secret field given as `<field>_file: path` is read from that file,
    /// so it need not sit in the config.
    private static func readSecretFiles(_ config: JSONValue, secrets: [String],
                                        configNode: ConfigNode?) throws(ConfigError) -> JSONValue {
        guard case .object(var members) = config, let configNode else { return config }
        for secret in secrets {
            guard let fileNode = configNode.descendant("\(secret)_file") else { continue }
            guard members[secret] == nil else { throw fileNode.error("give \(secret) or \(secret)_file, not both") }
            members[secret] = .string(try fileNode.fileContents())
            members["\(secret)_file"] = nil
        }
        return .object(members)
    }

    /// Fallbacks name endpoints of the same team, and never lead back to
    /// where they started (A → B → A would pass a dead letter round forever).
    private func checkFallbacks(_ nodes: [String: ConfigNode]) throws(ConfigError) {
        let byName = Dictionary(endpoints.map { ($0.name, $0) }) { first, _ in first }
        for endpoint in endpoints {
            guard let node = nodes[endpoint.name] else { continue }
            let targets = (try? node.sequence()) ?? []
            for (index, name) in endpoint.fallback.enumerated() {
                let at = index < targets.count ? targets[index] : node
                guard let target = byName[name] else { throw at.error("no endpoint named \"\(name)\"") }
                guard target.team == endpoint.team else {
                    throw at.error("endpoint \"\(name)\" belongs to team \"\(target.team)\", not \"\(endpoint.team)\"")
                }
            }
            // Depth-first from this endpoint: reaching it again is a loop.
            var path = [endpoint.name]
            func visit(_ name: String) throws(ConfigError) {
                for next in byName[name]?.fallback ?? [] {
                    if next == endpoint.name {
                        throw node.error("fallbacks loop: \((path + [next]).joined(separator: " → "))")
                    }
                    guard !path.contains(next) else { continue }
                    path.append(next)
                    try visit(next)
                    path.removeLast()
                }
            }
            try visit(endpoint.name)
        }
    }

    /// Every template the endpoint will render (its own, and the plugin's
    /// defaults for the rest) parses and renders, or the file is refused
    /// naming the field: a bad filter is a config error, not an empty body.
    private func checkTemplates(of endpoint: Endpoint, plugin: LoadedPlugin, item: ConfigNode,
                                configNode: ConfigNode?) throws(ConfigError) {
        for field in plugin.schema.templateFields {
            guard let text = endpoint.config[field]?.stringValue else { continue }
            do {
                _ = try TemplateSet(fields: [field: text])
            } catch {
                let at = configNode?.descendant(field) ?? configNode ?? item
                throw ConfigError(file: file, line: at.node.mark?.line, column: at.node.mark?.column,
                                  field: "\(item.path).config.\(field)", message: "template: \(error.message)")
            }
        }
    }

    private mutating func readPolicies(_ node: ConfigNode?) throws(ConfigError) {
        guard let node else { return }
        for item in try node.sequence() {
            let fields = try item.mapping(allowed: ["name", "team", "matchers", "endpoints"])
            guard let nameNode = fields["name"] else { throw item.error("name: required") }
            guard let teamNode = fields["team"] else { throw item.error("team: required") }
            guard let endpointsNode = fields["endpoints"] else { throw item.error("endpoints: required") }
            let name = try nameNode.nonEmptyString()
            let team = try teamNode.nonEmptyString()
            guard !policies.contains(where: { $0.id == name }) else { throw nameNode.error("policy \"\(name)\" is declared twice") }
            guard teams.contains(where: { $0.name == team }) else { throw teamNode.error("no team named \"\(team)\"") }
            var matchers: [Matcher] = []
            for matcherNode in try fields["matchers"]?.sequence() ?? [] {
                do {
                    matchers.append(try Matcher(try matcherNode.string()))
                } catch let error as MatcherError {
                    throw matcherNode.error(error.description)
                } catch let error as ConfigError {
                    throw error
                } catch {
                    throw matcherNode.error("\(error)")
                }
            }
            let targets = try endpointsNode.sequence()
            var names: [String] = []
            for target in targets {
                let endpointName = try target.nonEmptyString()
                guard let endpoint = endpoints.first(where: { $0.name == endpointName }) else {
                    throw target.error("no endpoint named \"\(endpointName)\"")
                }
                guard endpoint.team == team else {
                    throw target.error("endpoint \"\(endpointName)\" belongs to team \"\(endpoint.team)\", not \"\(team)\"")
                }
                names.append(endpointName)
            }
            policies.append(Policy(id: name, team: team, matchers: matchers, endpoints: names))
        }
    }
}
