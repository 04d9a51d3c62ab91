// swift-tools-version:6.1
import PackageDescription

/// Ardoise: certified data wipe and drive diagnostics for refurbishing benches.
///
/// Layering (see docs/architecture.md): C stays in `CLinuxShims` and the system-library
/// targets, which only `DeviceKit` (and `Certificates` for PDF/QR) import; the wipe engine
/// knows no device; the CLI holds no logic.
let package = Package(
    name: "Ardoise",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ardoise", targets: ["ardoise"]),
        /// The network's traceability store (docs/store.md).
        .executable(name: "ardoise-store", targets: ["ardoise-store"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // The store (docs/store.md): HTTP server, PostgreSQL client, HTML templates. Hummingbird's
        // default traits pull swift-configuration, which the store does not use.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        // Already in the graph through Hummingbird and postgres-nio; named so TraceStore may import them.
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // Also in the graph through Hummingbird; the bench daemon's lifecycle.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // MARK: C
        .target(
            name: "CLinuxShims",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        .systemLibrary(name: "CBlkid", pkgConfig: "blkid", providers: [.apt(["libblkid-dev"])]),
        .systemLibrary(name: "CUdev", pkgConfig: "libudev", providers: [.apt(["libudev-dev"])]),
        .systemLibrary(name: "CSmartcols", pkgConfig: "smartcols", providers: [.apt(["libsmartcols-dev"])]),
        .systemLibrary(name: "CHaru", providers: [.apt(["libhpdf-dev"])]),
        .systemLibrary(name: "CQrencode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // MARK: Swift libraries
        .target(name: "ArdoiseSupport"),
        /// The one model of a pass and its verification, shared by the engine, the journal and the certificates.
        .target(name: "ErasureRecords"),
        .target(
            name: "DeviceKit",
            dependencies: [
                "ArdoiseSupport", "CLinuxShims", "CBlkid", "CUdev", "CSmartcols",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .target(
            name: "WipeEngine",
            dependencies: [
                "ArdoiseSupport", "ErasureRecords",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),
        .target(name: "Sanitize", dependencies: ["ArdoiseSupport", "DeviceKit"]),
        /// Drive health: smartctl's JSON, the health policy, the surface scan (no C: smartctl runs as a subprocess).
        .target(
            name: "Diagnostics",
            dependencies: [
                "ArdoiseSupport", "DeviceKit", "WipeEngine",
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),
        .target(
            name: "Journal",
            dependencies: [
                "ArdoiseSupport", "ErasureRecords",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "Certificates",
            dependencies: [
                "ArdoiseSupport", "CHaru", "CQrencode", "CZlib", "ErasureRecords", "Journal",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "Inventory",
            dependencies: [
                "ArdoiseSupport", "DeviceKit", "Certificates", "Journal",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        /// The outbox sender: delivers the journal's signed records to the traceability store.
        .target(
            name: "StoreClient",
            dependencies: [
                "ArdoiseSupport", "Journal",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "Bench",
            dependencies: [
                "ArdoiseSupport", "DeviceKit", "ErasureRecords", "WipeEngine", "Sanitize", "Journal", "Certificates", "Diagnostics", "Inventory", "StoreClient",
                .product(name: "TOMLKit", package: "TOMLKit"),
                // The daemon's log lines (journald format) and its lifecycle (graceful SIGTERM/SIGINT, SIGHUP).
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "ArdoiseCLI",
            dependencies: [
                "ArdoiseSupport", "DeviceKit", "ErasureRecords", "WipeEngine", "Sanitize", "Journal", "Certificates", "Bench", "Diagnostics", "Inventory", "StoreClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "ardoise", dependencies: ["ArdoiseCLI"]),
        /// `ardoise` for the tests only (never installed): the same commands, plus the job pause
        /// points the daemon harness arms (`ARDOISE_TEST_PAUSE_DIR`) and a simulated drive for a
        /// real `ardoise sanitize` run (`ARDOISE_TEST_SIMULATED_DRIVE`).
        .executableTarget(name: "ardoise-testbed", dependencies: ["ArdoiseCLI", "Bench", "DeviceKit", "Sanitize", "WipeEngine"]),
        /// The traceability store: storage (SQLite through GRDB, PostgreSQL through postgres-nio),
        /// record checks, the HTTP API and the pages for people.
        .target(
            name: "TraceStore",
            dependencies: [
                "ArdoiseSupport", "Certificates", "WipeEngine",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .executableTarget(
            name: "ardoise-store",
            dependencies: [
                "TraceStore", "ArdoiseSupport", "Certificates",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        /// Loop devices and process helpers shared by the test targets (never linked into ardoise).
        .target(name: "ArdoiseTestSupport", dependencies: ["CLinuxShims"]),
        /// A scripted HTTP server on 127.0.0.1 standing in for the traceability store in tests.
        .target(
            name: "StoreTestSupport",
            dependencies: [
                "ArdoiseTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),

        // MARK: Tests
        .testTarget(name: "DeviceKitTests", dependencies: ["DeviceKit", "ArdoiseSupport", "ArdoiseTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "WipeEngineTests", dependencies: ["WipeEngine"]),
        .testTarget(name: "SanitizeTests", dependencies: ["Sanitize", "DeviceKit"]),
        .testTarget(name: "JournalTests", dependencies: ["Journal", "ErasureRecords", "ArdoiseTestSupport"]),
        .testTarget(name: "CertificatesTests", dependencies: ["Certificates", "ErasureRecords", "Journal", "ArdoiseTestSupport"]),
        .testTarget(name: "BenchTests", dependencies: ["Bench", .product(name: "Logging", package: "swift-log"), "DeviceKit", "WipeEngine", "Sanitize", "Journal", "Certificates", "ArdoiseTestSupport", "StoreClient", "StoreTestSupport"]),
        .testTarget(name: "DiagnosticsTests", dependencies: ["Diagnostics", "DeviceKit", "WipeEngine", "ArdoiseTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "InventoryTests", dependencies: ["Inventory", "Certificates", "Journal", "ArdoiseTestSupport"]),
        .testTarget(name: "ArdoiseCLITests", dependencies: ["ArdoiseCLI", "DeviceKit", "Sanitize", "ArdoiseTestSupport", "Journal", "StoreTestSupport"]),
        .testTarget(name: "StoreClientTests", dependencies: ["StoreClient", "Journal", "Certificates", "ErasureRecords", "ArdoiseTestSupport", "StoreTestSupport"]),
        .testTarget(
            name: "TraceStoreTests",
            dependencies: [
                // StoreClient and Journal: the bench's real sender against the real store (rate limits).
                "TraceStore", "Certificates", "ErasureRecords", "ArdoiseSupport", "StoreClient", "Journal",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
