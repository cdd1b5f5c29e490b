import ArgumentParser
import Foundation
import HeraldPluginHost

extension Plugins {
    /// `herald plugins new NAME --lang c|swift`: a plugin project outside the
    /// Herald tree that builds, passes `herald plugins check` and delivers.
    struct New: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a new channel plugin project (C with a Makefile, or a Swift package).",
            discussion: """
                The plugin appends one line per alert to the file its endpoint config names: a \
                working start to change into your channel. The project needs only Herald's plugin \
                SDK (plugin-sdk/): its header for C, its package for Swift.
                """)

        @Argument(help: "The channel name: lower case letters, digits, '-' and '_'.")
        var name: String

        @Option(help: "c or swift.")
        var lang: String = "c"

        @Option(help: "Where to create the project folder (default: the current folder).")
        var dir: String = "."

        @Option(help: "Herald's plugin-sdk folder (default: found next to this herald).")
        var sdk: String?

        func run() async throws {
            guard name.range(of: "^[a-z0-9][a-z0-9_-]{0,63}$", options: .regularExpression) != nil else {
                throw ValidationError("NAME must be 1-64 lower case letters, digits, '-' or '_'")
            }
            guard let sdk = sdk.map({ URL(fileURLWithPath: $0).standardizedFileURL.path }) ?? Self.findSDK() else {
                throw ValidationError("cannot find Herald's plugin-sdk folder next to this herald: pass --sdk PATH")
            }
            guard FileManager.default.fileExists(atPath: sdk + "/include/herald_plugin.h") else {
                throw ValidationError("--sdk \(sdk) has no include/herald_plugin.h")
            }
            let project = URL(fileURLWithPath: dir).appendingPathComponent(name)
            guard !FileManager.default.fileExists(atPath: project.path) else {
                throw ValidationError("\(project.path) exists already")
            }
            let files: [(String, String)]
            switch lang {
            case "c": files = Scaffold.c(name: name, sdk: sdk)
            case "swift": files = Scaffold.swift(name: name, sdk: sdk)
            default: throw ValidationError("--lang must be c or swift")
            }
            for (path, text) in files {
                let url = project.appendingPathComponent(path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try text.write(to: url, atomically: true, encoding: .utf8)
            }
            print("Created \(project.path) (\(lang)). Next: cd \(project.path) && read README.md")
        }

        /// plugin-sdk/ in a folder above this executable (a Herald checkout
        /// or an install that keeps the SDK beside the binary).
        static func findSDK() -> String? {
            var url = URL(fileURLWithPath: WorkerCommand.herald.executable).deletingLastPathComponent()
            while url.path != "/" {
                let candidate = url.appendingPathComponent("plugin-sdk")
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("include/herald_plugin.h").path) {
                    return candidate.standardizedFileURL.path
                }
                url.deleteLastPathComponent()
            }
            return nil
        }
    }
}

