import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HeraldCore
import Yams

/// Where the running daemon is and who is asking: flags, or the environment.
struct RemoteOptions: ParsableArguments {
    @Option(help: "The daemon's address (or HERALD_URL).")
    var url: String = ProcessInfo.processInfo.environment["HERALD_URL"] ?? "http://127.0.0.1:8080"

    @Option(help: "A team's or an admin's API token (or HERALD_TOKEN).")
    var token: String?

    @Flag(help: "Print the API's JSON, for scripts.")
    var json = false

    var bearer: String? { token ?? ProcessInfo.processInfo.environment["HERALD_TOKEN"] }
}

/// The daemon's API, as the CLI calls it: JSON in, JSON out; an error
/// answer is printed as the API words it and ends the command non-zero.
struct APIClient {
    let options: RemoteOptions

    func call(_ method: String, _ path: String, body: JSONValue? = nil) async throws -> JSONValue {
        guard let url = URL(string: options.url.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path) else {
            throw ValidationError("not a URL: \(options.url)\(path)")
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = 60
        if let bearer = options.bearer { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(body.jsonText.utf8)
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw RemoteError("cannot reach \(options.url): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let answer = data.isEmpty ? JSONValue.null : ((try? JSONValue.parse(String(decoding: data, as: UTF8.self))) ?? .string(String(decoding: data, as: UTF8.self)))
        guard (200..<300).contains(status) else {
            let message = answer.objectValue?["error"]?.objectValue?["message"]?.stringValue ?? String(decoding: data, as: UTF8.self)
            throw RemoteError("\(status): \(message)")
        }
        return answer
    }

    /// Prints the answer: its JSON with `--json`, else what `human` makes of it.
    func show(_ answer: JSONValue, human: (JSONValue) -> String) {
        print(options.json ? answer.jsonText : human(answer))
    }
}

/// An answer the command cannot go on with; printed without a stack of noise.
struct RemoteError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A body for create and edit: a JSON or YAML file, or `-` for standard input.
func readBody(_ path: String) throws -> JSONValue {
    let text: String
    if path == "-" {
        text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
    } else {
        guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("cannot read \(path)") }
        text = contents
    }
    if let json = try? JSONValue.parse(text) { return json }
    return try yamlAsJSON(text)
}

/// Columns with a header, each as wide as its widest cell.
func table(_ headers: [String], _ rows: [[String]]) -> String {
    guard !rows.isEmpty else { return "(none)" }
    let widths = headers.indices.map { column in
        ([headers[column]] + rows.map { column < $0.count ? $0[column] : "" }).map(\.count).max() ?? 0
    }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { index, cell in
            index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }
    return ([line(headers)] + rows.map(line)).joined(separator: "\n")
}

extension JSONValue {
    /// A cell's text: strings as they are, numbers without a needless ".0", lists joined.
    var cell: String {
        switch self {
        case .string(let text): return text
        case .number(let number):
            return number.rounded() == number && abs(number) < 9e15 ? String(Int64(number)) : String(number)
        case .bool(let flag): return flag ? "yes" : "no"
        case .null: return "-"
        case .array(let items): return items.map(\.cell).joined(separator: ",")
        case .object: return jsonText
        }
    }

    var items: [JSONValue] { if case .array(let items) = self { items } else { [] } }

    var doubleValue: Double? { if case .number(let number) = self { number } else { nil } }
}

extension Optional where Wrapped == JSONValue {
    /// A missing field's cell is "-".
    var cell: String { self?.cell ?? "-" }
    var items: [JSONValue] { self?.items ?? [] }
    var doubleValue: Double? { self?.doubleValue }
}

/// YAML (as in the config file) read as the JSON the API takes.
func yamlAsJSON(_ text: String) throws -> JSONValue {
    guard let node = try Yams.compose(yaml: text) else { throw ValidationError("the body is empty") }
    func convert(_ node: Node) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            guard scalar.style == .plain || scalar.style == .any else { return .string(scalar.string) }
            if node.null != nil { return .null }
            if let flag = node.bool { return .bool(flag) }
            if let number = Double(scalar.string), number.isFinite { return .number(number) }
            return .string(scalar.string)
        case .sequence(let sequence): return .array(sequence.map(convert))
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping { members[key.string ?? ""] = convert(value) }
            return .object(members)
        case .alias: return .null
        }
    }
    return convert(node)
}
