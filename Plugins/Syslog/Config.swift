import Foundation
import HeraldPluginKit

/// The syslog channel's endpoint config. Each option appears once here and
/// once in `Config.schema`; README.md's table lists them.
struct Config: Decodable, Sendable {
    var destination: Destination
    var format: Format
    var framing: Framing
    var facility: Int
    var appName: String
    var hostname: String
    var structuredDataID: String
    var caFile: String?
    var tlsVerify: Bool
    /// Longest message sent, in bytes; the text is cut (on a UTF-8
    /// boundary) to fit. UDP sends each message in one datagram.
    var maxMessageBytes: Int

    enum Format: String, Decodable, Sendable { case rfc5424, rfc3164 }
    enum Framing: String, Decodable, Sendable { case octetCounting = "octet-counting", newline }

    static let schema = """
        {"type":"object","additionalProperties":false,"required":["destination"],"properties":{
          "destination":{"type":"string","minLength":1,
                         "description":"[udp|tcp|tls]://host[:port]; udp when no protocol is given; port 514, or 6514 for tls."},
          "format":{"type":"string","enum":["rfc5424","rfc3164"],"default":"rfc5424",
                    "description":"RFC 5424 (structured data, RFC 3339 time) or the older BSD format."},
          "framing":{"type":"string","enum":["octet-counting","newline"],"default":"octet-counting",
                     "description":"TCP only: RFC 6587 octet counting, or one message per line."},
          "facility":{"type":["string","integer"],"default":"user",
                      "description":"kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, local0-local7, or 0-23."},
          "app_name":{"type":"string","default":"herald","description":"APP-NAME (RFC 5424) or TAG (RFC 3164)."},
          "hostname":{"type":"string","description":"HOSTNAME field; default: this machine's name."},
          "sd_id":{"type":"string","default":"alert@32473",
                   "description":"SD-ID of the structured data element that carries the alert's key fields."},
          "msgid":{"type":"string","x-herald-template":true,
                   "description":"MSGID (RFC 5424); a template. Default: the alert's status."},
          "message":{"type":"string","x-herald-template":true,
                     "description":"The message text; a template."},
          "max_message_bytes":{"type":"integer","minimum":480,"maximum":65000,"default":2048,
                               "description":"Longest message in bytes; longer text is cut on a character boundary."},
          "ca_file":{"type":"string","description":"tls only: PEM file of CAs trusted for the server's certificate."},
          "tls_verify":{"type":"boolean","default":true,
                        "description":"tls only: verify the server certificate and its name or address."}
        }}
        """

    static let defaultTemplates = """
        {"msgid":"{{ status }}","message":"[{{ level }}] {{ name }} on {{ object_id }}"}
        """

    private enum Keys: String, CodingKey {
        case destination, format, framing, facility, hostname, msgid, message
        case appName = "app_name", structuredDataID = "sd_id", maxMessageBytes = "max_message_bytes"
        case caFile = "ca_file", tlsVerify = "tls_verify"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let text = try c.decode(String.self, forKey: .destination)
        do throws(ConfigProblem) { destination = try Destination(parsing: text) } catch {
            throw DecodingError.dataCorruptedError(forKey: .destination, in: c, debugDescription: error.message)
        }
        format = try c.decodeIfPresent(Format.self, forKey: .format) ?? .rfc5424
        framing = try c.decodeIfPresent(Framing.self, forKey: .framing) ?? .octetCounting
        if let number = try? c.decodeIfPresent(Int.self, forKey: .facility) {
            facility = number
        } else if let name = try c.decodeIfPresent(String.self, forKey: .facility) {
            guard let number = Self.facilities[name.lowercased()] else {
                throw DecodingError.dataCorruptedError(forKey: .facility, in: c,
                                                       debugDescription: "unknown facility \"\(name)\"")
            }
            facility = number
        } else {
            facility = 1
        }
        appName = try c.decodeIfPresent(String.self, forKey: .appName) ?? "herald"
        hostname = try c.decodeIfPresent(String.self, forKey: .hostname) ?? ProcessInfo.processInfo.hostName
        structuredDataID = try c.decodeIfPresent(String.self, forKey: .structuredDataID) ?? "alert@32473"
        maxMessageBytes = try c.decodeIfPresent(Int.self, forKey: .maxMessageBytes) ?? 2048
        caFile = try c.decodeIfPresent(String.self, forKey: .caFile)
        tlsVerify = try c.decodeIfPresent(Bool.self, forKey: .tlsVerify) ?? true
    }

    func validate() throws(ConfigProblem) {
        guard (0...23).contains(facility) else { throw ConfigProblem(field: "facility", "must be 0-23, found \(facility)") }
        guard SyslogMessage.isHeaderName(appName, maxLength: 48) else {
            throw ConfigProblem(field: "app_name", "1-48 printable ASCII characters without spaces")
        }
        guard SyslogMessage.isHeaderName(hostname, maxLength: 255) else {
            throw ConfigProblem(field: "hostname", "1-255 printable ASCII characters without spaces")
        }
        guard SyslogMessage.isHeaderName(structuredDataID, maxLength: 32),
              !structuredDataID.contains(where: { "=]\"".contains($0) }) else {
            throw ConfigProblem(field: "sd_id", "1-32 printable ASCII characters, none of space = ] \"")
        }
        guard (480...65000).contains(maxMessageBytes) else {
            throw ConfigProblem(field: "max_message_bytes", "must be 480-65000")
        }
        if let caFile {
            guard destination.transport == .tls else { throw ConfigProblem(field: "ca_file", "only for tls:// destinations") }
            guard FileManager.default.isReadableFile(atPath: caFile) else { throw ConfigProblem(field: "ca_file", "cannot read \(caFile)") }
        }
    }

    static let facilities: [String: Int] = {
        var names = ["kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7,
                     "uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11]
        for index in 0...7 { names["local\(index)"] = 16 + index }
        return names
    }()
}

/// Where messages go: `[protocol]://host[:port]`.
struct Destination: Sendable, Equatable {
    enum Transport: String, Sendable { case udp, tcp, tls }

    var transport: Transport
    var host: String
    var port: Int

    /// Accepts `host`, `host:port`, `udp://host:port`, `TCP://[::1]:1514`, `tls://host`...
    init(parsing text: String) throws(ConfigProblem) {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        transport = .udp
        if let separator = rest.range(of: "://") {
            let name = rest[..<separator.lowerBound].lowercased()
            guard let parsed = Transport(rawValue: name) else {
                throw ConfigProblem(field: "destination", "protocol must be udp, tcp or tls, found \"\(name)\"")
            }
            transport = parsed
            rest = rest[separator.upperBound...]
        }
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw ConfigProblem(field: "destination", "unclosed [ in an IPv6 address")
            }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw ConfigProblem(field: "destination", "expected :port after ]") }
                portText = after.dropFirst()
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            portText = rest[rest.index(after: colon)...]
        } else {
            host = String(rest)
        }
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace || "/?#@".contains($0) }) else {
            throw ConfigProblem(field: "destination", "missing or invalid host in \"\(text)\"")
        }
        port = transport == .tls ? 6514 : 514
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else {
                throw ConfigProblem(field: "destination", "port must be 1-65535, found \"\(portText)\"")
            }
            port = number
        }
    }
}
