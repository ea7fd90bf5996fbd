// swift-tools-version:6.0
// The Passerelle package for apps outside this repository: the Rust core as a binary target.
//
// build-xcframework.sh copies this file as Package.swift into bindings/swift/Apple/Passerelle/,
// next to PasserelleRust.xcframework and Sources/Passerelle (the generated bindings and the Swift
// wrappers). Commit that directory to a release repository, or add it to an Xcode project as a
// local package. To download the framework instead, replace `path:` with
// `url: "https://…/PasserelleRust.xcframework.zip", checksum: "…"` (the script prints the checksum).
import PackageDescription

let package = Package(
    name: "Passerelle",
    platforms: [.iOS(.v16)],
    products: [
        .library(name: "Passerelle", targets: ["Passerelle"]),
    ],
    targets: [
        // Static libraries for iOS and the simulator, with the C module `PasserelleFFI`.
        .binaryTarget(name: "PasserelleRust", path: "PasserelleRust.xcframework"),
        .target(
            name: "Passerelle",
            dependencies: ["PasserelleRust"],
            path: "Sources/Passerelle",
            linkerSettings: [
                // The Rust library verifies TLS certificates with the platform's verifier.
                .linkedFramework("Security"),
                .linkedFramework("CoreFoundation"),
            ]
        ),
    ]
)
