// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "herald",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "herald", targets: ["herald"]),
        // Channel plugins: each one a shared library the host loads with dlopen.
        .library(name: "HeraldHTTP", type: .dynamic, targets: ["HTTPChannel"]),
        .library(name: "HeraldSyslog", type: .dynamic, targets: ["SyslogChannel"]),
        .library(name: "HeraldKafka", type: .dynamic, targets: ["KafkaChannel"]),
        .library(name: "HeraldEmail", type: .dynamic, targets: ["EmailChannel"]),
        .library(name: "HeraldPCAP", type: .dynamic, targets: ["PCAPChannel"]),
        .library(name: "HeraldPagerDuty", type: .dynamic, targets: ["PagerDutyChannel"]),
        .library(name: "HeraldTencent", type: .dynamic, targets: ["TencentChannel"]),
        .library(name: "HeraldAliyun", type: .dynamic, targets: ["AliyunChannel"]),
        // The plugin conformance kit, for plugin authors' own tests.
        .library(name: "HeraldConformance", targets: ["HeraldConformance"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/stencilproject/Stencil.git", from: "0.15.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        // MARK: - Plugin SDK (the C ABI and the Swift kit); depends on nothing of the host.
        .target(
            name: "CHeraldPlugin",
            path: "plugin-sdk",
            exclude: ["Sources", "examples", "Package.swift", "README.md"],
            sources: ["src"]
        ),
        .target(
            name: "HeraldPluginKit",
            dependencies: ["CHeraldPlugin"],
            path: "plugin-sdk/Sources/HeraldPluginKit",
            swiftSettings: strict
        ),

        // MARK: - Host
        .target(
            name: "HeraldCore",
            dependencies: [.product(name: "Stencil", package: "Stencil")],
            swiftSettings: strict
        ),
        .target(
            name: "HeraldStore",
            dependencies: ["HeraldCore", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict
        ),
        .target(
            name: "HeraldPluginHost",
            dependencies: ["CHeraldPlugin", "HeraldCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // Metric names and per-endpoint handles, through swift-metrics (the daemon picks the backend).
        .target(
            name: "HeraldTelemetry",
            dependencies: [.product(name: "CoreMetrics", package: "swift-metrics")],
            swiftSettings: strict
        ),
        .target(
            name: "HeraldDispatch",
            dependencies: [
                "HeraldCore", "HeraldStore", "HeraldPluginHost", "HeraldTelemetry",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        // Every ingest format's parser: bytes in, events or an error naming the field out.
        .target(
            name: "HeraldIngest",
            dependencies: ["HeraldCore"],
            swiftSettings: strict
        ),
        .target(
            name: "HeraldAPI",
            dependencies: [
                "HeraldCore", "HeraldDispatch", "HeraldIngest", "HeraldTelemetry",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            // The API's OpenAPI document and the web console's files, built into the binary and served as they are.
            resources: [.embedInCode("openapi.yaml")] + [
                "index.html", "console.css", "app.js", "api.js", "dom.js", "schema-form.js",
                "endpoints.js", "policies.js", "deliveries.js", "explain.js", "captures.js", "channels.js",
            ].map { .embedInCode("Console/assets/\($0)") },
            swiftSettings: strict
        ),
        .executableTarget(
            name: "herald",
            dependencies: [
                "HeraldAPI", "HeraldDispatch", "HeraldPluginHost", "HeraldStore", "HeraldCore", "HeraldConformance",
                "CMalloc",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),

        // MARK: - Channel plugins
        .target(
            name: "CCurlShim",
            linkerSettings: [.linkedLibrary("curl")]
        ),
        // libcurl-multi HTTP sending, linked into each HTTP-speaking channel.
        .target(
            name: "HTTPSupport",
            dependencies: ["HeraldPluginKit", "CCurlShim"],
            path: "Plugins/HTTPSupport",
            swiftSettings: strict
        ),
        .target(
            name: "HTTPChannel",
            dependencies: ["HeraldPluginKit", "HTTPSupport"],
            path: "Plugins/HTTP",
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .target(
            name: "SyslogChannel",
            dependencies: ["HeraldPluginKit", "COpenSSL"],
            path: "Plugins/Syslog",
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        .target(
            name: "KafkaChannel",
            dependencies: ["HeraldPluginKit", "CRdKafka"],
            path: "Plugins/Kafka",
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .target(
            name: "EmailChannel",
            dependencies: ["HeraldPluginKit", "CCurlShim"],
            path: "Plugins/Email",
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .target(
            name: "PagerDutyChannel",
            dependencies: ["HeraldPluginKit", "HTTPSupport"],
            path: "Plugins/PagerDuty",
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .target(
            name: "TencentChannel",
            dependencies: ["HeraldPluginKit", "HTTPSupport"],
            path: "Plugins/Tencent",
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .target(
            name: "AliyunChannel",
            dependencies: ["HeraldPluginKit", "HTTPSupport", "COpenSSL"],
            path: "Plugins/Aliyun",
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        .target(
            name: "PCAPChannel",
            dependencies: ["HeraldPluginKit", "CPcap"],
            path: "Plugins/PCAP",
            exclude: ["README.md"],
            swiftSettings: strict
        ),

        // The conformance kit: `herald plugins check` runs it, Swift plugin authors can too.
        .target(
            name: "HeraldConformance",
            dependencies: ["HeraldCore", "HeraldPluginHost"],
            swiftSettings: strict
        ),

        // MARK: - Tests
        // libFuzzer targets for every parser (scripts/fuzz.sh builds them instrumented).
        .target(
            name: "HeraldFuzzTargets",
            dependencies: [
                "HeraldIngest", "HeraldCore", "HeraldDispatch", "HeraldPluginHost", "HeraldStore",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/Fuzz/Targets",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "HeraldFuzz",
            dependencies: ["HeraldFuzzTargets"],
            path: "Tests/Fuzz/Driver",
            swiftSettings: strict
        ),
        .target(
            name: "HeraldTesting",
            dependencies: ["HeraldPluginHost", "HeraldCore", "HeraldConformance", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HeraldCoreTests",
            dependencies: ["HeraldCore", "HeraldStore", "HeraldDispatch", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HeraldIngestTests",
            dependencies: ["HeraldIngest", "HeraldCore", "HeraldFuzzTargets"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PluginTests",
            dependencies: [
                "HeraldTesting", "HeraldPluginHost", "HeraldCore", "HeraldConformance", "CHeraldPlugin",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["HeraldTesting"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
