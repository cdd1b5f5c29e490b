import Foundation
import HeraldCore
import HeraldPluginHost
import HeraldConformance
import HeraldTesting
import Logging
import Testing

@Suite(.timeLimit(.minutes(2)))
struct HTTPChannelTests {
    let library = Repository.plugins.appendingPathComponent("libHeraldHTTP.so")

    @Test func httpPluginConformsAgainstARealReceiver() async throws {
        let directory = try Repository.temporaryDirectory("herald-http-plugin")
        let receiver = try await HTTPReceiver(directory: directory)
        defer { receiver.stop() }
        let plugin = try PluginLoader(logger: Logger(label: "test")).load(file: library.path)
        #expect(plugin.channel == "http")
        let problems = await PluginConformance.check(
            plugin, validConfig: .object(["url": .string("\(receiver.baseURL)/conformance/{{ object_id }}")]),
            invalidConfig: .object(["url": .string("ftp://127.0.0.1/")]))
        #expect(problems.isEmpty, "\(problems)")
        // The exactly-once rule's 20 submissions arrived once each (the kit sends others too).
        let paths = try await receiver.requests().map(\.path)
        #expect(Conformance.objects.allSatisfy { object in paths.filter { $0 == "/conformance/\(object)" }.count == 1 }, "\(paths)")
    }

    @Test(arguments: [
        (#"{"url":"gopher://x"}"#, "url"),
        (#"{"url":"http://x","method":"DELETE"}"#, "method"),
        (#"{"url":"http://x","ca_file":"/nonexistent.pem"}"#, "ca_file"),
        (#"{"url":"http://x","tls_verify":"yes"}"#, "tls_verify"),
        (#"{"url":"http://x","colour":"red"}"#, "colour"),
        // A CR/LF would start a header of its own.
        (#"{"url":"http://x","headers":{"X-Token":"a\r\nX-Injected: 1"}}"#, "headers.X-Token"),
        (#"{"url":"http://x","headers":{"X-Bad\r\nName":"v"}}"#, "headers.X-Bad\r\nName"),
        (#"{"url":"http://x","headers":{"X(Paren)":"v"}}"#, "headers.X(Paren)"),
        (#"{"url":"http://x","headers":{"Bad Header:":"v"}}"#, "headers.Bad Header:"),
        (#"{"url":"http://x/{{ id }}\n"}"#, "url"),
        (#"{"url":"http://x","content_type":"text/plain\nX-Injected: 1"}"#, "content_type"),
    ])
    func badConfigIsRefusedNamingTheField(json: String, field: String) throws {
        let plugin = try PluginLoader(logger: Logger(label: "test")).load(file: library.path)
        let error = #expect(throws: PluginConfigError.self) { try plugin.validate(config: try JSONValue.parse(json)) }
        #expect(error?.field == field, "\(String(describing: error))")
    }

    /// The options table in Plugins/HTTP/README.md lists exactly the schema's options.
    @Test func readmeListsEveryOption() throws {
        let plugin = try PluginLoader(logger: Logger(label: "test")).load(file: library.path)
        #expect(try PluginDocs.documentedOptions(readme: "Plugins/HTTP/README.md") == Set(plugin.schema.fields.map(\.name)))
    }
}
