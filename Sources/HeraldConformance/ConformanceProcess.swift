import Foundation
import HeraldCore
import HeraldPluginHost
import Logging
import Synchronization

/// The conformance kit in a child process (`herald plugin-worker check`),
/// so a plugin that crashes or hangs yields a report naming the rule it was
/// at, instead of a dead checker.
///
/// The child prints `rule NAME` as each rule starts, `result JSON` as it
/// ends, and `done` at the end; the parent (`run`) turns what it read, and
/// how the child ended, into the report.
public enum ConformanceProcess {
    /// The longest a whole check may take before the child is killed.
    public static let timeout: Double = 180

    /// Runs the kit on `file` in a child `herald` process.
    /// - Parameters:
    ///   - herald: the herald executable.
    ///   - config, invalidConfig: JSON files of channel configs.
    public static func run(herald: String, file: String, config: String?, invalidConfig: String?) -> PluginConformance.Report {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: herald)
        var arguments = ["plugin-worker", "check", file]
        if let config { arguments += ["--config", config] }
        if let invalidConfig { arguments += ["--invalid-config", invalidConfig] }
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        var report = PluginConformance.Report()
        do { try process.run() } catch {
            report.results.append(.init(rule: "checker", passed: false, detail: "cannot start \(herald): \(error)"))
            return report
        }
        let lines = Mutex<[String]>([])
        let ended = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            var buffer = Data()
            let handle = output.fileHandleForReading
            while case let chunk = handle.availableData, !chunk.isEmpty {
                buffer.append(chunk)
                while let newline = buffer.firstIndex(of: 0x0A) {
                    let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex...newline)
                    lines.withLock { $0.append(line) }
                }
            }
            ended.signal()
        }
        let finished = ended.wait(timeout: .now() + timeout) == .success
        if !finished { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        var current: String?
        var done = false
        for line in lines.withLock({ $0 }) {
            if line.hasPrefix("rule ") {
                current = String(line.dropFirst(5))
            } else if line.hasPrefix("result "), let result = try? JSONDecoder().decode(Line.self, from: Data(line.dropFirst(7).utf8)) {
                report.results.append(.init(rule: result.rule, passed: result.passed, detail: result.detail))
                current = nil
            } else if line == "done" {
                done = true
            }
        }
        if !done {
            let how = !finished ? "hung: killed after \(Int(timeout)) s"
                : process.terminationReason == .uncaughtSignal ? "crashed (signal \(process.terminationStatus))"
                : "the checker exited with status \(process.terminationStatus)"
            report.results.append(.init(rule: current ?? "load", passed: false, detail: "the plugin \(how) during this rule"))
            let checked = Set(report.results.map(\.rule))
            for rule in ["load"] + PluginConformance.rules where !checked.contains(rule) {
                report.results.append(.init(rule: rule, passed: nil, detail: "not run: the plugin \(how)"))
            }
        }
        return report
    }

    /// The child's side: loads the plugin, runs the kit, prints as it goes.
    /// Returns the exit status (0: every rule passed or was skipped).
    public static func child(file: String, config: String?, invalidConfig: String?) async -> Int32 {
        @Sendable func say(_ line: String) {
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
        func json(_ path: String?) throws -> JSONValue? {
            guard let path else { return nil }
            return try JSONValue.parse(try String(contentsOfFile: path, encoding: .utf8))
        }
        let options: PluginConformance.Options
        do {
            options = PluginConformance.Options(validConfig: try json(config), invalidConfig: try json(invalidConfig))
        } catch {
            say("result " + Line(rule: "load", passed: false, detail: "cannot read a config file: \(error)").text)
            say("done")
            return 1
        }
        say("rule load")
        let plugin: LoadedPlugin
        do {
            plugin = try PluginLoader(logger: Logger(label: "herald.check") { _ in SwiftLogNoOpLogHandler() }).load(file: file)
        } catch {
            say("result " + Line(rule: "load", passed: false, detail: error.reason).text)
            say("done")
            return 1
        }
        say("result " + Line(rule: "load", passed: true, detail: "\(plugin.channel) \(plugin.version), ABI "
                              + "\(plugin.abiVersion >> 16).\(plugin.abiVersion & 0xFFFF)").text)
        let report = await PluginConformance.run(plugin, options: options, progress: { say("rule \($0)") }) { result in
            say("result " + Line(rule: result.rule, passed: result.passed, detail: result.detail).text)
        }
        say("done")
        return report.failures.isEmpty ? 0 : 1
    }

    struct Line: Codable {
        let rule: String
        let passed: Bool?
        let detail: String

        var text: String { (try? JSONEncoder().encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}" }
    }
}
