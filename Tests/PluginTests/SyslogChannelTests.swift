import Foundation
import HeraldCore
import HeraldPluginHost
import HeraldConformance
import HeraldTesting
import Logging
import Testing

/// The syslog plugin against Debian's rsyslogd: what rsyslog received
/// (raw bytes) and what it parsed out of them.
@Suite(.timeLimit(.minutes(2)))
struct SyslogChannelTests {
    static let library = Repository.plugins.appendingPathComponent("libHeraldSyslog.so")

    static func load() throws -> LoadedPlugin { try PluginLoader(logger: Logger(label: "test")).load(file: library.path) }

    static func event(id: String = "e-1", name: String = "DiskFull", level: Level = .critical,
                      status: EventStatus = .firing, summary: String = "disk 97% \"full\"") -> Event {
        Event(id: id, team: "ops", name: name, level: level, status: status, objectID: "host-7",
              annotations: ["summary": summary], startsAt: Date(timeIntervalSince1970: 1_795_000_000))
    }

    static func records(_ server: SyslogServer, count: Int) async throws -> [SyslogRecord] {
        try await waitUntil(timeout: 10, "\(count) syslog messages") { try server.records().count >= count }
        return try server.records()
    }

    @Test(arguments: ["udp", "tcp"])
    func syslogPluginConforms(transport: String) async throws {
        let server = try await SyslogServer(directory: try Repository.temporaryDirectory("herald-syslog"))
        defer { server.kill() }
        let destination = transport == "udp" ? server.urlUDP : server.urlTCP
        let problems = await PluginConformance.check(
            try Self.load(), validConfig: .object(["destination": .string(destination)]),
            invalidConfig: .object(["destination": .string("\(transport)://127.0.0.1:70000")]))
        #expect(problems.isEmpty, "\(problems)")
        let all = try await Self.records(server, count: 20)
        #expect(Set(all.map(\.input)) == ["im\(transport)"])
        // The exactly-once rule's 20 submissions arrived once each (the kit sends others too).
        let messages = Set(Conformance.objects.map { "[Critical] Conformance on \($0)" })
        let records = all.filter { messages.contains($0.msg) }
        #expect(records.count == 20 && Set(records.map(\.msg)) == messages)
    }

    /// RFC 5424 byte for byte: PRI from facility and level, RFC 3339 time,
    /// header fields, the alert as escaped structured data, a UTF-8 message
    /// after a BOM; over TCP with octet counting (rsyslog strips the frame).
    @Test(arguments: ["udp", "tcp"])
    func rfc5424FieldsArriveAsDocumented(transport: String) async throws {
        let server = try await SyslogServer(directory: try Repository.temporaryDirectory("herald-syslog"))
        defer { server.kill() }
        let config = JSONValue.object([
            "destination": .string(transport == "udp" ? server.urlUDP : server.urlTCP.uppercased()),
            "facility": .string("local3"), "hostname": .string("herald-test"), "app_name": .string("herald"),
            "message": .string("{{ name }}: {{ annotations.summary }} — ünïcode"),
        ])
        let instance = try Self.load().open(config: config)
        defer { instance.close() }
        let before = Date()
        let firing = await PluginConformance.push(Self.event(), to: instance, config: config, policy: "disk]policy")
        let resolved = await PluginConformance.push(Self.event(id: "e-2", status: .resolved), to: instance,
                                                    config: config, policy: "disk]policy")
        #expect(firing.name == "ok" && resolved.name == "ok", "\(firing) \(resolved)")
        let records = try await Self.records(server, count: 2)
        try #require(records.count == 2)
        for (record, (id, level, status, severity)) in zip(records, [("e-1", "Critical", "firing", 2),
                                                                    ("e-2", "Recovery", "resolved", 5)]) {
            #expect(record.facility == 19 && record.severity == severity && record.pri == 19 * 8 + severity)
            let time = try #require(Timestamp.parse(record.timestamp), "timestamp \(record.timestamp)")
            // The send time, not a stored or made-up one; generous, as a loaded CI machine can be slow.
            #expect(time.timeIntervalSince(before) > -1 && time.timeIntervalSince(before) < 60)
            #expect(record.hostname == "herald-test" && record.appName == "herald" && record.msgid == status)
            #expect(record.procid == "\(getpid())")
            let structuredData = #"[alert@32473 id="\#(id)" name="DiskFull" level="\#(level)" status="\#(status)" "#
                + #"object="host-7" policy="disk\]policy" team="ops" dedup_key="disk\]policy/DiskFull/host-7" "#
                + #"starts_at="2026-11-18T11:06:40.000Z"]"#
            #expect(record.structuredData == structuredData)
            #expect(record.msg == "\u{FEFF}DiskFull: disk 97% \"full\" — ünïcode")
            let raw = "<\(record.pri)>1 \(record.timestamp) herald-test herald \(getpid()) \(status) \(structuredData) "
                + "\u{FEFF}DiskFull: disk 97% \"full\" — ünïcode"
            #expect(record.raw == raw)
        }
    }

    /// RFC 3164 over TCP with newline framing; a long UDP message is cut to
    /// `max_message_bytes` on a character boundary and still arrives whole.
    @Test func bsdFormatAndTruncation() async throws {
        let server = try await SyslogServer(directory: try Repository.temporaryDirectory("herald-syslog"))
        defer { server.kill() }
        let bsd = JSONValue.object(["destination": .string(server.urlTCP), "format": .string("rfc3164"),
                                    "framing": .string("newline"), "hostname": .string("h1"), "facility": .number(4)])
        let bsdInstance = try Self.load().open(config: bsd)
        #expect(await PluginConformance.push(Self.event(level: .warning), to: bsdInstance, config: bsd).name == "ok")
        bsdInstance.close()
        let long = JSONValue.object(["destination": .string(server.urlUDP), "max_message_bytes": .number(480),
                                     "message": .string("{{ annotations.summary }}")])
        let longInstance = try Self.load().open(config: long)
        #expect(await PluginConformance.push(Self.event(summary: String(repeating: "é", count: 400)), to: longInstance,
                                             config: long).name == "ok")
        longInstance.close()
        let records = try await Self.records(server, count: 2).sorted { $0.input > $1.input }
        try #require(records.count == 2)
        let bsdRecord = records[1]
        #expect(bsdRecord.input == "imtcp" && bsdRecord.pri == 4 * 8 + 4 && bsdRecord.hostname == "h1")
        #expect(bsdRecord.raw.hasPrefix("<36>") && bsdRecord.raw.hasSuffix(" h1 herald[\(getpid())]: [Warning] DiskFull on host-7"))
        #expect(bsdRecord.msg == " [Warning] DiskFull on host-7" || bsdRecord.msg == "[Warning] DiskFull on host-7")
        let cut = records[0]
        #expect(cut.input == "imudp")
        #expect(cut.raw.utf8.count <= 480 && cut.raw.utf8.count > 470, "\(cut.raw.utf8.count) bytes")
        #expect(cut.msg.hasPrefix("\u{FEFF}éééé") && cut.msg.dropFirst().allSatisfy { $0 == "é" })
    }

    /// CR, LF and NUL in the sender's id and name never split a message
    /// into lines of the sender's choosing: over TCP with newline framing,
    /// rsyslog sees one message, with the breaks as spaces.
    @Test func hostileEventFieldsStayInOneMessage() async throws {
        let server = try await SyslogServer(directory: try Repository.temporaryDirectory("herald-syslog"))
        defer { server.kill() }
        let config = JSONValue.object(["destination": .string(server.urlTCP), "framing": .string("newline"),
                                       "message": .string("{{ name }}")])
        let instance = try Self.load().open(config: config)
        defer { instance.close() }
        let event = Self.event(id: "i\r\n<13>1 - forged - - - - x", name: "n\nmore\u{0}")
        #expect(await PluginConformance.push(event, to: instance, config: config).name == "ok")
        // A second message, so a forged one would have arrived before it.
        #expect(await PluginConformance.push(Self.event(id: "e-last"), to: instance, config: config).name == "ok")
        let records = try await Self.records(server, count: 2)
        #expect(records.count == 2, "\(records.map(\.raw))")
        #expect(records.first?.structuredData.contains(#"id="i  <13>1 - forged - - - - x" name="n more ""#) == true,
                "\(records.first?.structuredData ?? "")")
        #expect(records.first?.msg.contains("forged") == false)
        #expect(records.last?.structuredData.contains(#"id="e-last""#) == true)
    }

    /// RFC 5425: TLS to rsyslog's TLS input, the server's certificate
    /// checked against the test CA and its IP address; an untrusted server
    /// is retried, never sent to.
    @Test func tlsDeliversAndChecksTheCertificate() async throws {
        let directory = try Repository.temporaryDirectory("herald-syslog-tls")
        let certificates = try await TestCertificates(directory: directory)
        let server = try await SyslogServer(directory: directory, certificates: certificates)
        defer { server.kill() }
        let config = JSONValue.object(["destination": .string(server.urlTLS), "ca_file": .string(certificates.caFile.path),
                                       "message": .string("{{ name }} über TLS")])
        let problems = await PluginConformance.check(try Self.load(), validConfig: config,
                                                     invalidConfig: .object(["destination": .string(server.urlTCP),
                                                                             "ca_file": .string(certificates.caFile.path)]))
        #expect(problems.isEmpty, "\(problems)")
        let records = try await Self.records(server, count: 20)
        #expect(records.filter { $0.msg == "\u{FEFF}Conformance über TLS" }.count >= 20)
        // The kit closed its instance, so nothing more of it is on the way.
        let delivered = try server.records().count
        let untrusted = JSONValue.object(["destination": .string(server.urlTLS)])
        let instance = try Self.load().open(config: untrusted)
        defer { instance.close() }
        let outcome = await PluginConformance.push(Self.event(), to: instance, config: untrusted)
        #expect(outcome.name == "retry" && outcome.reason.contains("certificate"), "\(outcome)")
        try await Task.sleep(for: .milliseconds(200))
        #expect(try server.records().count == delivered, "the untrusted server was sent nothing")
    }

    @Test(arguments: [
        (#"{"destination":"sctp://127.0.0.1"}"#, "destination"),
        (#"{"destination":"udp://127.0.0.1:0"}"#, "destination"),
        (#"{"destination":"tcp://:514"}"#, "destination"),
        (#"{"destination":"udp://h","facility":"local9"}"#, "facility"),
        (#"{"destination":"udp://h","facility":24}"#, "facility"),
        (#"{"destination":"udp://h","format":"json"}"#, "format"),
        (#"{"destination":"udp://h","framing":"crlf"}"#, "framing"),
        (#"{"destination":"udp://h","app_name":"two words"}"#, "app_name"),
        (#"{"destination":"udp://h","sd_id":"a=b"}"#, "sd_id"),
        (#"{"destination":"udp://h","max_message_bytes":100}"#, "max_message_bytes"),
        (#"{"destination":"udp://h","colour":"red"}"#, "colour"),
        (#"{"destination":"tcp://h","ca_file":"/etc/hostname"}"#, "ca_file"),
        (#"{"destination":"tls://h","ca_file":"/nonexistent.pem"}"#, "ca_file"),
    ])
    func badConfigIsRefusedNamingTheField(json: String, field: String) throws {
        let error = #expect(throws: PluginConfigError.self) { try Self.load().validate(config: try JSONValue.parse(json)) }
        #expect(error?.field == field, "\(String(describing: error))")
    }

    @Test func readmeListsEveryOption() throws {
        let plugin = try Self.load()
        #expect(try PluginDocs.documentedOptions(readme: "Plugins/Syslog/README.md") == Set(plugin.schema.fields.map(\.name)))
    }
}
