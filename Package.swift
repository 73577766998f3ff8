// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Combo",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Combo", targets: ["Combo"]),
        .library(name: "AdapterMesh", targets: ["AdapterMesh"]),
        .library(name: "AdapterZMQ", targets: ["AdapterZMQ"]),
        .library(name: "AdapterRedis", targets: ["AdapterRedis"]),
        .library(name: "ComboTestKit", targets: ["ComboTestKit"]),
        .library(name: "ComboConformance", targets: ["ComboConformance"]),
        .executable(name: "combo", targets: ["ComboCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        // 1.6 for UniqueDeque, whose append moves its element rather than copying it.
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.0.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.2.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
    ],
    targets: [
        .target(
            name: "Combo",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .systemLibrary(
            name: "CZMQ",
            providers: [.apt(["libzmq3-dev"])]
        ),
        .systemLibrary(
            name: "CHiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "AdapterMesh",
            dependencies: [
                "Combo",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "AdapterZMQ",
            dependencies: [
                "Combo",
                "CZMQ",
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "AdapterRedis",
            dependencies: [
                "Combo",
                "CHiredis",
                "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "ComboTestKit",
            dependencies: [
                "Combo",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "ComboConformance",
            dependencies: [
                "Combo",
                "ComboTestKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(name: "CMallocInfo"),
        .target(name: "CChildProcess"),
        // Starts child processes without Foundation's Process (see ChildProcess.swift).
        .target(name: "ComboChildProcess", dependencies: ["CChildProcess"]),
        .executableTarget(
            name: "ComboCLI",
            dependencies: [
                "Combo",
                "AdapterMesh",
                "AdapterRedis",
                "AdapterZMQ",
                "CHiredis",
                "CMallocInfo",
                "ComboChildProcess",
                "CZMQ",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(
            name: "ComboTests",
            dependencies: [
                "Combo",
                "ComboChildProcess",
                "ComboTestKit",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "ComboConformanceTests",
            dependencies: ["Combo", "ComboConformance", "ComboTestKit", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "AdapterMeshTests",
            dependencies: [
                "AdapterMesh",
                "Combo",
                "ComboConformance",
                "ComboTestKit",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ComboCLITests",
            dependencies: [
                "ComboCLI",
                "ComboChildProcess",
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(
            name: "AdapterZMQTests",
            dependencies: [
                "AdapterZMQ",
                "Combo",
                "ComboChildProcess",
                "ComboConformance",
                "ComboTestKit",
                "CZMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "AdapterRedisTests",
            dependencies: [
                "AdapterRedis",
                "Combo",
                "ComboChildProcess",
                "ComboConformance",
                "ComboTestKit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
