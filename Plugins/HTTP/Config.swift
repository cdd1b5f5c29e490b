import Foundation
import HeraldPluginKit
import HTTPSupport

/// The HTTP channel's endpoint config. Each option appears once here and
/// once in `Config.schema`; README.md's table lists them.
struct Config: Decodable, Sendable {
    /// Where to send; a template (`http://10.0.0.1/{{ policy_level }}`).
    var url: String
    /// POST, PUT or PATCH, any case.
    var method: String
    var headers: [String: String]
    /// Request body template; when absent, the event itself as JSON.
    var body: String?
    var contentType: String
    /// PEM bundle of the CAs that may sign the receiver's certificate.
    var caFile: String?
    /// Verify the receiver's certificate and host name (keep it on).
    var tlsVerify: Bool
    /// Connections kept open to one host; more requests wait for one.
    var maxConnections: Int

    static let methods = ["POST", "PUT", "PATCH"]

    static let schema = """
        {"type":"object","additionalProperties":false,"required":["url"],"properties":{
          "url":{"type":"string","minLength":1,"x-herald-template":true,
                 "description":"Receiver URL, http:// or https:// (any case); a template."},
          "method":{"type":"string","default":"POST","description":"POST, PUT or PATCH (any case)."},
          "headers":{"type":"object","additionalProperties":{"type":"string"},
                     "description":"Extra request headers."},
          "body":{"type":"string","x-herald-template":true,
                  "description":"Body template; default: the event as JSON."},
          "content_type":{"type":"string","default":"application/json","description":"Content-Type of the body."},
          "ca_file":{"type":"string","description":"PEM file of CAs trusted for HTTPS."},
          "tls_verify":{"type":"boolean","default":true,"description":"Verify the server certificate and name."},
          "max_connections":{"type":"integer","minimum":1,"maximum":1024,"default":32,
                             "description":"Keep-alive connections per host; further requests queue for one."}
        }}
        """

    private enum Keys: String, CodingKey {
        case url, method, headers, body
        case contentType = "content_type", caFile = "ca_file", tlsVerify = "tls_verify"
        case maxConnections = "max_connections"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        url = try c.decode(String.self, forKey: .url)
        method = try c.decodeIfPresent(String.self, forKey: .method)?.uppercased() ?? "POST"
        headers = try c.decodeIfPresent([String: String].self, forKey: .headers) ?? [:]
        body = try c.decodeIfPresent(String.self, forKey: .body)
        contentType = try c.decodeIfPresent(String.self, forKey: .contentType) ?? "application/json"
        caFile = try c.decodeIfPresent(String.self, forKey: .caFile)
        tlsVerify = try c.decodeIfPresent(Bool.self, forKey: .tlsVerify) ?? true
        maxConnections = try c.decodeIfPresent(Int.self, forKey: .maxConnections) ?? 32
    }

    func validate() throws(ConfigProblem) {
        // Also in the schema; checked here too, as it sizes libcurl's pool.
        guard (1...1024).contains(maxConnections) else { throw ConfigProblem(field: "max_connections", "must be 1-1024") }
        guard Self.methods.contains(method) else {
            throw ConfigProblem(field: "method", "expected POST, PUT or PATCH, found \"\(method)\"")
        }
        guard Self.normalisedURL(url) != nil else {
            throw ConfigProblem(field: "url", "must start with http:// or https://")
        }
        guard !url.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ConfigProblem(field: "url", "must not hold a control character (a line break?)")
        }
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw ConfigProblem(field: "ca_file", "cannot read \(caFile)")
        }
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            if let problem = HeaderField.problem(name: name, value: value) {
                throw ConfigProblem(field: "headers.\(name)", problem)
            }
        }
        if let problem = HeaderField.problem(name: "Content-Type", value: contentType) {
            throw ConfigProblem(field: "content_type", problem)
        }
    }

    /// The URL with its scheme in lower case, or nil when it is not HTTP(S).
    static func normalisedURL(_ url: String) -> String? {
        let trimmed = url.trimmingCharacters(in: .whitespaces)
        for scheme in ["http://", "https://"]
        where trimmed.prefix(scheme.count).caseInsensitiveCompare(scheme) == .orderedSame {
            return scheme + trimmed.dropFirst(scheme.count)
        }
        return nil
    }
}
