// swift-tools-version:6.0
// Swift 6 language mode (complete strict concurrency) comes with tools version 6.0.
import Foundation
import PackageDescription

// Where the Rust library comes from:
// - Linux and macOS (`swift test`): the library `cargo build -p passerelle-ffi` made in
//   ../../target/debug (or the profile named by PASSERELLE_RUST_PROFILE), linked by path.
// - iOS: the XCFramework `build-xcframework.sh` makes on a Mac, in Apple/ (ignored by git). It is
//   used only when it exists, so Linux never sees it. To ship Passerelle to an app outside this
//   repository, use the self-contained package the script also assembles (Package.xcframework.swift).
let packageDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
let rustProfile = Context.environment["PASSERELLE_RUST_PROFILE"] ?? "debug"
let rustLibDir = packageDir.appendingPathComponent("../../target/\(rustProfile)").standardized.path
let xcframework = "Apple/PasserelleRust.xcframework"
let hasXCFramework = FileManager.default.fileExists(atPath: packageDir.appendingPathComponent(xcframework).path)

var ffiDependencies: [Target.Dependency] = ["PasserelleFFI"]
var appleTargets: [Target] = []
if hasXCFramework {
    ffiDependencies = [
        .target(name: "PasserelleFFI", condition: .when(platforms: [.macOS, .linux])),
        .target(name: "PasserelleRust", condition: .when(platforms: [.iOS])),
    ]
    appleTargets = [.binaryTarget(name: "PasserelleRust", path: xcframework)]
}

let package = Package(
    name: "Passerelle",
    platforms: [.iOS(.v16), .macOS(.v13)],
    products: [
        .library(name: "Passerelle", targets: ["Passerelle"]),
        // A client of `passerelle-sandbox` (the fake HubRise + POS backend): starts it, drives its
        // admin API and plays the browser on its consent page. For the tests of a host app and
        // for development builds pointed at a local sandbox; test support, hence under Tests/.
        .library(name: "PasserelleSandbox", targets: ["PasserelleSandbox"]),
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
            dependencies: ffiDependencies,
            path: "Sources/Passerelle",
            linkerSettings: [
                // The Rust library verifies TLS certificates with the platform's verifier.
                .linkedFramework("Security", .when(platforms: [.iOS, .macOS])),
                .linkedFramework("CoreFoundation", .when(platforms: [.iOS, .macOS])),
            ]
        ),
        .target(
            name: "PasserelleSandbox",
            dependencies: ["Passerelle"],
            path: "Tests/PasserelleSandbox"
        ),
        .testTarget(
            name: "PasserelleTests",
            dependencies: ["Passerelle", "PasserelleSandbox"],
            path: "Tests/PasserelleTests"
        ),
    ] + appleTargets
)
