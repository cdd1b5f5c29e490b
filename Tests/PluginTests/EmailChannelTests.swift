import Foundation
import HeraldCore
import HeraldPluginHost
import HeraldConformance
import HeraldTesting
import Logging
import Testing

/// The email plugin against aiosmtpd with STARTTLS and AUTH required (and
/// with implicit TLS), the mails read back with Python's email package.
@Suite(.timeLimit(.minutes(2)))
struct EmailChannelTests {
    static let library = Repository.plugins.appendingPathComponent("libHeraldEmail.so")

    static func load() throws -> LoadedPlugin { try PluginLoader(logger: Logger(label: "test")).load(file: library.path) }

    final class Setup: Sendable {
        let directory: URL
        let certificates: TestCertificates
        let server: SMTPServer

        init(implicitTLS: Bool = false) async throws {
            directory = try Repository.temporaryDirectory("herald-email")
            certificates = try await TestCertificates(directory: directory)
            server = try await SMTPServer(directory: directory, certificates: certificates, implicitTLS: implicitTLS,
                                          user: "herald", password: "s3cret pass")
        }

        func config(_ extra: [String: JSONValue] = [:]) -> JSONValue {
            .object([
                "server": .string(server.url), "username": .string("herald"), "password": .string("s3cret pass"),
                "ca_file": .string(certificates.caFile.path),
                "from": .string("Herald Alerts <herald@example.com>"),
                "to": .array([.string("ops@example.com"), .string("Ünïcode Person <oncall@example.org>")]),
            ].merging(extra) { $1 })
        }
    }

    @Test func emailPluginConforms() async throws {
        let setup = try await Setup()
        defer { setup.server.stop() }
        let problems = await PluginConformance.check(
            try Self.load(), validConfig: setup.config(),
            invalidConfig: setup.config(["to": .array([.string("not an address")])]))
        #expect(problems.isEmpty, "\(problems)")
        // The exactly-once rule's 20 submissions arrived once each (the kit sends others too).
        let all = try setup.server.mails()
        #expect(all.allSatisfy { $0.tls && $0.authenticatedAs == "herald" })
        let subjects = Set(Conformance.objects.map { "[Critical] Conformance on \($0)" })
        let mails = all.filter { subjects.contains($0.headers["Subject"] ?? "") }
        #expect(mails.count == 20)
        // Short ASCII lines go as they are; the default body is plain text.
        #expect(mails.allSatisfy { $0.contentType == "text/plain" && $0.parts.first?.transferEncoding == "7bit" })
        #expect(Set(mails.compactMap { $0.headers["Subject"] }) == subjects)
    }

    /// Every header and both bodies, as an independent MIME reader sees them,
    /// over STARTTLS and over implicit TLS.
    @Test(arguments: [false, true])
    func mailArrivesWithCorrectMIME(implicitTLS: Bool) async throws {
        let setup = try await Setup(implicitTLS: implicitTLS)
        defer { setup.server.stop() }
        let longLine = String(repeating: "0123456789", count: 120)
        let config = setup.config([
            "subject": .string("{{ level }} — {{ name }} on {{ object_id }} ✓ {{ annotations.summary }}"),
            "html": .string("<p>{{ name }} <b>{{ level }}</b></p>"),
        ])
        let instance = try Self.load().open(config: config)
        defer { instance.close() }
        let event = Event(id: "mail-1", team: "ops", name: "Diskfüll", level: .error, objectID: "db-1",
                          annotations: ["summary": "Plattenplatz fast erschöpft, " + String(repeating: "sehr ", count: 12),
                                        "description": longLine],
                          startsAt: Date(timeIntervalSince1970: 1_795_000_000))
        let before = Date()
        let outcome = await PluginConformance.push(event, to: instance, config: config, deliveryID: "herald-42")
        #expect(outcome.name == "ok", "\(outcome)")
        let mail = try #require(try setup.server.mails().first)
        #expect(mail.tls && mail.authenticatedAs == "herald")
        #expect(mail.mailFrom == "herald@example.com")
        #expect(mail.rcptTos == ["ops@example.com", "oncall@example.org"])
        #expect(mail.defects.isEmpty, "\(mail.defects)")
        let subject = "Error — Diskfüll on db-1 ✓ Plattenplatz fast erschöpft, " + String(repeating: "sehr ", count: 12)
        #expect(mail.headers["Subject"] == subject.trimmingCharacters(in: .whitespaces) || mail.headers["Subject"] == subject)
        #expect(mail.headers["From"] == "Herald Alerts <herald@example.com>")
        #expect(mail.headers["To"] == "ops@example.com, Ünïcode Person <oncall@example.org>")
        #expect(mail.headers["Message-ID"] == "<herald-42@example.com>")
        #expect(mail.headers["MIME-Version"] == "1.0")
        #expect(mail.headers["Auto-Submitted"] == "auto-generated")
        #expect(mail.headers["X-Herald-Event-ID"] == "mail-1")
        let date = try #require(mail.headers["Date"])
        let parsed = try #require(Self.rfc5322Formatter.date(from: date), "Date: \(date)")
        #expect(abs(parsed.timeIntervalSince(before)) < 5)
        // Every raw line within SMTP's 998 octets; non-ASCII only inside base64.
        let rawLines = mail.raw.components(separatedBy: "\r\n")
        #expect(rawLines.allSatisfy { $0.utf8.count <= 998 })
        #expect(mail.raw.unicodeScalars.allSatisfy { $0.isASCII })
        #expect(rawLines.contains { $0.hasPrefix("Subject: =?UTF-8?B?") })
        #expect(mail.contentType == "multipart/alternative")
        try #require(mail.parts.count == 2)
        #expect(mail.parts[0].contentType == "text/plain" && mail.parts[0].charset == "utf-8")
        #expect(mail.parts[0].transferEncoding == "base64")
        let text = mail.parts[0].text.replacingOccurrences(of: "\r\n", with: "\n")
        #expect(text == """
            Diskfüll on db-1 is firing.

            Level:   Error
            Policy:  p
            Team:    ops
            Started: 2026-11-18T11:06:40.000Z

            Plattenplatz fast erschöpft, \(String(repeating: "sehr ", count: 12))

            \(longLine)

            Event mail-1, delivery herald-42.

            """)
        #expect(mail.parts[1].contentType == "text/html" && mail.parts[1].transferEncoding == "base64")
        #expect(mail.parts[1].text.trimmingCharacters(in: .newlines) == "<p>Diskfüll <b>Error</b></p>")
    }

    /// An event id, name and object with CR/LF (the sender chooses them)
    /// never start a header of their own: the mail reaches only its
    /// configured recipients, with no header but Herald's.
    @Test func hostileEventFieldsCannotInjectHeaders() async throws {
        let setup = try await Setup()
        defer { setup.server.stop() }
        let config = setup.config()
        let instance = try Self.load().open(config: config)
        defer { instance.close() }
        let hostile = "x\r\nBcc: victim@evil.example\r\nX-Injected: 1\n\nbody"
        let event = Event(id: hostile, team: "ops", name: "N\r\nX-Name-Injected: 1", level: .critical,
                          objectID: "o\nX-Object-Injected: 1", startsAt: Date())
        let outcome = await PluginConformance.push(event, to: instance, config: config)
        #expect(outcome.name == "ok", "\(outcome)")
        let mail = try #require(try setup.server.mails().first)
        #expect(mail.rcptTos == ["ops@example.com", "oncall@example.org"])
        #expect(mail.defects.isEmpty, "\(mail.defects)")
        #expect(Set(mail.headers.keys) == ["Date", "From", "To", "Subject", "Message-ID", "MIME-Version", "Auto-Submitted",
                                           "X-Herald-Event-ID", "X-Herald-Level", "Content-Type",
                                           "Content-Transfer-Encoding"], "\(mail.headers.keys.sorted())")
        // Line breaks became spaces; the text itself arrives.
        #expect(mail.headers["X-Herald-Event-ID"] == "x  Bcc: victim@evil.example  X-Injected: 1  body")
        #expect(mail.headers["Subject"]?.contains("X-Name-Injected: 1") == true)
    }

    /// 4xx replies are retried, 5xx replies fail, wrong credentials fail.
    @Test func smtpRepliesDecideTheOutcome() async throws {
        let setup = try await Setup()
        defer { setup.server.stop() }
        func outcome(_ config: JSONValue) async throws -> DeliveryOutcome {
            let instance = try Self.load().open(config: config)
            defer { instance.close() }
            let event = Event(id: "o-1", team: "ops", name: "X", level: .warning, objectID: "o", startsAt: Date())
            return await PluginConformance.push(event, to: instance, config: config)
        }
        let busy = try await outcome(setup.config(["to": .array([.string("temp@example.com")])]))
        #expect(busy.name == "retry" && busy.reason.contains("451"), "\(busy)")
        let unknown = try await outcome(setup.config(["to": .array([.string("reject@example.com")])]))
        #expect(unknown.name == "fail" && unknown.reason.contains("550"), "\(unknown)")
        let denied = try await outcome(setup.config(["password": .string("wrong")]))
        #expect(denied.name == "fail" && denied.reason.contains("535"), "\(denied)")
        let untrusted = try await outcome(.object((setup.config().objectValue ?? [:]).filter { $0.key != "ca_file" }))
        #expect(untrusted.name == "retry", "\(untrusted)")
        let down = try await outcome(setup.config(["server": .string("smtp://127.0.0.1:\(try Daemon.freePort())")]))
        #expect(down.name == "retry", "\(down)")
        #expect(try setup.server.mails().isEmpty)
    }

    @Test(arguments: [
        (#"{"server":"http://x","from":"a@b.c","to":["d@e.f"]}"#, "server"),
        (#"{"server":"smtp://x:99999","from":"a@b.c","to":["d@e.f"]}"#, "server"),
        (#"{"server":"smtp://x/path","from":"a@b.c","to":["d@e.f"]}"#, "server"),
        (#"{"server":"smtp://x","from":"nobody","to":["d@e.f"]}"#, "from"),
        (#"{"server":"smtp://x","from":"a@b.c","to":["d@e.f","two@@x"]}"#, "to[1]"),
        (#"{"server":"smtp://x","from":"a@b.c","to":[]}"#, "to"),
        (#"{"server":"smtp://x","from":"a@b.c","to":["d@e.f"],"starttls":"maybe"}"#, "starttls"),
        (#"{"server":"smtp://x","from":"a@b.c","to":["d@e.f"],"username":"u"}"#, "password"),
        (#"{"server":"smtp://x","from":"a@b.c","to":["d@e.f"],"ca_file":"/nonexistent.pem"}"#, "ca_file"),
        (#"{"server":"smtp://x","from":"a@b.c"}"#, "to"),
    ])
    func badConfigIsRefusedNamingTheField(json: String, field: String) throws {
        let error = #expect(throws: PluginConfigError.self) { try Self.load().validate(config: try JSONValue.parse(json)) }
        #expect(error?.field == field, "\(String(describing: error))")
    }

    @Test func readmeListsEveryOption() throws {
        let plugin = try Self.load()
        #expect(try PluginDocs.documentedOptions(readme: "Plugins/Email/README.md") == Set(plugin.schema.fields.map(\.name)))
        #expect(plugin.schema.secretFields == ["password"])
    }

    static let rfc5322Formatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter
    }()
}
