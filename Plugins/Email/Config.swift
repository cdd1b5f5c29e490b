import Foundation
import HeraldPluginKit

/// The email channel's endpoint config. Each option appears once here and
/// once in `Config.schema`; README.md's table lists them.
struct Config: Decodable, Sendable {
    /// `smtp://host[:port]` or `smtps://host[:port]`, scheme in lower case.
    var server: String
    var startTLS: StartTLS
    var username: String?
    var password: String?
    var from: Mailbox
    var to: [Mailbox]
    var caFile: String?
    var tlsVerify: Bool
    /// SMTP connections kept open, one per sending thread.
    var maxConnections: Int

    enum StartTLS: String, Decodable, Sendable { case required, opportunistic, off }

    static let schema = """
        {"type":"object","additionalProperties":false,"required":["server","from","to"],"properties":{
          "server":{"type":"string","minLength":1,
                    "description":"smtp://host[:port] (port 25, STARTTLS per starttls) or smtps://host[:port] (port 465, TLS at once)."},
          "starttls":{"type":"string","enum":["required","opportunistic","off"],"default":"required",
                      "description":"smtp:// only: refuse to send without STARTTLS, use it when offered, or never."},
          "username":{"type":"string","description":"SMTP AUTH user; needs password."},
          "password":{"type":"string","x-herald-secret":true,"description":"SMTP AUTH password."},
          "from":{"type":"string","minLength":3,"description":"Sender: addr@example.com or Name <addr@example.com>."},
          "to":{"type":"array","minItems":1,"items":{"type":"string"},"description":"Recipients, as from."},
          "subject":{"type":"string","x-herald-template":true,"description":"Subject; a template."},
          "body":{"type":"string","x-herald-template":true,"description":"Plain-text body; a template."},
          "html":{"type":"string","x-herald-template":true,
                  "description":"HTML body; a template. When set, the mail is multipart/alternative with the plain body."},
          "ca_file":{"type":"string","description":"PEM file of CAs trusted for TLS."},
          "tls_verify":{"type":"boolean","default":true,"description":"Verify the server certificate and name."},
          "max_connections":{"type":"integer","minimum":1,"maximum":64,"default":4,
                             "description":"SMTP connections kept open; as many mails are sent at once."}
        }}
        """

    static let defaultTemplates = #"""
        {"subject":"[{{ level }}] {{ name }} on {{ object_id }}",
         "body":"{{ name }} on {{ object_id }} is {{ status }}.\n\nLevel:   {{ level }}\nPolicy:  {{ policy }}\nTeam:    {{ team }}\nStarted: {{ starts_at }}{% if ends_at %}\nEnded:   {{ ends_at }}{% endif %}\n{% if annotations.summary %}\n{{ annotations.summary }}\n{% endif %}{% if annotations.description %}\n{{ annotations.description }}\n{% endif %}\nEvent {{ id }}, delivery {{ delivery_id }}.\n"}
        """#

    private enum Keys: String, CodingKey {
        case server, starttls, username, password, from, to
        case caFile = "ca_file", tlsVerify = "tls_verify", maxConnections = "max_connections"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        server = try c.decode(String.self, forKey: .server)
        startTLS = try c.decodeIfPresent(StartTLS.self, forKey: .starttls) ?? .required
        username = try c.decodeIfPresent(String.self, forKey: .username)
        password = try c.decodeIfPresent(String.self, forKey: .password)
        let fromText = try c.decode(String.self, forKey: .from)
        let toTexts = try c.decode([String].self, forKey: .to)
        do throws(ConfigProblem) {
            from = try Mailbox(parsing: fromText, field: "from")
            to = try toTexts.enumerated().map { index, text throws(ConfigProblem) in
                try Mailbox(parsing: text, field: "to[\(index)]")
            }
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: [ProblemKey(error.field)], debugDescription: error.message))
        }
        caFile = try c.decodeIfPresent(String.self, forKey: .caFile)
        tlsVerify = try c.decodeIfPresent(Bool.self, forKey: .tlsVerify) ?? true
        maxConnections = try c.decodeIfPresent(Int.self, forKey: .maxConnections) ?? 4
    }

    func validate() throws(ConfigProblem) {
        // Also in the schema; checked here too, as it sizes a thread pool.
        guard (1...64).contains(maxConnections) else { throw ConfigProblem(field: "max_connections", "must be 1-64") }
        guard let url = Self.normalisedServer(server) else {
            throw ConfigProblem(field: "server", "expected smtp://host[:port] or smtps://host[:port], found \"\(server)\"")
        }
        let authority = url.drop { $0 != "/" }.dropFirst(2)
        guard !authority.isEmpty, !authority.contains(where: { "/?#@ ".contains($0) }) else {
            throw ConfigProblem(field: "server", "expected only a host and port after the scheme, found \"\(authority)\"")
        }
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            guard let port = Int(authority[authority.index(after: colon)...]), (1...65535).contains(port) else {
                throw ConfigProblem(field: "server", "port must be 1-65535")
            }
        }
        if (username == nil) != (password == nil) {
            throw ConfigProblem(field: username == nil ? "username" : "password", "username and password go together")
        }
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw ConfigProblem(field: "ca_file", "cannot read \(caFile)")
        }
    }

    /// The server URL with its scheme in lower case, or nil when it is not SMTP.
    static func normalisedServer(_ server: String) -> String? {
        let trimmed = server.trimmingCharacters(in: .whitespaces)
        for scheme in ["smtp://", "smtps://"]
        where trimmed.prefix(scheme.count).caseInsensitiveCompare(scheme) == .orderedSame {
            return scheme + trimmed.dropFirst(scheme.count)
        }
        return nil
    }

    private struct ProblemKey: CodingKey {
        let stringValue: String
        init(_ value: String) { stringValue = value }
        init?(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }
}

/// An address with an optional display name: `ops@example.com` or
/// `Ops Team <ops@example.com>`.
struct Mailbox: Sendable, Equatable {
    var name: String?
    var address: String

    init(parsing text: String, field: String) throws(ConfigProblem) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasSuffix(">"), let open = trimmed.lastIndex(of: "<") {
            let name = trimmed[..<open].trimmingCharacters(in: .whitespaces)
                .trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            self.name = name.isEmpty ? nil : name
            address = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
        } else {
            address = trimmed
        }
        guard Self.isAddress(address) else {
            throw ConfigProblem(field: field, "not an email address: \"\(text)\"")
        }
        if let name, name.contains(where: { $0.isNewline || $0 == "\"" || $0 == "\\" }) {
            throw ConfigProblem(field: field, "display name must not contain quotes, backslashes or line breaks")
        }
    }

    /// local@domain: printable ASCII without spaces or specials in the
    /// local part, a dotted domain of letters, digits and hyphens.
    static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].utf8.count <= 64, text.utf8.count <= 254 else { return false }
        let localAllowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "!#$%&'*+-/=?^_`{|}~."))
        guard parts[0].unicodeScalars.allSatisfy({ $0.isASCII && localAllowed.contains($0) }),
              !parts[0].hasPrefix("."), !parts[0].hasSuffix("."), !parts[0].contains("..") else { return false }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 1 && labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-") }
        }
    }
}
