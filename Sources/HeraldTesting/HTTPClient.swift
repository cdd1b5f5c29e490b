import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A small HTTP client for tests.
public enum HTTPClient {
    public static func send(_ method: String, _ url: String, body: String? = nil, headers: [String: String] = [:])
        async throws -> (status: Int, body: String) {
        let answer = try await exchange(method, url, body: body, headers: headers)
        return (answer.status, answer.body)
    }

    /// The same, with the answer's headers.
    public static func exchange(_ method: String, _ url: String, body: String? = nil, headers: [String: String] = [:])
        async throws -> (status: Int, body: String, headers: [String: String]) {
        guard let target = URL(string: url) else { throw TestFailure("not a URL: \(url)") }
        var request = URLRequest(url: target)
        request.httpMethod = method
        request.timeoutInterval = 30
        if let body { request.httpBody = Data(body.utf8) }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http?.allHeaderFields ?? [:] { fields["\(name)".lowercased()] = "\(value)" }
        return (http?.statusCode ?? 0, String(decoding: data, as: UTF8.self), fields)
    }
}
