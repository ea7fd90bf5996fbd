// swift-tools-version:6.0
// The demo app's logic: view models that build and test on Linux against the sandbox.
// The SwiftUI views (../PasserelleDemo) stay thin and only bind to these models.
import PackageDescription

let package = Package(
    name: "PasserelleDemoKit",
    platforms: [.iOS(.v17), .macOS(.v14)],
    products: [
        .library(name: "PasserelleDemoKit", targets: ["PasserelleDemoKit"]),
    ],
    dependencies: [
        // The Passerelle package of this repository (its package identity is its folder's name).
        .package(path: "../../bindings/swift"),
    ],
    targets: [
        .target(
            name: "PasserelleDemoKit",
            dependencies: [
                .product(name: "Passerelle", package: "swift"),
                // The settings screen reads a local sandbox's URLs and can place a test order.
                .product(name: "PasserelleSandbox", package: "swift"),
            ]
        ),
        .testTarget(
            name: "PasserelleDemoKitTests",
            dependencies: ["PasserelleDemoKit", .product(name: "PasserelleSandbox", package: "swift")]
        ),
    ]
)
