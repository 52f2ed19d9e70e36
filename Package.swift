// swift-tools-version:6.2
// Citizens' proposals (百姓提案) pipeline: five services over Kafka and one PostgreSQL store.
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

// One executable per service; its library holds the build function that tests call too.
func service(_ name: String, executable: String, uses: [Target.Dependency] = [], resources: [Resource]? = nil) -> [Target] {
    [
        .target(
            name: "\(name)Service",
            dependencies: [
                "Models", "Storage", "Messaging", "EventPipeline", "ServiceKit", "Operations",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ] + uses,
            path: "Services/\(name)/\(name)Service",
            resources: resources,
            swiftSettings: strict
        ),
        .executableTarget(
            name: executable,
            dependencies: [.target(name: "\(name)Service"), "ServiceKit"],
            path: "Services/\(name)/\(executable)",
            swiftSettings: strict
        ),
    ]
}

let package = Package(
    name: "citizens-proposals",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "intake", targets: ["intake"]),
        .executable(name: "triage", targets: ["triage"]),
        .executable(name: "assignment", targets: ["assignment"]),
        .executable(name: "supervision", targets: ["supervision"]),
        .executable(name: "publicity", targets: ["publicity"]),
        .executable(name: "workbench", targets: ["workbench"]),
        .executable(name: "kafka-mock-broker", targets: ["kafka-mock-broker"]),
        .executable(name: "proposals-ctl", targets: ["proposals-ctl"]),
        .executable(name: "bench-outbox", targets: ["bench-outbox"]),
        .executable(name: "bench-triage", targets: ["bench-triage"]),
        .executable(name: "bench-assignment", targets: ["bench-assignment"]),
        .executable(name: "bench-supervision", targets: ["bench-supervision"]),
        .executable(name: "bench-publicity", targets: ["bench-publicity"]),
        .executable(name: "bench-workbench", targets: ["bench-workbench"]),
        .executable(name: "bench-notices", targets: ["bench-notices"]),
        .executable(name: "bench-pipeline", targets: ["bench-pipeline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.9.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.25.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.21.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.25.0"),
        // Tests only: reads docker-compose.yml and the alert rules.
        .package(url: "https://github.com/jpsim/Yams.git", "5.0.0"..<"7.0.0"),
    ],
    targets: [
        // librdkafka from Debian's librdkafka-dev (2.0.2), including the mock cluster header.
        .systemLibrary(
            name: "CRdKafka",
            path: "Shared/CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // The built-in classification rules live here: triage classifies with them, publicity names domains by them.
        .target(
            name: "Models", path: "Shared/Models", resources: [.copy("Resources/default-rules.json"), .copy("Resources/common-passwords.txt")],
            swiftSettings: strict),
        // Near-duplicate detection (MinHash, LSH): clue grouping and unit suggestions.
        .target(name: "Similarity", dependencies: ["Models", "CMinHash"], path: "Shared/Similarity", swiftSettings: strict),
        // A district's classification rules: definitions, match expressions and the compiled classifier (no I/O).
        .target(name: "ClassificationRules", dependencies: ["Models"], path: "Shared/ClassificationRules", swiftSettings: strict),
        // MinHash's inner loop in AVX2 lanes, chosen at run time: Swift compiles for the x86-64
        // baseline and has no per-function target attribute.
        .target(name: "CMinHash", path: "Shared/CMinHash"),
        .target(
            name: "Messaging",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/Messaging",
            swiftSettings: strict
        ),
        .target(
            name: "Storage",
            dependencies: [
                "Models",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/Storage",
            resources: [.copy("Migrations")],
            swiftSettings: strict
        ),
        .target(
            name: "EventPipeline",
            dependencies: [
                "Models", "Messaging", "Storage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/EventPipeline",
            swiftSettings: strict
        ),
        .target(
            name: "ServiceKit",
            dependencies: [
                "Models", "Messaging", "Storage", "EventPipeline",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/ServiceKit",
            swiftSettings: strict
        ),
        // What operators look at: consumer lag, dead letters, the outbox, business figures, the
        // dashboard page; proposals-ctl and the services' gauges use it.
        .target(
            name: "Operations",
            dependencies: ["Models", "Messaging", "Storage", "ServiceKit", .product(name: "Logging", package: "swift-log")],
            path: "Shared/Operations",
            swiftSettings: strict
        ),
    ]
        + service("Intake", executable: "intake", resources: [.copy("Resources/openapi.json")])
        + service("Triage", executable: "triage", uses: ["Similarity", "ClassificationRules"])
        + service("Assignment", executable: "assignment", uses: ["Similarity"])
        + service("Supervision", executable: "supervision")
        + service(
            "Publicity", executable: "publicity",
            uses: [
                .product(name: "Mustache", package: "swift-mustache"), .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            resources: [.copy("Resources/templates")])
        + service(
            "Workbench", executable: "workbench",
            uses: [
                .product(name: "Mustache", package: "swift-mustache"), .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            ],
            resources: [.copy("Resources/templates")])
        + [
            .executableTarget(
                name: "kafka-mock-broker",
                dependencies: ["CRdKafka"],
                path: "ops/mock-broker",
                swiftSettings: strict
            ),
            .executableTarget(
                name: "proposals-ctl",
                dependencies: [
                    "Models", "Messaging", "Storage", "ServiceKit", "Operations", "PublicityService", "WorkbenchService",
                    .product(name: "ArgumentParser", package: "swift-argument-parser"),
                    .product(name: "AsyncHTTPClient", package: "async-http-client"),
                    .product(name: "Hummingbird", package: "hummingbird"),
                ],
                path: "ops/ctl",
                swiftSettings: strict
            ),
            .executableTarget(
                name: "bench-outbox",
                dependencies: [
                    "Models", "Messaging", "Storage", "EventPipeline", "ServiceKit",
                    .product(name: "ArgumentParser", package: "swift-argument-parser"),
                ],
                path: "ops/bench/outbox",
                exclude: ["run.sh"],
                swiftSettings: strict
            ),
            // What every benchmark prints and draws with (machine line, progress, seeded generator).
            .target(
                name: "BenchSupport", dependencies: ["Models", "Messaging", "Storage", "ServiceKit"], path: "ops/bench/Support", swiftSettings: strict
            ),
            .executableTarget(
                name: "bench-triage",
                dependencies: [
                    "BenchSupport", "TriageService", "Similarity", "ClassificationRules", "Models", "Messaging", "Storage", "ServiceKit",
                    .product(name: "ArgumentParser", package: "swift-argument-parser"),
                    .product(name: "PostgresNIO", package: "postgres-nio"),
                ],
                path: "ops/bench/triage",
                exclude: ["run.sh"],
                swiftSettings: strict
            ),
            .executableTarget(
                name: "bench-assignment",
                dependencies: [
                    "BenchSupport", "AssignmentService", "Similarity", "Models", "Messaging", "Storage", "ServiceKit",
                    .product(name: "ArgumentParser", package: "swift-argument-parser"),
                    .product(name: "PostgresNIO", package: "postgres-nio"),
                ],
                path: "ops/bench/assignment",
                exclude: ["run.sh"],
                swiftSettings: strict
            ),
            .executableTarget(
                name: "bench-supervision",
                dependencies: [
                    "BenchSupport", "SupervisionService", "Models", "Storage", "ServiceKit",
                    .product(name: "ArgumentParser", package: "swift-argument-parser"),
                    .product(name: "PostgresNIO", package: "postgres-nio"),
                    .product(name: "Logging", package: "swift-log"),
                ],
                path: "ops/bench/supervision",
                exclude: ["run.sh"],
                swiftSettings: strict
            ),
            .executableTarget(
                name: "bench-publicity",
                dependencies: [
                    "BenchSupport", "PublicityService", "Models", "Messaging", "Operations", "Storage", "ServiceKit",
                    .product(name: "ArgumentParser", package: "swift-argument-parser"),
                    .product(name: "AsyncHTTPClient", package: "async-http-client"),
                    .product(name: "Crypto", package: "swift-crypto"),
                    .product(name: "PostgresNIO", package: "postgres-nio"),
                    .product(name: "Logging", package: "swift-log"),
                ],
                path: "ops/bench/publicity",
                exclude: ["run.sh"],
                swiftSettings: strict
            ),
            .executableTarget(
                name: "bench-notices",
                dependencies: [
                    "BenchSupport", "PublicityService", "Models", "Messaging", "Storage", "ServiceKit",
                    .product(name: "ArgumentParser", package: "swift-argument-parser"),
                    .product(name: "Hummingbird", package: "hummingbird"),
                    .product(name: "PostgresNIO", package: "postgres-nio"),
                    .product(name: "Logging", package: "swift-log"),
                ],
                path: "ops/bench/notices",
                exclude: ["run.sh"],
                swiftSettings: strict
            ),
            .executableTarget(
                name: "bench-pipeline",
                dependencies: [
                    "BenchSupport", "Models", "Storage", "ServiceKit",
                    .product(name: "ArgumentParser", package: "swift-argument-parser"),
                    .product(name: "AsyncHTTPClient", package: "async-http-client"),
                    .product(name: "PostgresNIO", package: "postgres-nio"),
                    .product(name: "Logging", package: "swift-log"),
                ],
                path: "ops/bench/pipeline",
                exclude: ["run.sh"],
                swiftSettings: strict
            ),
            .executableTarget(
                name: "bench-workbench",
                dependencies: [
                    "BenchSupport", "WorkbenchService", "Models", "Storage", "ServiceKit",
                    .product(name: "ArgumentParser", package: "swift-argument-parser"),
                    .product(name: "AsyncHTTPClient", package: "async-http-client"),
                    .product(name: "Crypto", package: "swift-crypto"),
                    .product(name: "Logging", package: "swift-log"),
                ],
                path: "ops/bench/workbench",
                exclude: ["run.sh"],
                swiftSettings: strict
            ),
            .target(
                name: "TestSupport",
                dependencies: [
                    "Models", "Messaging", "Storage", "EventPipeline", "ServiceKit",
                    .product(name: "AsyncHTTPClient", package: "async-http-client"),
                ],
                path: "Tests/Support",
                swiftSettings: strict
            ),
            .testTarget(
                name: "ModelsTests",
                dependencies: ["Models"],
                path: "Tests/ModelsTests",
                swiftSettings: strict
            ),
            .testTarget(
                name: "IntakeTests",
                dependencies: ["IntakeService", "Models", "ServiceKit"],
                path: "Tests/IntakeTests",
                swiftSettings: strict
            ),
            .testTarget(
                name: "TriageTests",
                dependencies: ["TriageService", "Similarity", "ClassificationRules", "Models"],
                path: "Tests/TriageTests",
                swiftSettings: strict
            ),
            .testTarget(
                name: "AssignmentTests",
                dependencies: ["AssignmentService", "Similarity", "Models"],
                path: "Tests/AssignmentTests",
                swiftSettings: strict
            ),
            .testTarget(
                name: "PublicityTests",
                dependencies: ["PublicityService", "Models"],
                path: "Tests/PublicityTests",
                swiftSettings: strict
            ),
            .testTarget(
                name: "SharedTests",
                dependencies: ["Models", "Messaging", "Storage", "ServiceKit", "Operations"],
                path: "Tests/SharedTests",
                swiftSettings: strict
            ),
            .testTarget(
                name: "IntegrationTests",
                dependencies: [
                    "TestSupport", "Models", "Messaging", "Storage", "EventPipeline", "ServiceKit",
                    "IntakeService", "TriageService", "AssignmentService", "SupervisionService", "PublicityService", "WorkbenchService", "Similarity",
                    "ClassificationRules",
                    .product(name: "Hummingbird", package: "hummingbird"),
                    .product(name: "HummingbirdTesting", package: "hummingbird"),
                    .product(name: "AsyncHTTPClient", package: "async-http-client"),
                ],
                path: "Tests/IntegrationTests",
                swiftSettings: strict
            ),
            // The compose file, Dockerfile and alert rules checked against the services' own
            // configuration code (no Docker engine runs on the development machines).
            .testTarget(
                name: "DeploymentTests",
                dependencies: [
                    "Models", "ServiceKit", "Operations",
                    "IntakeService", "TriageService", "AssignmentService", "SupervisionService", "PublicityService", "WorkbenchService",
                    .product(name: "Yams", package: "Yams"),
                ],
                path: "Tests/DeploymentTests",
                swiftSettings: strict
            ),
        ]
)
