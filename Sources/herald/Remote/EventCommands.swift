import ArgumentParser
import Foundation
import HeraldCore

/// `herald events explain ID`: what happened to an alert.
struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Events on the running daemon.", subcommands: [Explain.self])

    struct Explain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Where an event went, and why not where it did not (level, push cycle, push frequency...).")
        @OptionGroup var remote: RemoteOptions
        @Argument var id: String
        @Option(help: "An admin's token: the event's team.") var team: String?

        func run() async throws {
            let client = APIClient(options: remote)
            let query = team.map { "?team=\($0.queryValue)" } ?? ""
            let answer = try await client.call("GET", "/api/v1/events/\(id.pathComponent)\(query)")
            client.show(answer) { answer in
                answer["events"].items.map { event in
                    let head = "\(event["event"]?["status"].cell ?? "-") \(event["event"]?["level"].cell ?? "-") event stored \(event["received_at"].cell)"
                    let routes = event["routes"].items
                    guard !routes.isEmpty else { return head + "\n  matched no policy: pushed nowhere" }
                    return head + "\n" + table(["POLICY", "ENDPOINT", "OUTCOME", "DELIVERY", "ATTEMPTS", "LAST ERROR"], routes.map { route in
                        [route["policy"].cell, route["endpoint"].cell, route["outcome"].cell,
                         route["delivery"]?["status"].cell ?? "-", route["attempts"].items.count.description,
                         route["delivery"]?["last_error"].cell ?? "-"]
                    }).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
                }.joined(separator: "\n\n")
            }
        }
    }
}

/// `herald history`: the delivery history over the API, filtered.
struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Deliveries on the running daemon, newest first.")
    @OptionGroup var remote: RemoteOptions
    @Option(help: "pending, delivered, dead or cancelled.") var status: String?
    @Option var endpoint: String?
    @Option(help: "Only deliveries of this event id.") var event: String?
    @Option(help: "Events stored at or after this (RFC 3339 or Unix seconds).") var since: String?
    @Option(help: "Events stored before this.") var until: String?
    @Option(help: "An admin's token: only this team's.") var team: String?
    @Option(help: "At most this many (1 to 1000).") var limit = 50

    func run() async throws {
        let client = APIClient(options: remote)
        let answer = try await client.call("GET", "/api/v1/deliveries?" + query)
        client.show(answer) { History.rows($0) }
    }

    var query: String {
        let pairs: [(String, String?)] = [("status", status), ("endpoint", endpoint), ("event_id", event), ("since", since),
                                          ("until", until), ("team", team), ("limit", String(limit))]
        return pairs.compactMap { name, value in value.map { "\(name)=\($0.queryValue)" } }.joined(separator: "&")
    }

    static func rows(_ answer: JSONValue) -> String {
        table(["ID", "EVENT", "ENDPOINT", "STATUS", "ATTEMPTS", "UPDATED", "LAST ERROR"], answer.items.map { item in
            [item["id"].cell, item["event_id"].cell, item["endpoint"].cell, item["status"].cell, item["attempts"].cell,
             item["updated_at"].cell, item["last_error"].cell]
        })
    }
}

/// `herald deadletters list|replay`.
struct DeadLetters: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deadletters", abstract: "Dead letters on the running daemon.",
                                                    subcommands: [List.self, Replay.self])

    struct List: AsyncParsableCommand {
        @OptionGroup var remote: RemoteOptions
        @Option var endpoint: String?
        @Option(help: "At most this many (1 to 1000).") var limit = 50
        func run() async throws {
            let client = APIClient(options: remote)
            var query = "status=dead&limit=\(limit)"
            if let endpoint { query += "&endpoint=\(endpoint.queryValue)" }
            client.show(try await client.call("GET", "/api/v1/deliveries?\(query)")) { History.rows($0) }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send dead letters again: those given by id, or all of them.")
        @OptionGroup var remote: RemoteOptions
        @Argument(help: "Delivery ids; none for every dead letter.") var ids: [Int64] = []
        func run() async throws {
            let client = APIClient(options: remote)
            let body: JSONValue = ids.isEmpty ? .object([:]) : .object(["ids": .array(ids.map { .number(Double($0)) })])
            let answer = try await client.call("POST", "/api/v1/deliveries/replay", body: body)
            client.show(answer) { answer in
                "replayed \(answer["replayed"].cell)"
                    + (answer["running"] == .bool(true) ? " so far; the rest goes on in the daemon (see its log)" : "")
            }
        }
    }
}
