public import Foundation

/// A process the tests start and stop: a peer or the daemon.
public final class ChildProcess: @unchecked Sendable {
    // `@unchecked Sendable`: `Process` is thread-safe for the calls made
    // here (terminate, signal, waitUntilExit); nothing else is stored.
    public let process: Process
    public let logFile: URL

    public init(_ executable: String, _ arguments: [String], log: URL, environment: [String: String]? = nil) throws {
        process = Process()
        // Through env(1), which unblocks the signals the test runner's
        // threads block (a child inherits the mask): without it a peer such
        // as rsyslogd never sees the SIGTERM that `stop` sends.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["--default-signal=HUP,INT,TERM,USR1,USR2", executable] + arguments
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        logFile = log
        try process.run()
    }

    public var isRunning: Bool { process.isRunning }

    /// SIGTERM and up to `grace` seconds to exit, then SIGKILL.
    public func stop(grace: Double = 10) {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        if !waitForExit(timeout: grace) { kill9() }
    }

    public func signal(_ number: Int32) {
        if process.isRunning { kill(process.processIdentifier, number) }
    }

    /// SIGKILL: the process gets no chance to clean up.
    public func kill9() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        _ = waitForExit(timeout: 10)
    }

    /// Polls rather than `waitUntilExit`, which spins a run loop and can
    /// wait forever for a process that ignores the signal.
    private func waitForExit(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline { return false }
            usleep(20_000)
        }
        return true
    }

    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Runs a command to its end; throws with its output when it fails.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let (status, output) = try runToEnd(executable, arguments)
        guard status == 0 else {
            throw TestFailure("\(executable) \(arguments.joined(separator: " ")) failed: \(output)")
        }
        return output
    }

    /// `run` on a thread of its own: tests must not block the two threads
    /// of the cooperative pool, or every other test's timing suffers.
    @discardableResult
    public static func runOffPool(_ executable: String, _ arguments: [String]) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try run(executable, arguments) })
            }
        }
    }

    /// Runs a command to its end; returns its exit status and output (stdout and stderr).
    public static func runToEnd(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Polls `condition` until it holds or `timeout` passes. It is asked once
/// more after the deadline: on a loaded machine the poller itself may not
/// have run for a while, and what it waits for may have happened meanwhile.
public func waitUntil(timeout: Double, _ what: String, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    if try await condition() { return }
    throw TestFailure("timed out after \(timeout) s waiting for \(what)")
}
