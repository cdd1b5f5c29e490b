public import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A request as the test receiver recorded it.
public struct RecordedRequest: Decodable, Sendable {
    public let method: String
    public let path: String
    public let time: Double
    public let headers: [[String]]
    public let body: String

    public func header(_ name: String) -> String? {
        headers.first { $0[0].lowercased() == name.lowercased() }?[1]
    }
}

/// The Python receiver in Tests/peers, on 127.0.0.1, plain or with TLS.
public final class HTTPReceiver: Sendable {
    public let port: Int
    public let tls: Bool
    private let child: ChildProcess

    public init(directory: URL, cert: URL? = nil, key: URL? = nil, port: Int = 0) async throws {
        let portFile = directory.appendingPathComponent("receiver-\(UUID().uuidString.prefix(6)).port")
        var arguments = [Repository.root.appendingPathComponent("Tests/peers/http_receiver.py").path,
                         "--port-file", portFile.path, "--port", "\(port)"]
        if let cert, let key { arguments += ["--cert", cert.path, "--key", key.path] }
        child = try ChildProcess("/usr/bin/env", ["python3"] + arguments,
                                 log: directory.appendingPathComponent("receiver.log"))
        try await waitUntil(timeout: 30, "the HTTP receiver to start") {
            FileManager.default.fileExists(atPath: portFile.path)
        }
        self.port = Int(try String(contentsOf: portFile, encoding: .utf8))!
        tls = cert != nil
    }

    public var baseURL: String { "\(tls ? "https" : "http")://127.0.0.1:\(port)" }

    /// What arrived so far (fetched over plain HTTP; not for a TLS receiver
    /// without `caFile`).
    public func requests(caFile: URL? = nil) async throws -> [RecordedRequest] {
        var arguments = ["-sS", "\(baseURL)/_requests"]
        if let caFile { arguments += ["--cacert", caFile.path] }
        let output = try await ChildProcess.runOffPool("/usr/bin/curl", arguments)
        return try JSONDecoder().decode([RecordedRequest].self, from: Data(output.utf8))
    }

    public func stop() { child.kill9() }
}

/// A throwaway CA and a server certificate for 127.0.0.1, made with openssl.
public struct TestCertificates: Sendable {
    public let caFile: URL
    public let certFile: URL
    public let keyFile: URL

    public init(directory: URL) async throws {
        caFile = directory.appendingPathComponent("ca.pem")
        certFile = directory.appendingPathComponent("server.pem")
        keyFile = directory.appendingPathComponent("server.key")
        let caKey = directory.appendingPathComponent("ca.key")
        let csr = directory.appendingPathComponent("server.csr")
        let ext = directory.appendingPathComponent("server.ext")
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(to: ext, atomically: true, encoding: .utf8)
        let openssl = "/usr/bin/openssl"
        try await ChildProcess.runOffPool(openssl, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", caKey.path,
                                       "-out", caFile.path, "-days", "2", "-subj", "/CN=Herald Test CA"])
        try await ChildProcess.runOffPool(openssl, ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile.path,
                                       "-out", csr.path, "-subj", "/CN=127.0.0.1"])
        try await ChildProcess.runOffPool(openssl, ["x509", "-req", "-in", csr.path, "-CA", caFile.path, "-CAkey", caKey.path,
                                       "-CAcreateserial", "-out", certFile.path, "-days", "2", "-extfile", ext.path])
    }
}
