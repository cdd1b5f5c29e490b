import Foundation
import CHeraldPlugin
import HeraldCore
import HeraldPluginHost
import HeraldConformance
import HeraldTesting
import InMemoryLogging
import Logging
import Synchronization
import Testing

/// The loader and the host side of the ABI rules, driven by C plugins built
/// here with `cc` and nothing but the SDK header.
@Suite(.timeLimit(.minutes(2)))
struct PluginABITests {
    let directory: URL
    let logs = InMemoryLogHandler()
    let logger: Logger

    init() throws {
        directory = try Repository.temporaryDirectory("herald-abi")
        let logs = logs
        logger = Logger(label: "test") { _ in logs }
    }

    private func fixture(_ name: String) -> URL { Repository.root.appendingPathComponent("Tests/fixtures/\(name)") }

    private func loggedMessages() -> [String] {
        logs.entries.map { entry in
            ([entry.message.description] + entry.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
                .joined(separator: " ")
        }
    }

    @Test func cExamplePluginLoadsAndConforms() async throws {
        let library = try Repository.compileCPlugin(
            source: Repository.root.appendingPathComponent("plugin-sdk/examples/file_channel.c"),
            output: directory.appendingPathComponent("libfile_channel.so"))
        let plugin = try PluginLoader(logger: logger).load(file: library.path)
        #expect(plugin.channel == "file")
        #expect(plugin.schema.templateFields == ["line"])
        let output = directory.appendingPathComponent("out.jsonl")
        let problems = await PluginConformance.check(
            plugin, validConfig: .object(["path": .string(output.path), "line": .string("{{ name }} {{ object_id }}")]),
            invalidConfig: .object(["line": .string("no path")]))
        #expect(problems.isEmpty, "\(problems)")
        // What the plugin wrote is what the host handed it: every conformance
        // submission once (the kit also sends hostile and timed ones).
        // (The kit's line of bytes that are not UTF-8 is left out: the plugin copies them through.)
        let lines = try Data(contentsOf: output).split(separator: 0x0A).compactMap { line in
            String(validating: line, as: UTF8.self).flatMap { try? JSONValue.parse($0) }
        }
        let ids = lines.compactMap { $0["delivery_id"]?.stringValue }
        #expect(Conformance.objects.allSatisfy { object in ids.filter { $0 == "delivery-conformance-\(object.dropFirst(7))" }.count == 1 },
                "\(ids)")
        let first = try #require(lines.first { $0["delivery_id"] == .string("delivery-conformance-0") })
        #expect(first["line"]?.stringValue?.hasPrefix("Conformance object-") == true)
        #expect(first["event"]?["level"] == .string("Critical"))
        // The rendered line arrives through the C fields, escaped by the plugin itself.
        let hostile = try #require(lines.first { $0["delivery_id"] == .string("hostile-1") })
        #expect(hostile["line"]?.stringValue == "N\r\nX-Injected: 1 o\u{7F}")
    }

    @Test func pluginBuiltForAnotherMajorIsRefused() throws {
        let library = try Repository.compileCPlugin(
            source: fixture("misbehaving_plugin.c"), output: directory.appendingPathComponent("libabi2.so"),
            defines: ["FIXTURE_ABI_MAJOR=2"])
        let error = #expect(throws: PluginLoadError.self) { try PluginLoader(logger: logger).load(file: library.path) }
        #expect(error?.reason.contains("built for plugin ABI 2.0; this host speaks 1.0") == true)
    }

    /// A copy of the SDK header as a later minor would be: fields appended
    /// to every struct, the minor raised. Returns its include folder.
    private func header1_1() throws -> URL {
        let include = directory.appendingPathComponent("include-1.1")
        try FileManager.default.createDirectory(at: include, withIntermediateDirectories: true)
        var header = try String(contentsOf: Repository.root.appendingPathComponent("plugin-sdk/include/herald_plugin.h"),
                                encoding: .utf8)
        for (closing, field) in [("} herald_host_api;", "uint64_t (*added_in_1_1)(void);"),
                                 ("} herald_config;", "uint64_t added_in_1_1;"),
                                 ("} herald_message;", "uint64_t added_in_1_1;"),
                                 ("} herald_plugin_descriptor;", "uint64_t added_in_1_1;")] {
            header = header.replacingOccurrences(of: closing, with: "    /* -- ABI 1.1 -- */\n    \(field)\n\(closing)")
        }
        header = header.replacingOccurrences(of: "#define HERALD_ABI_MINOR 0", with: "#define HERALD_ABI_MINOR 1")
        try header.write(to: include.appendingPathComponent("herald_plugin.h"), atomically: true, encoding: .utf8)
        return include
    }

    /// A plugin built against 1.0 in a host of 1.1 (a small C host built
    /// with the appended fields), and a plugin of 1.1 in this 1.0 host.
    @Test func minorVersionsLoadBothWays() throws {
        let include = try header1_1()
        let example = try Repository.compileCPlugin(
            source: Repository.root.appendingPathComponent("plugin-sdk/examples/file_channel.c"),
            output: directory.appendingPathComponent("libfile_channel.so"))
        let host = directory.appendingPathComponent("host_1_1")
        try ChildProcess.run("/usr/bin/env", ["cc", "-Wall", "-Werror", "-I", include.path, "-o", host.path,
                                              fixture("host_1_1.c").path, "-ldl"])
        let written = directory.appendingPathComponent("compat.jsonl")
        let output = try ChildProcess.run(host.path, [example.path, written.path])
        #expect(output.contains("delivered"), "\(output)")
        #expect(try String(contentsOf: written, encoding: .utf8).contains(#""line":"from a 1.1 host""#))

        let newer = directory.appendingPathComponent("libnewer.so")
        try ChildProcess.run("/usr/bin/env", ["cc", "-shared", "-fPIC", "-Wall", "-Werror", "-I", include.path,
                                              "-DFIXTURE_CHANNEL=\"newer\"", "-o", newer.path, fixture("misbehaving_plugin.c").path])
        let plugin = try PluginLoader(logger: logger).load(file: newer.path)
        #expect(plugin.abiVersion == 1 << 16 | 1)
        let instance = try plugin.open(config: .object(["mode": .string("ok")]))
        #expect(instance.close(timeout: 10))
    }

    @Test(arguments: [
        ("FIXTURE_STRUCT_SIZE=64", "descriptor struct_size 64 is smaller than ABI 1.0's 120"),
        ("FIXTURE_NULL_SUBMIT", "the descriptor leaves submit NULL"),
        ("FIXTURE_ABI_MAJOR=0", "built for plugin ABI 0.0"),
        ("FIXTURE_BAD_TEMPLATE", "default_templates_json: body: template error"),
    ])
    func malformedDescriptorsAreRefusedWithAReason(define: String, reason: String) throws {
        let library = try Repository.compileCPlugin(source: fixture("misbehaving_plugin.c"),
                                                    output: directory.appendingPathComponent("libbad.so"), defines: [define])
        let error = #expect(throws: PluginLoadError.self) { try PluginLoader(logger: logger).load(file: library.path) }
        #expect(error?.reason.contains(reason) == true, "\(error?.reason ?? "")")
    }

    /// ABI 1.0's sizes are frozen: a change here is a new major.
    @Test func abi1_0StructSizesAreFrozen() {
        #expect(MemoryLayout<herald_plugin_descriptor>.size == 120)
        #expect(MemoryLayout<herald_host_api>.size == 32)
        #expect(MemoryLayout<herald_message>.size == 144)
        #expect(MemoryLayout<herald_config>.size == 88)
        #expect(MemoryLayout<herald_field>.size == 32)
    }

    @Test func fileThatIsNotALibraryIsRefusedAndLoadingGoesOn() throws {
        try Data("not an ELF file".utf8).write(to: directory.appendingPathComponent("libjunk.so"))
        try Repository.compileCPlugin(source: fixture("no_entry.c"), output: directory.appendingPathComponent("libnoentry.so"))
        try Repository.compileCPlugin(source: fixture("misbehaving_plugin.c"),
                                      output: directory.appendingPathComponent("libgood.so"))
        let catalog = PluginLoader(logger: logger).load(directories: [directory.path])
        #expect(catalog.plugins.keys.sorted() == ["misbehaving"])
        let reasons = catalog.failures.map { "\(($0.file as NSString).lastPathComponent): \($0.reason)" }
        #expect(reasons.contains { $0.hasPrefix("libjunk.so: not a loadable shared library") })
        #expect(reasons.contains { $0.hasPrefix("libnoentry.so: no herald_plugin_entry symbol") })
        // Each refusal is logged with the file and the reason.
        #expect(loggedMessages().contains { $0.hasPrefix("Refused plugin") && $0.contains("libjunk.so") })
    }

    @Test func duplicateChannelIsRefused() throws {
        for name in ["liba.so", "libb.so"] {
            try Repository.compileCPlugin(source: fixture("misbehaving_plugin.c"), output: directory.appendingPathComponent(name))
        }
        let catalog = PluginLoader(logger: logger).load(directories: [directory.path])
        #expect(catalog.plugins.count == 1)
        #expect(catalog.failures.first?.reason.contains("already provided by") == true)
    }

    private func instance(mode: String) throws -> PluginInstance {
        let library = try Repository.compileCPlugin(
            source: fixture("misbehaving_plugin.c"), output: directory.appendingPathComponent("lib\(mode).so"),
            defines: ["FIXTURE_CHANNEL=\"\(mode)\""])
        let plugin = try PluginLoader(logger: logger).load(file: library.path)
        return try plugin.open(config: .object(["mode": .string(mode)]))
    }

    private func submit(_ instance: PluginInstance, timeout: Double = 5) async -> DeliveryOutcome {
        await instance.submit(Submission(deliveryID: "d-1", attempt: 1, timeout: timeout, eventJSON: Array("{}".utf8),
                                         eventFields: FieldList(), renderedJSON: Array("{}".utf8), renderedFields: FieldList()))
    }

    @Test func secondCompletionIsIgnoredAndLogged() async throws {
        let outcome = await submit(try instance(mode: "double"))
        #expect(outcome == .ok(reason: "first"))
        #expect(loggedMessages().contains { $0.contains("broke the exactly-once rule") && $0.contains("plugin=double") })
    }

    @Test func missingCompletionTimesOutAsRetry() async throws {
        // The daemon's tick, on a thread of its own: the cooperative pool is
        // busy with the other suites' blocking peers and compilers.
        let sweeping = Atomic<Bool>(true)
        Thread.detachNewThread {
            while sweeping.load(ordering: .relaxed) {
                expireOverdueSubmissions()
                usleep(20_000)
            }
        }
        defer { sweeping.store(false, ordering: .relaxed) }
        let never = try instance(mode: "never")
        let started = Date()
        let outcome = await submit(never, timeout: 0.3)
        guard case .retry(let reason, _, _) = outcome else {
            Issue.record("expected RETRY, got \(outcome)")
            return
        }
        #expect(reason.contains("timed out"))
        // Not the 0.3 s itself: in a parallel run the waiting task may wait
        // seconds for a thread; the point is that it does not wait forever.
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test func refusedSubmissionIsRetry() async throws {
        let outcome = await submit(try instance(mode: "refuse"))
        #expect(outcome == .retry(reason: "the plugin refused the submission", retryAfter: nil))
    }
}
