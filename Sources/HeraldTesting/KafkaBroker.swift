public import Foundation

/// One record as an independent consumer (Debian's kcat) read it back.
public struct KafkaRecord: Decodable, Sendable {
    public let topic: String
    public let partition: Int
    public let offset: Int
    public let key: String?
    public let payload: String?
    /// Name, value, name, value... as kcat prints them.
    public let headers: [String]?

    public func header(_ name: String) -> String? {
        guard let headers, let index = stride(from: 0, to: headers.count - 1, by: 2).first(where: { headers[$0] == name })
        else { return nil }
        return headers[index + 1]
    }
}

/// A Kafka-protocol broker on 127.0.0.1: librdkafka's mock cluster, in the
/// small C program Tests/peers/kafka_mock.c (compiled on first use).
public final class KafkaBroker: Sendable {
    public let bootstrap: String
    private let child: ChildProcess

    /// - Parameters:
    ///   - produceError: a Kafka error code the first request of `apiKey`
    ///     is answered with (29 topic authorization failed...).
    ///   - apiKey: 0 (Produce) by default; 22 is InitProducerId.
    public init(directory: URL, produceError: Int? = nil, apiKey: Int = 0) async throws {
        let program = try await Self.compile()
        child = try ChildProcess(program.path, ["1"] + (produceError.map { ["\($0)", "\(apiKey)"] } ?? []),
                                 log: directory.appendingPathComponent("kafka.log"))
        let child = child
        var line = ""
        try await waitUntil(timeout: 30, "the mock Kafka cluster to start") {
            guard child.isRunning else { throw TestFailure("kafka_mock exited: \(child.log)") }
            line = child.log.split(separator: "\n").first { $0.hasPrefix("127.0.0.1:") }.map(String.init) ?? ""
            return !line.isEmpty
        }
        bootstrap = line
    }

    /// Takes the broker down: connections are refused until `up`.
    public func down() { kill(child.process.processIdentifier, SIGUSR1) }
    public func up() { kill(child.process.processIdentifier, SIGUSR2) }
    public func stop() { child.kill9() }

    /// Every record of `topic`, read from the beginning with kcat.
    public func records(topic: String) async throws -> [KafkaRecord] {
        let output = try await ChildProcess.runOffPool("/usr/bin/kcat", ["-C", "-b", bootstrap, "-t", topic, "-o", "beginning",
                                                                         "-e", "-q", "-J"])
        return try output.split(separator: "\n").filter { $0.hasPrefix("{") }
            .map { try JSONDecoder().decode(KafkaRecord.self, from: Data($0.utf8)) }
    }

    private static func compile() async throws -> URL {
        let source = Repository.root.appendingPathComponent("Tests/peers/kafka_mock.c")
        let program = Repository.root.appendingPathComponent(".build/test-peers/kafka_mock")
        let modified = { (url: URL) in
            (try? url.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate) ?? .distantPast
        }
        if modified(program) < modified(source) {
            try FileManager.default.createDirectory(at: program.deletingLastPathComponent(), withIntermediateDirectories: true)
            // A unique name then a rename: tests running at once may compile it together.
            let scratch = program.appendingPathExtension("\(UUID().uuidString.prefix(8))")
            try await ChildProcess.runOffPool("/usr/bin/env", ["cc", "-O1", "-Wall", "-o", scratch.path, source.path,
                                                               "-lrdkafka", "-lpthread"])
            _ = rename(scratch.path, program.path)
        }
        return program
    }
}
