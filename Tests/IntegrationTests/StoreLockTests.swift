import Foundation
import HeraldTesting
import Testing

/// One daemon per store: a second `herald serve` on the same SQLite file
/// refuses to start, naming the file and the daemon that serves it.
@Suite(.timeLimit(.minutes(1)))
struct StoreLockTests {
    @Test func secondDaemonOnTheSameStoreIsRefused() async throws {
        let directory = try Repository.temporaryDirectory("herald-lock")
        let daemon = try await Daemon(config: "teams: [{name: ops, tokens: [t]}]", directory: directory)
        defer { daemon.stop() }
        // The same file, served on another port.
        let second = directory.appendingPathComponent("second.yaml")
        let text = try String(contentsOf: daemon.configFile, encoding: .utf8)
            .replacingOccurrences(of: "port: \(daemon.port)", with: "port: \(try Daemon.freePort())")
        try text.write(to: second, atomically: true, encoding: .utf8)
        let (status, output) = try ChildProcess.runToEnd("/usr/bin/timeout",
                                                         ["20", Repository.herald.path, "serve", "--config", second.path])
        #expect(status != 0 && status != 124, "exit \(status): \(output)")
        #expect(output.contains(directory.appendingPathComponent("herald.sqlite").path), "\(output)")
        #expect(output.contains("already served by another herald (pid "), "\(output)")
        #expect(try await daemon.send("GET", "/healthz").status == 200, "the first one goes on")
        // Once the first stops, the file is free.
        daemon.stop()
        try await daemon.start()
        #expect(try await daemon.send("GET", "/healthz").status == 200)
    }
}
