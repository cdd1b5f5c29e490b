import Foundation
import HeraldCore
import Synchronization

/// The plugins Herald ships, by file name and channel: the ones trusted to
/// run inside the daemon by default. Any other plugin runs in a worker
/// process unless an endpoint says `isolation: none`.
public enum ShippedPlugins {
    static let channelByFile = [
        "libHeraldHTTP.so": "http", "libHeraldEmail.so": "email", "libHeraldSyslog.so": "syslog",
        "libHeraldKafka.so": "kafka", "libHeraldPCAP.so": "pcap", "libHeraldPagerDuty.so": "pagerduty",
        "libHeraldTencent.so": "tencent", "libHeraldAliyun.so": "aliyun", "libfile_channel.so": "file",
    ]

    static func channel(ofFile file: String) -> String? { channelByFile[(file as NSString).lastPathComponent] }
}

/// How to start a plugin worker process: `herald plugin-worker MODE FILE`.
///
/// The worker loads the plugin in a process of its own and speaks for it:
/// `describe` prints its descriptor as one JSON line, `validate` checks
/// configs read as JSON lines, and `serve` runs one instance over frames
/// on stdin and stdout (`WorkerFrame`).
public struct WorkerCommand: Sendable {
    public let executable: String
    public let arguments: [String]

    /// - Parameters:
    ///   - executable: the herald binary.
    ///   - arguments: what goes before MODE FILE (`["plugin-worker"]`).
    public init(executable: String, arguments: [String] = ["plugin-worker"]) {
        self.executable = executable
        self.arguments = arguments
    }

    /// This process's own executable, as the daemon starts its workers.
    public static var herald: WorkerCommand {
        WorkerCommand(executable: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                      ?? CommandLine.arguments[0])
    }

    /// How long a describe or validate worker may take.
    static let timeout: Double = 20

    /// Runs `MODE FILE` with `input` on stdin; returns its stdout, or why it failed.
    func run(_ mode: String, file: String, input: String = "") -> Result<String, WorkerFailure> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments + [mode, file]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        do { try process.run() } catch { return .failure(WorkerFailure(reason: "cannot start \(executable): \(error)")) }
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try? stdin.fileHandleForWriting.close()
        let output = Mutex<Data>(Data())
        let read = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let data = stdout.fileHandleForReading.readDataToEndOfFile()
            output.withLock { $0 = data }
            read.signal()
        }
        guard read.wait(timeout: .now() + Self.timeout) == .success else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return .failure(WorkerFailure(reason: "did not answer within \(Int(Self.timeout)) s (hangs while loading?)"))
        }
        process.waitUntilExit()
        if process.terminationReason == .uncaughtSignal {
            return .failure(WorkerFailure(reason: "crashed (signal \(process.terminationStatus)) while loading or checking"))
        }
        guard process.terminationStatus == 0 else {
            return .failure(WorkerFailure(reason: "the worker exited with status \(process.terminationStatus)"))
        }
        return .success(String(decoding: output.withLock { $0 }, as: UTF8.self))
    }

    /// The plugin's description, read by a worker process.
    func describe(file: String) throws(PluginLoadError) -> LoadedPlugin.Description {
        switch run("describe", file: file) {
        case .failure(let failure): throw PluginLoadError(file: file, reason: failure.reason)
        case .success(let output):
            let line = Data((output.split(separator: "\n").last.map(String.init) ?? "").utf8)
            if let refusal = try? JSONDecoder().decode(Refusal.self, from: line) {
                throw PluginLoadError(file: file, reason: refusal.refused)
            }
            guard let description = try? JSONDecoder().decode(LoadedPlugin.Description.self, from: line) else {
                throw PluginLoadError(file: file, reason: "the worker's description is not readable")
            }
            return description
        }
    }

    /// Checks a config in a worker process: the plugin's refusal, or nil.
    func validate(file: String, config: JSONValue, endpoint: String) throws(PluginConfigError) -> String? {
        let request = JSONValue.object(["endpoint": .string(endpoint), "config": config]).jsonText
        switch run("validate", file: file, input: request + "\n") {
        case .failure(let failure): throw PluginConfigError(field: nil, message: "the plugin \(failure.reason)")
        case .success(let output):
            let line = Data((output.split(separator: "\n").last.map(String.init) ?? "").utf8)
            guard let answer = try? JSONDecoder().decode(ValidateAnswer.self, from: line) else {
                throw PluginConfigError(field: nil, message: "the plugin's worker gave no answer")
            }
            return answer.refusal
        }
    }

    struct Refusal: Codable { let refused: String }
    struct ValidateRequest: Codable { let endpoint: String; let config: JSONValue }
    struct ValidateAnswer: Codable { let refusal: String? }
}

/// Why a worker process did not do its job.
public struct WorkerFailure: Error, Sendable {
    public let reason: String
}
