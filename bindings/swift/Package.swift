// swift-tools-version:6.0
// Swift 6 language mode (complete strict concurrency) comes with tools version 6.0.
import Foundation
import PackageDescription

/// The Rust library built by `cargo build -p passerelle-ffi` (debug by default). On Apple
/// platforms ship the XCFramework instead: see `build-xcframework.sh` and `Package.xcframework.swift`.
let packageDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
let rustProfile = Context.environment["PASSERELLE_RUST_PROFILE"] ?? "debug"
let rustLibDir = packageDir.appendingPathComponent("../../target/\(rustProfile)").standardized.path

let package = Package(
    name: "Passerelle",
    platforms: [.iOS(.v16), .macOS(.v13)],
    products: [
        .library(name: "Passerelle", targets: ["Passerelle"]),
    ],
    targets: [
        .target(
            name: "PasserelleFFI",
            path: "Sources/PasserelleFFI",
            linkerSettings: [
                .unsafeFlags([
                    "-L\(rustLibDir)", "-lpasserelle_ffi",
                    "-Xlinker", "-rpath", "-Xlinker", rustLibDir,
                ]),
            ]
        ),
        .target(
            name: "Passerelle",
            dependencies: ["PasserelleFFI"],
            path: "Sources/Passerelle"
        ),
        .testTarget(
            name: "PasserelleTests",
            dependencies: ["Passerelle"],
            path: "Tests/PasserelleTests"
        ),
    ]
)
