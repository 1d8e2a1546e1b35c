// swift-tools-version:6.1
import PackageDescription

// Dependencies point down the data flow: capture -> decode -> flow -> output -> sensor -> CLI.
// HNDecode and HNFlow depend on nothing (no Foundation, no libpcap): they are fuzzable alone.
// The inspection modules are built without dynamic exclusivity checks in release builds: the
// profile showed the checks at about 7 % of a replay (swift_beginAccess/endAccess on every
// class property access in the per-packet path). Debug, test and fuzz builds keep them.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "hnsensor",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "hnsensor", targets: ["hnsensor"]),
        .executable(name: "hncapgen", targets: ["hncapgen"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // The analysts' console: HTTP server, sessions and bcrypt, server-rendered templates.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        // The central store many sensors write and one correlator reads (PostgreSQL).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // System libraries. Linked now; Vectorscan and PCRE2 are used by the detection engine.
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        .systemLibrary(name: "CVectorscan", pkgConfig: "libhs", providers: [.apt(["libvectorscan-dev"])]),
        .systemLibrary(name: "CPCRE2", pkgConfig: "libpcre2-8", providers: [.apt(["libpcre2-dev"])]),
        // signalfd, prctl and thread names (headers only).
        .systemLibrary(name: "CLinux"),

        .target(name: "HNDecode", swiftSettings: hotPath),
        // The alert every stage after detection sees (signature, indicator or detector).
        .target(name: "HNAlert", dependencies: ["HNDecode"]),
        .target(name: "HNFlow", dependencies: ["HNDecode"], swiftSettings: hotPath),
        .target(name: "HNCapture", dependencies: ["CPcap"]),
        .target(name: "HNAppLayer", dependencies: ["HNDecode", "HNFlow", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: hotPath),
        .target(name: "HNDetect", dependencies: ["HNDecode", "HNAlert", "HNFlow", "HNAppLayer", "CVectorscan", "CPCRE2"], swiftSettings: hotPath),
        .target(name: "HNOutput", dependencies: ["HNDecode", "HNAlert", "HNFlow", "HNAppLayer", "HNCorrelate",
                                                  .product(name: "Crypto", package: "swift-crypto")], swiftSettings: hotPath),
        .target(name: "HNConfig", dependencies: ["HNDecode", .product(name: "Yams", package: "Yams")]),
        .target(name: "HNIntel", dependencies: ["HNDecode", .product(name: "Yams", package: "Yams")]),
        .target(name: "HNAnomaly", dependencies: ["HNDecode", "HNAlert", "HNFlow", "HNAppLayer", "HNConfig"], swiftSettings: hotPath),
        .target(name: "HNCorrelate", dependencies: ["HNDecode", "HNAlert", "HNConfig"]),
        .target(name: "HNStore", dependencies: ["HNCorrelate", "HNAlert", "HNDecode", .product(name: "GRDB", package: "GRDB.swift"),
                                                .product(name: "Crypto", package: "swift-crypto")]),
        // What analysts read and send: incident views, exports (MISP, STIX 2.1, report), tables.
        .target(name: "HNReport", dependencies: ["HNDecode", "HNCorrelate", "HNStore", "HNOutput",
                                                 .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "HNSensor", dependencies: [
            "HNCapture", "HNDecode", "HNAlert", "HNFlow", "HNAppLayer", "HNDetect", "HNOutput", "HNConfig", "HNIntel", "HNAnomaly", "HNCorrelate", "HNStore",
            "CLinux",
            .product(name: "Yams", package: "Yams"),
        ], swiftSettings: hotPath),
        // The capture daemon: live capture on the configured segments, signals and reloads,
        // systemd notification and journal logging, privileges, the metrics endpoint.
        .target(name: "HNDaemon", dependencies: [
            "HNSensor", "HNCapture", "HNDecode", "HNCorrelate", "HNOutput", "CLinux",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        // The analysts' console (`hnsensor serve`): pages and the JSON API over the CSIRT store,
        // accounts, sessions, CSRF, security headers.
        .target(name: "HNConsole", dependencies: [
            "HNStore", "HNReport", "HNCorrelate", "HNOutput", "HNConfig",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
            .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            .product(name: "Mustache", package: "swift-mustache"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        // The central CSIRT store (PostgreSQL): its schema, the sensors' spool and forwarder,
        // the central correlator. SQLite stays the embedded store of a single sensor.
        .target(name: "HNCentral", dependencies: [
            "HNStore", "HNSensor", "HNCorrelate", "HNAlert", "HNDecode", "HNOutput",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "HNCapGen"),
        .executableTarget(name: "hnsensor", dependencies: [
            "HNSensor", "HNDaemon", "HNReport", "HNConsole", "HNDetect", "HNStore", "HNCorrelate", "HNOutput", "HNCentral",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "hncapgen", dependencies: ["HNCapGen"]),
        // Fuzz targets: `make fuzz` builds them with -sanitize=fuzzer,address -DFUZZING.
        .systemLibrary(name: "CFuzzer"),
        .executableTarget(name: "hnfuzz", dependencies: [
            "HNDecode", "HNFlow", "HNAppLayer", "HNDetect", "HNIntel", "HNAnomaly", "HNCorrelate", "HNConfig", "HNSensor", "HNCapGen", "CFuzzer",
        ]),

        .testTarget(name: "HNDecodeTests", dependencies: ["HNDecode", "HNCapGen"]),
        .testTarget(name: "HNFlowTests", dependencies: ["HNFlow", "HNDecode"]),
        .testTarget(name: "HNDetectTests", dependencies: ["HNDetect", "HNAlert", "HNAppLayer", "HNDecode", "HNFlow", "HNCapGen"]),
        .testTarget(name: "HNAppLayerTests", dependencies: ["HNAppLayer", "HNDecode", "HNFlow", "HNCapGen"]),
        .testTarget(name: "HNCaptureTests", dependencies: ["HNCapture", "HNCapGen"]),
        .testTarget(name: "HNSensorTests", dependencies: ["HNSensor", "HNReport", "HNCapGen", "HNStore", "HNOutput", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Yams", package: "Yams")]),
        .testTarget(name: "HNOutputTests", dependencies: ["HNOutput", "HNAlert", "HNAppLayer", "HNDecode", "HNFlow"]),
        .testTarget(name: "HNStoreTests", dependencies: ["HNStore", "HNCorrelate", "HNAlert", "HNDecode", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "HNCorrelateTests", dependencies: ["HNCorrelate", "HNAlert", "HNDecode"]),
        .testTarget(name: "HNIntelTests", dependencies: ["HNIntel", "HNDecode"]),
        .testTarget(name: "HNConsoleTests", dependencies: ["HNConsole", "HNStore", "HNCorrelate", "HNAlert", "HNDecode",
                                                        .product(name: "HummingbirdTesting", package: "hummingbird"),
                                                        .product(name: "HTTPTypes", package: "swift-http-types")]),
        .testTarget(name: "HNCentralTests", dependencies: ["HNCentral", "HNStore", "HNSensor", "HNCorrelate", "HNAlert", "HNDecode", "HNCapGen",
                                                        .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "HNAnomalyTests", dependencies: ["HNAnomaly", "HNAlert", "HNDecode", "HNFlow", "HNAppLayer"]),
    ],
    swiftLanguageModes: [.v6]
)
