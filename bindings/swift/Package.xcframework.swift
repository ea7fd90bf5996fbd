// swift-tools-version:6.0
// The Passerelle package for apps outside this repository: the Rust core as a binary target, the
// only provider of the C module `PasserelleFFI`.
//
// build-xcframework.sh copies this file as Package.swift into bindings/swift/Apple/Passerelle/,
// next to PasserelleFFI.xcframework, Sources/PasserelleBindings (the generated bindings) and
// Sources/Passerelle (the Swift API over them), to add to an Xcode project as a local package.
// release.sh makes the published one from this file: the same manifest with `url:` and `checksum:` in place of `path:`, beside a
// reproducible zip of the framework and under a version tag. SwiftPM wants the binary target
// named like the framework in the zip: PasserelleFFI. iOS only: the framework has no macOS slice.
import PackageDescription

let package = Package(
    name: "Passerelle",
    // The messages for the restaurant are in French and English (Resources/Localizable.xcstrings);
    // English for an app in any other language.
    defaultLocalization: "en",
    platforms: [.iOS(.v16)],
    products: [
        .library(name: "Passerelle", targets: ["Passerelle"]),
    ],
    targets: [
        // Static libraries for iOS devices (arm64) and the simulator (arm64, x86_64), with the C
        // module `PasserelleFFI`.
        .binaryTarget(name: "PasserelleFFI", path: "PasserelleFFI.xcframework"),
        // The Swift UniFFI generates, not a product: `Passerelle` wraps it without re-exporting it.
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
                // What the static library needs (rustc's native-static-libs; build-xcframework.sh
                // checks the two lists agree): the platform's TLS (Security.framework) and the
                // system's SQLite (decision 23).
                .linkedFramework("Security"),
                .linkedFramework("CoreFoundation"),
                .linkedLibrary("sqlite3"),
                .linkedLibrary("iconv"),
            ]
        ),
    ]
)
