public import Foundation

/// One mail as the SMTP test server received and parsed it.
public struct ReceivedMail: Decodable, Sendable {
    public struct Part: Decodable, Sendable {
        public let contentType: String
        public let charset: String?
        public let transferEncoding: String?
        /// Decoded by Python's email package.
        public let text: String

        enum CodingKeys: String, CodingKey {
            case contentType = "content_type", charset, transferEncoding = "transfer_encoding", text
        }
    }

    public let mailFrom: String
    public let rcptTos: [String]
    public let tls: Bool
    public let authenticatedAs: String?
    /// The message as it arrived in DATA.
    public let raw: String
    /// Header values, RFC 2047 words decoded.
    public let headers: [String: String]
    public let contentType: String
    public let parts: [Part]
    /// What Python's parser found wrong with the message.
    public let defects: [String]

    enum CodingKeys: String, CodingKey {
        case mailFrom = "mail_from", rcptTos = "rcpt_tos", tls, authenticatedAs = "authenticated_as", raw, headers
        case contentType = "content_type", parts, defects
    }
}

/// aiosmtpd (Tests/peers/smtp_receiver.py) on 127.0.0.1: STARTTLS or
/// implicit TLS, optional AUTH.
public final class SMTPServer: Sendable {
    public let port: Int
    public let implicitTLS: Bool
    private let output: URL
    private let child: ChildProcess

    /// - Parameter port: 0 for a free one; a given one to start again where a stopped server was.
    public init(directory: URL, certificates: TestCertificates, implicitTLS: Bool = false,
                user: String? = nil, password: String? = nil, port: Int = 0) async throws {
        let port = port == 0 ? try Daemon.freePort() : port
        self.port = port
        self.implicitTLS = implicitTLS
        output = directory.appendingPathComponent("mail-\(port).jsonl")
        var arguments = [Repository.root.appendingPathComponent("Tests/peers/smtp_receiver.py").path,
                         "--port", "\(port)", "--out", output.path,
                         "--cert", certificates.certFile.path, "--key", certificates.keyFile.path]
        if implicitTLS { arguments.append("--implicit-tls") }
        if let user, let password { arguments += ["--user", user, "--password", password] }
        // Debian's python3, where python3-aiosmtpd is installed.
        child = try ChildProcess("/usr/bin/python3", arguments, log: directory.appendingPathComponent("smtp-\(port).log"))
        let child = child
        try await waitUntil(timeout: 15, "the SMTP server to start") {
            guard child.isRunning else { throw TestFailure("smtp_receiver.py exited: \(child.log)") }
            return child.log.contains("listening on")
        }
    }

    public var url: String { "\(implicitTLS ? "smtps" : "smtp")://127.0.0.1:\(port)" }

    public func mails() throws -> [ReceivedMail] {
        guard let data = FileManager.default.contents(atPath: output.path) else { return [] }
        return try data.split(separator: UInt8(ascii: "\n")).map { try JSONDecoder().decode(ReceivedMail.self, from: $0) }
    }

    public func stop() { child.kill9() }
}
