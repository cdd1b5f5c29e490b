public import Foundation

/// One message as rsyslog parsed and recorded it.
public struct SyslogRecord: Decodable, Sendable {
    public let pri: Int
    public let facility: Int
    public let severity: Int
    public let timestamp: String
    public let hostname: String
    public let appName: String
    public let procid: String
    public let msgid: String
    public let structuredData: String
    public let msg: String
    /// The bytes as they arrived, framing removed.
    public let raw: String
    /// `imudp` or `imtcp`.
    public let input: String

    enum CodingKeys: String, CodingKey {
        case pri, facility, severity, timestamp, hostname, procid, msgid, msg, raw, input
        case appName = "app_name", structuredData = "structured_data"
    }
}

/// Debian's rsyslogd on 127.0.0.1 with a UDP and a TCP input (and, given
/// certificates, a TLS input: rsyslog-openssl), writing each message's
/// parsed fields as a JSON line.
public final class SyslogServer: @unchecked Sendable {
    // `@unchecked Sendable`: `child` is replaced only by `start`/`stop`,
    // which a test calls from one task; the rest is immutable.
    public let udpPort: Int
    public let tcpPort: Int
    public let tlsPort: Int
    private let certificates: TestCertificates?
    private let directory: URL
    private let output: URL
    private var child: ChildProcess?

    public static let executable = "/usr/sbin/rsyslogd"

    public init(directory: URL, certificates: TestCertificates? = nil) async throws {
        self.directory = directory
        self.certificates = certificates
        udpPort = try Daemon.freePort()
        tcpPort = try Daemon.freePort()
        tlsPort = try Daemon.freePort()
        output = directory.appendingPathComponent("messages.jsonl")
        try config.write(to: configFile, atomically: true, encoding: .utf8)
        try await start()
    }

    private var configFile: URL { directory.appendingPathComponent("rsyslog.conf") }

    /// JSON keys and the rsyslog properties they hold; numbers unquoted.
    private static let recordedFields: [(key: String, property: String, isNumber: Bool)] = [
        ("pri", "pri", true), ("facility", "syslogfacility", true), ("severity", "syslogseverity", true),
        ("timestamp", "timereported", false), ("hostname", "hostname", false), ("app_name", "app-name", false),
        ("procid", "procid", false), ("msgid", "msgid", false), ("structured_data", "structured-data", false),
        ("msg", "msg", false), ("raw", "rawmsg", false), ("input", "inputname", false),
    ]

    private var config: String {
        // One JSON object per line: constant(`,"key":"`) property(...) constant(`"`)...
        let template = Self.recordedFields.enumerated().map { index, field in
            let quote = field.isNumber ? "" : #"\""#
            let format = (field.isNumber ? "" : #" format="json""#)
                + (field.property == "timereported" ? #" dateFormat="rfc3339""# : "")
            return #"  constant(value="\#(index == 0 ? "{" : ",")\"\#(field.key)\":\#(quote)") "#
                + #"property(name="\#(field.property)"\#(format))"# + (field.isNumber ? "" : #" constant(value="\"")"#)
        }.joined(separator: "\n")
        let tls = certificates.map { certificates in
            (#"DefaultNetstreamDriverCAFile="\#(certificates.caFile.path)" "#
                + #"DefaultNetstreamDriverCertFile="\#(certificates.certFile.path)" "#
                + #"DefaultNetstreamDriverKeyFile="\#(certificates.keyFile.path)""#,
             #"input(type="imtcp" address="127.0.0.1" port="\#(tlsPort)" ruleset="alerts" "#
                + #"streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="anon")"#)
        }
        return """
            global(workDirectory="\(directory.path)" maxMessageSize="64k" \(tls?.0 ?? ""))
            module(load="imudp")
            module(load="imtcp")
            template(name="fields" type="list") {
            \(template)
              constant(value="}\\n")
            }
            ruleset(name="alerts") { action(type="omfile" file="\(output.path)" template="fields") }
            input(type="imudp" address="127.0.0.1" port="\(udpPort)" ruleset="alerts")
            input(type="imtcp" address="127.0.0.1" port="\(tcpPort)" ruleset="alerts")
            \(tls?.1 ?? "")
            """
    }

    /// Starts rsyslogd and waits for its TCP input to accept connections.
    public func start() async throws {
        let log = directory.appendingPathComponent("rsyslogd-\(Date().timeIntervalSince1970).log")
        child = try ChildProcess(Self.executable, ["-n", "-f", configFile.path,
                                                   "-i", directory.appendingPathComponent("rsyslogd.pid").path],
                                 log: log)
        try await waitUntil(timeout: 30, "rsyslogd to listen on \(tcpPort)") {
            guard child?.isRunning == true else { throw TestFailure("rsyslogd exited: \(child?.log ?? "")") }
            return Loopback.accepts(port: tcpPort)
        }
    }

    /// SIGTERM: rsyslogd writes what it has and closes its connections.
    /// It takes rsyslogd about two seconds, so this waits off the pool.
    public func stop() async {
        guard let child else { return }
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                child.stop()
                continuation.resume()
            }
        }
    }

    /// SIGKILL, at once: for a test's cleanup.
    public func kill() { child?.kill9() }

    public var urlUDP: String { "udp://127.0.0.1:\(udpPort)" }
    public var urlTCP: String { "tcp://127.0.0.1:\(tcpPort)" }
    public var urlTLS: String { "tls://127.0.0.1:\(tlsPort)" }

    /// Every message written so far, in arrival order.
    public func records() throws -> [SyslogRecord] {
        guard let data = FileManager.default.contents(atPath: output.path) else { return [] }
        return try data.split(separator: UInt8(ascii: "\n")).map { try JSONDecoder().decode(SyslogRecord.self, from: $0) }
    }
}
