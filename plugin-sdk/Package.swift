// swift-tools-version:6.1
// The plugin SDK alone, for Swift plugins built outside the Herald tree:
// depend on this package (path or URL) and on nothing of the host.
import PackageDescription

let package = Package(
    name: "herald-plugin-sdk",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "HeraldPluginKit", targets: ["HeraldPluginKit"]),
        .library(name: "CHeraldPlugin", targets: ["CHeraldPlugin"]),
    ],
    targets: [
        .target(name: "CHeraldPlugin", path: ".", exclude: ["Sources", "examples", "README.md"], sources: ["src"]),
        .target(name: "HeraldPluginKit", dependencies: ["CHeraldPlugin"], path: "Sources/HeraldPluginKit"),
    ],
    swiftLanguageModes: [.v6]
)
