// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6)
]

let package = Package(
    name: "ashrai",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ashraid", targets: ["ashraid"]),
        .executable(name: "ashrai", targets: ["ashrai"]),
        .library(name: "Postgres", targets: ["Postgres"]),
        .library(name: "AshraiCore", targets: ["AshraiCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: [.defaults, "YAML"]),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        // SMS / WhatsApp gateways (a JSON POST over HTTPS).
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // ISO 20022 camt.053 bank statements (XML).
        .package(url: "https://github.com/drmohundro/SWXMLHash.git", from: "8.1.1"),
        // Already in the graph through swift-configuration; named because AshraiServer imports
        // SystemPackage (FilePath for the YAML file provider).
        .package(url: "https://github.com/apple/swift-system", from: "1.5.0"),
    ],
    targets: [
        // libpq through pkg-config; the header path comes from `pkg-config --cflags libpq`.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        // libsodium: argon2id password hashes, SHA-256 of tokens, random tokens.
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]
        ),
        .target(
            name: "Postgres",
            dependencies: [
                "CLibPQ", "CivilCalendar",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "CivilCalendar", swiftSettings: swiftSettings),
        .target(name: "AshraiCore", dependencies: ["CivilCalendar"], swiftSettings: swiftSettings),
        .target(name: "AshraiProtocol", dependencies: ["AshraiCore"], swiftSettings: swiftSettings),
        .target(
            name: "AshraiServer",
            dependencies: [
                "Postgres", "AshraiCore", "AshraiProtocol", "CSodium", "CCurl",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "SWXMLHash", package: "SWXMLHash"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ashraid",
            dependencies: [
                "AshraiServer", "Postgres", "AshraiCore", "AshraiProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The client side of the protocol: used by the CLI and the load generator.
        .target(
            name: "AshraiClient",
            dependencies: [
                "AshraiProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ashrai",
            dependencies: [
                "AshraiProtocol", "AshraiClient", "AshraiCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // `make bench`: the load generator.
        .executableTarget(
            name: "ashrai-bench",
            dependencies: [
                "AshraiClient", "AshraiCore", "AshraiProtocol", "AshraiServer", "Postgres",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Shared helpers for tests: the throwaway cluster, one database per suite.
        .target(
            name: "AshraiTestSupport",
            dependencies: [
                "Postgres",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/AshraiTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "AshraiTestSupport", .product(name: "NIOPosix", package: "swift-nio")],
                    swiftSettings: swiftSettings),
        .testTarget(name: "AshraiCoreTests", dependencies: ["AshraiCore"], swiftSettings: swiftSettings),
        .testTarget(name: "AshraiProtocolTests", dependencies: ["AshraiProtocol"], swiftSettings: swiftSettings),
        .testTarget(
            name: "AshraiServerTests",
            dependencies: [
                "AshraiServer", "AshraiCore", "AshraiProtocol", "Postgres", "AshraiTestSupport", "AshraiClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
