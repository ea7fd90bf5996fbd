// swift-tools-version:6.0
// Swift 6 language mode (complete strict concurrency) comes with tools version 6.0.
import Foundation
import PackageDescription

// Exactly one target provides the C module `PasserelleFFI` (the Rust core's UniFFI functions),
// chosen by an explicit switch, never by platform conditions (SwiftPM does not honour those
// everywhere for this):
//
// - default, for apps (the demo app, any app adding this package by path): the binary target
//   `PasserelleFFI`, Apple/PasserelleFFI.xcframework, made by build-xcframework.sh (on Linux or on
//   a Mac). iOS devices and simulators.
// - `PASSERELLE_FFI=local`, for the tests on Linux and macOS: the C target `PasserelleFFI`
//   (Sources/PasserelleFFI: the generated headers and a module map) linking the library cargo
//   built in ../../target/<PASSERELLE_RUST_PROFILE, default debug>:
//       cargo build -p passerelle-ffi -p passerelle-sandbox
//       PASSERELLE_FFI=local swift test --package-path bindings/swift
//   (through ../shared/tools/with-swift: `with-swift env PASSERELLE_FFI=local swift test ...`,
//   as it passes no environment on).
//
// Apps outside this repository use the release package build-xcframework.sh assembles in
// Apple/Passerelle, whose manifest (Package.xcframework.swift) has only the binary target.
let packageDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
let provider = Context.environment["PASSERELLE_FFI"] ?? "xcframework"

let ffiTarget: Target
// Debian's Swift 6.0 ships libswiftObservation.so with a reference to a symbol it does not export
// (swift::threading::fatal, only called on a fatal error): the tests' executables link with
// --allow-shlib-undefined on Linux. Local builds only: apps never see an unsafe flag.
var localLinkerSettings: [LinkerSetting] = []
switch provider {
case "local":
    localLinkerSettings = [.unsafeFlags(["-Xlinker", "--allow-shlib-undefined"], .when(platforms: [.linux]))]
    let rustProfile = Context.environment["PASSERELLE_RUST_PROFILE"] ?? "debug"
    let rustLibDir = packageDir.appendingPathComponent("../../target/\(rustProfile)").standardized.path
    ffiTarget = .target(
        name: "PasserelleFFI",
        path: "Sources/PasserelleFFI",
        linkerSettings: [
            .unsafeFlags([
                "-L\(rustLibDir)", "-lpasserelle_ffi",
                "-Xlinker", "-rpath", "-Xlinker", rustLibDir,
            ]),
        ]
    )
case "xcframework":
    ffiTarget = .binaryTarget(name: "PasserelleFFI", path: "Apple/PasserelleFFI.xcframework")
default:
    fatalError("PASSERELLE_FFI is '\(provider)': use 'local' (tests) or leave it unset (apps)")
}

let package = Package(
    name: "Passerelle",
    // The messages for the restaurant are in French and English (Resources/Localizable.xcstrings);
    // English for an app in any other language.
    defaultLocalization: "en",
    // iOS: the XCFramework has iOS and iOS simulator slices only. macOS only for the tests that
    // link the local library (`PASSERELLE_FFI=local swift test` on a Mac).
    platforms: provider == "local" ? [.iOS(.v16), .macOS(.v13)] : [.iOS(.v16)],
    products: [
        .library(name: "Passerelle", targets: ["Passerelle"]),
        // A client of `passerelle-sandbox` (the fake HubRise + POS backend): starts it, drives its
        // admin API and plays the browser on its consent page. For the tests of a host app and
        // for development builds pointed at a local sandbox; test support, hence under Tests/.
        .library(name: "PasserelleSandbox", targets: ["PasserelleSandbox"]),
    ],
    targets: [
        ffiTarget,
        // The Swift UniFFI generates (scripts/generate-swift-bindings.sh), never edited by hand and
        // not a product: `Passerelle` imports it without re-exporting it, so an app sees each call
        // once, in its Swift spelling (README.md, "Names").
        .target(
            name: "PasserelleBindings",
            dependencies: ["PasserelleFFI"],
            path: "Sources/PasserelleBindings"
        ),
        .target(
            name: "Passerelle",
            dependencies: ["PasserelleBindings"],
            path: "Sources/Passerelle",
            // The String Catalog: Xcode and SwiftPM on macOS compile it into en.lproj and fr.lproj;
            // SwiftPM on Linux copies it as is (MessageCatalog.swift reads either).
            resources: [.process("Resources")],
            linkerSettings: [
                // What the static library needs on Apple platforms (rustc's native-static-libs;
                // build-xcframework.sh checks the two lists agree): the platform's TLS
                // (Security.framework) and the system's SQLite (decision 23).
                .linkedFramework("Security", .when(platforms: [.iOS, .macOS])),
                .linkedFramework("CoreFoundation", .when(platforms: [.iOS, .macOS])),
                .linkedLibrary("sqlite3", .when(platforms: [.iOS, .macOS])),
                .linkedLibrary("iconv", .when(platforms: [.iOS, .macOS])),
            ] + localLinkerSettings
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
    ]
)
