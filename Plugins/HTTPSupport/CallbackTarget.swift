import Foundation
public import HeraldPluginKit

/// Where a callback adapter posts, as its config says: the URL, TLS trust,
/// and HTTP Basic credentials taken out of the URL.
public struct CallbackTarget: Sendable {
    /// The URL without any `user:password@`, which goes to `basicAuth`.
    public let url: String
    public let basicAuth: (user: String, password: String)?
    public let caFile: String?
    public let tlsVerify: Bool

    public init(url: String, caFile: String?, tlsVerify: Bool?) {
        (self.url, basicAuth) = Self.splittingCredentials(url)
        self.caFile = caFile
        self.tlsVerify = tlsVerify ?? true
    }

    /// The options' checks; messages never quote the URL, which may hold a password.
    public func validate() throws(ConfigProblem) {
        guard url.lowercased().hasPrefix("http://") || url.lowercased().hasPrefix("https://") else {
            throw ConfigProblem(field: "url", "must start with http:// or https://")
        }
        guard !url.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ConfigProblem(field: "url", "must not hold a control character (a line break?)")
        }
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw ConfigProblem(field: "ca_file", "cannot read \(caFile)")
        }
    }

    /// The options every callback adapter's schema has, as JSON Schema properties.
    public static let schemaProperties = """
          "ca_file":{"type":"string","description":"PEM file of CAs trusted for HTTPS."},
          "tls_verify":{"type":"boolean","default":true,"description":"Verify the server certificate and name."}
        """

    /// `http://user:pass@host/path` → (`http://host/path`, (user, pass)), percent-decoded.
    static func splittingCredentials(_ url: String) -> (String, (user: String, password: String)?) {
        guard let schemeEnd = url.range(of: "://") else { return (url, nil) }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex { "/?#".contains($0) } ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return (url, nil) }
        let userInfo = rest[..<at]
        let (user, password) = userInfo.firstIndex(of: ":").map { (userInfo[..<$0], userInfo[userInfo.index(after: $0)...]) }
            ?? (userInfo, "")
        let stripped = String(url[..<schemeEnd.upperBound]) + rest[rest.index(after: at)...]
        return (stripped, (String(user).removingPercentEncoding ?? String(user),
                           String(password).removingPercentEncoding ?? String(password)))
    }
}

extension Sender {
    /// Posts `body` to the target; the outcome follows the HTTP rules.
    public func post(_ body: [UInt8], contentType: String, to target: CallbackTarget, timeout: Double,
                     completion: Completion) {
        send(Request(url: target.url, headers: ["Content-Type": contentType], body: body,
                     timeoutMs: Int(timeout * 1000), caFile: target.caFile, verify: target.tlsVerify,
                     basicAuth: target.basicAuth),
             completion: completion)
    }
}

extension FieldSources {
    /// Decodes a `fields` option over `defaults`; a bad entry names `fields.NAME`.
    public static func decode<Key: CodingKey>(_ container: KeyedDecodingContainer<Key>, forKey key: Key,
                                              over defaults: [String: FieldSources]) throws -> [String: FieldSources] {
        let mapping = try container.decodeIfPresent([String: SourceList].self, forKey: key)?.mapValues(\.sources) ?? [:]
        do throws(ConfigProblem) {
            return defaults.merging(try parse(mapping, allowed: defaults.keys.sorted())) { $1 }
        } catch {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: error.description)
        }
    }
}
