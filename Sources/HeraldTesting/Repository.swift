public import Foundation

/// Paths inside the checkout, for tests that run the built daemon and plugins.
public enum Repository {
    public static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        fatalError("no Package.swift above \(#filePath)")
    }()

    /// The folder `scripts/build-plugins.sh` fills.
    public static var plugins: URL { root.appendingPathComponent(".build/herald-plugins") }

    public static var herald: URL {
        for mode in ["debug", "release"] {
            let url = root.appendingPathComponent(".build/\(mode)/herald")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return root.appendingPathComponent(".build/debug/herald")
    }

    /// A fresh temporary folder.
    public static func temporaryDirectory(_ name: String = "herald-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Compiles a C plugin with the system compiler and only the SDK header.
    @discardableResult
    public static func compileCPlugin(source: URL, output: URL, defines: [String] = []) throws -> URL {
        try ChildProcess.run("/usr/bin/env", ["cc", "-shared", "-fPIC", "-O1", "-Wall", "-Werror",
                                              "-I", root.appendingPathComponent("plugin-sdk/include").path]
                             + defines.map { "-D\($0)" } + ["-o", output.path, source.path])
        return output
    }
}

/// What the conformance kit sends, for tests that look at what arrived.
public enum Conformance {
    /// The objects of the exactly-once rule's submissions, with the kit's
    /// default count of 20: `object-0` ... `object-19`.
    public static let objects = (0..<20).map { "object-\($0)" }
}
