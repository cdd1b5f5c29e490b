public import Foundation

/// `herald serve` as a process, on a free port, with a config the test writes.
public final class Daemon: @unchecked Sendable {
    // `@unchecked Sendable`: `child` and `port` change only in `start`,
    // which a test calls from one task; the rest is immutable.
    public let directory: URL
    public private(set) var port: Int
    public let configFile: URL
    private var child: ChildProcess?
    /// The server, storage and plugins sections for a port.
    private let header: (Int) -> String
    private var body: String

    /// - Parameter config: YAML after the `server`, `storage` and `plugins`
    ///   sections, which the daemon fills in (teams, endpoints, policies...).
    public init(config: String, directory: URL, durability: String = "process", backlogInMemory: Int = 10_000,
                extraPluginDirectories: [URL] = []) async throws {
        self.directory = directory
        port = try Self.freePort()
        configFile = directory.appendingPathComponent("herald.yaml")
        let pluginDirectories = ([Repository.plugins] + extraPluginDirectories).map { "\"\($0.path)\"" }
        header = { port in """
            server:
              host: 127.0.0.1
              port: \(port)
            storage:
              path: \(directory.appendingPathComponent("herald.sqlite").path)
              durability: \(durability)
              backlog_in_memory: \(backlogInMemory)
            plugins:
              directories: [\(pluginDirectories.joined(separator: ", "))]

            """ }
        body = config
        try await start()
    }

    /// Writes a new config file (the same server, storage and plugins
    /// sections); the running daemon reads it on SIGHUP or `/-/reload`.
    public func rewrite(config: String) throws {
        body = config
        try (header(port) + body).write(to: configFile, atomically: true, encoding: .utf8)
    }

    /// Sends the daemon a signal (SIGHUP to reload).
    public func signal(_ number: Int32) { child?.signal(number) }

    /// Starts the daemon. A port that another test took between `freePort`
    /// and the daemon's bind is traded for a new one, a few times.
    public func start() async throws {
        for attempt in 1...3 {
            try (header(port) + body).write(to: configFile, atomically: true, encoding: .utf8)
            do {
                return try await launch()
            } catch where attempt < 3 && log.contains("Address already in use") {
                port = try Self.freePort()
            }
        }
    }

    private func launch() async throws {
        let log = directory.appendingPathComponent("herald-\(Date().timeIntervalSince1970).log")
        child = try ChildProcess(Repository.herald.path, ["serve", "--config", configFile.path, "--log-level", "debug"],
                                 log: log)
        try await waitUntil(timeout: 20, "the daemon to listen on \(port)") {
            guard child?.isRunning == true else { throw TestFailure("herald exited: \(self.log)") }
            return (try? await self.send("GET", "/healthz").status) == 200
        }
    }

    /// SIGTERM, then SIGKILL after `grace` seconds; returns once it exited.
    public func stop(grace: Double = 10) { child?.stop(grace: grace) }
    public var isRunning: Bool { child?.isRunning == true }
    public func kill9() { child?.kill9() }
    public var log: String { child?.log ?? "" }

    /// Sends a request to the daemon; returns the status and body.
    public func send(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:])
        async throws -> (status: Int, body: String) {
        try await HTTPClient.send(method, "http://127.0.0.1:\(port)\(path)", body: body, headers: headers)
    }

    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        var port = 0
        let bound = Loopback.withAddress(port: 0) { address, size in
            guard bind(fd, address, size) == 0, getsockname(fd, address, &length) == 0 else { return false }
            port = Int(UInt16(bigEndian: address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_port }))
            return true
        }
        guard bound else { throw TestFailure("no free port") }
        return port
    }
}
