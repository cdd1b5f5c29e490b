import ArgumentParser
import Foundation
import HeraldCore

/// `herald endpoints|policies|teams ...`: the running daemon's API.
struct Endpoints: AsyncParsableCommand, RemoteResource {
    static let configuration = CommandConfiguration(
        abstract: "A team's push endpoints on the running daemon.",
        subcommands: [ListItems<Self>.self, GetItem<Self>.self, CreateItem<Self>.self, EditItem<Self>.self,
                      DeleteItem<Self>.self, Test.self])

    static let kind = ResourceKind(path: "endpoints", headers: ["NAME", "TEAM", "CHANNEL", "STATE", "POLICIES", "PROVISIONED"]) { item in
        [item["name"].cell, item["team"].cell, item["channel"].cell, item["state"].cell, item["policies"].cell, item["provisioned"].cell]
    }
    static let noun = "an endpoint"
    static let editNote = " (secrets given as \"(set)\" stay)"
    static let forceHelp: String? = "Also take it out of the policies and fallbacks that name it."

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a test alert through the endpoint now.")
        @OptionGroup var remote: RemoteOptions
        @Argument var name: String
        func run() async throws {
            let client = APIClient(options: remote)
            let answer = try await client.call("POST", "/api/v1/endpoints/\(name.pathComponent)/test")
            client.show(answer) { answer in
                "\(answer["outcome"].cell)  \(String(format: "%.3f s", answer["duration_seconds"].doubleValue ?? 0))  \(answer["reason"].cell)"
            }
            if answer["outcome"]?.stringValue != "ok" { throw ExitCode(1) }
        }
    }
}

struct Policies: AsyncParsableCommand, RemoteResource {
    static let configuration = CommandConfiguration(
        abstract: "A team's alert policies on the running daemon.",
        subcommands: [ListItems<Self>.self, GetItem<Self>.self, CreateItem<Self>.self, EditItem<Self>.self,
                      DeleteItem<Self>.self])

    static let kind = ResourceKind(path: "policies", headers: ["NAME", "TEAM", "ENDPOINTS", "MATCHERS", "PROVISIONED"]) { item in
        [item["name"].cell, item["team"].cell, item["endpoints"].cell, item["matchers"].items.map(\.cell).joined(separator: " "),
         item["provisioned"].cell]
    }
    static let noun = "a policy"
    static let forceHelp: String? = nil
}

struct Teams: AsyncParsableCommand, RemoteResource {
    static let configuration = CommandConfiguration(
        abstract: "Teams on the running daemon (made and deleted with an admin token).",
        subcommands: [List.self, GetItem<Self>.self, Create.self, DeleteItem<Self>.self])

    static let kind = ResourceKind(path: "teams", headers: ["NAME", "ENDPOINTS", "POLICIES", "TOKENS", "PROVISIONED"]) { item in
        [item["name"].cell, item["endpoints"].cell, item["policies"].cell, item["tokens"].cell, item["provisioned"].cell]
    }
    static let noun = "a team"
    static let forceHelp: String? = "Also delete its endpoints and policies."

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A table of them (--json for the API's answer).")
        @OptionGroup var remote: RemoteOptions
        func run() async throws { try await kind.list(remote, team: nil) }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a team; prints its token, shown only this once.")
        @OptionGroup var remote: RemoteOptions
        @Argument var name: String
        func run() async throws {
            let client = APIClient(options: remote)
            let answer = try await client.call("POST", "/api/v1/teams", body: .object(["name": .string(name)]))
            client.show(answer) { "team \($0["name"].cell) made; its token (shown only now): \($0["token"].cell)" }
        }
    }
}

/// A kind of item the API keeps, as its commands see it.
protocol RemoteResource {
    static var kind: ResourceKind { get }
    /// With its article, for help texts: "an endpoint".
    static var noun: String { get }
    /// Said of `edit`, after "Replace <noun>".
    static var editNote: String { get }
    /// The help of `delete --force`; nil: the kind has no such flag.
    static var forceHelp: String? { get }
}

extension RemoteResource {
    static var editNote: String { "" }
}

struct ListItems<Item: RemoteResource>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "list", abstract: "A table of them (--json for the API's answer).")
    }
    @OptionGroup var remote: RemoteOptions
    @Option(help: "An admin's token: only this team's.") var team: String?
    func run() async throws { try await Item.kind.list(remote, team: team) }
}

struct GetItem<Item: RemoteResource>: AsyncParsableCommand {
    static var configuration: CommandConfiguration { CommandConfiguration(commandName: "get", abstract: "One of them, as JSON.") }
    @OptionGroup var remote: RemoteOptions
    @Argument var name: String
    func run() async throws { try await Item.kind.get(remote, name) }
}

struct CreateItem<Item: RemoteResource>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "create",
                             abstract: "Make \(Item.noun) from a JSON or YAML file (- for standard input).")
    }
    @OptionGroup var remote: RemoteOptions
    @Option(name: .shortAndLong) var file: String
    func run() async throws { try await Item.kind.create(remote, file: file) }
}

struct EditItem<Item: RemoteResource>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "edit", abstract: "Replace \(Item.noun)\(Item.editNote).")
    }
    @OptionGroup var remote: RemoteOptions
    @Argument var name: String
    @Option(name: .shortAndLong) var file: String
    func run() async throws { try await Item.kind.edit(remote, name, file: file) }
}

struct DeleteItem<Item: RemoteResource>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "delete", abstract: "Delete one made through the API.")
    }
    @OptionGroup var remote: RemoteOptions
    @Argument var name: String
    @Flag(help: Item.forceHelp.map { ArgumentHelp($0) } ?? .hidden) var force = false
    func run() async throws { try await Item.kind.delete(remote, name, force: force && Item.forceHelp != nil) }
}

/// What the three resource commands share: list as a table, get as
/// indented JSON, create and edit from a file, delete.
struct ResourceKind: Sendable {
    let path: String
    let headers: [String]
    let row: @Sendable (JSONValue) -> [String]

    func list(_ remote: RemoteOptions, team: String?) async throws {
        let client = APIClient(options: remote)
        let query = team.map { "?team=\($0.queryValue)" } ?? ""
        let answer = try await client.call("GET", "/api/v1/\(path)\(query)")
        client.show(answer) { table(headers, $0.items.map(row)) }
    }

    func get(_ remote: RemoteOptions, _ name: String) async throws {
        let client = APIClient(options: remote)
        client.show(try await client.call("GET", "/api/v1/\(path)/\(name.pathComponent)")) { $0.prettyText }
    }

    func create(_ remote: RemoteOptions, file: String) async throws {
        let client = APIClient(options: remote)
        let answer = try await client.call("POST", "/api/v1/\(path)", body: try readBody(file))
        client.show(answer) { "made \($0["name"].cell)" }
    }

    func edit(_ remote: RemoteOptions, _ name: String, file: String) async throws {
        let client = APIClient(options: remote)
        let answer = try await client.call("PUT", "/api/v1/\(path)/\(name.pathComponent)", body: try readBody(file))
        client.show(answer) { "changed \($0["name"].cell)" }
    }

    func delete(_ remote: RemoteOptions, _ name: String, force: Bool) async throws {
        let client = APIClient(options: remote)
        let answer = try await client.call("DELETE", "/api/v1/\(path)/\(name.pathComponent)\(force ? "?force=true" : "")")
        client.show(answer) { _ in "deleted \(name)" }
    }
}

extension String {
    /// Percent-encoded for one path segment.
    var pathComponent: String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove("/")
        return addingPercentEncoding(withAllowedCharacters: allowed) ?? self
    }

    var queryValue: String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&+=")
        return addingPercentEncoding(withAllowedCharacters: allowed) ?? self
    }
}

extension JSONValue {
    /// Indented, keys sorted: for a person to read.
    var prettyText: String {
        guard let data = jsonText.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]),
              let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
        else { return jsonText }
        return String(decoding: pretty, as: UTF8.self)
    }
}
