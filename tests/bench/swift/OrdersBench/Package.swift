// swift-tools-version:6.0
// The Swift side of the order-list benchmarks (issues 7 and 17): `orders(filter:)`, the inbox's
// `orderSummaries(filter:)` (50 and 1,000 rows) and `order(orderId:)` through the generated
// bindings, timed in Swift. Run by `cargo run --release -p passerelle-bench --bin ffi_orders`, or:
//   ../shared/tools/with-swift env PASSERELLE_FFI=local PASSERELLE_RUST_PROFILE=release swift run -c release \
//     --package-path tests/bench/swift/OrdersBench passerelle-swift-bench DATA_DIR RUNS LIMIT
// PASSERELLE_FFI=local makes bindings/swift link the library cargo built (not the XCFramework);
// PASSERELLE_RUST_PROFILE picks which one (target/<profile>).
// This package is not in a directory named `swift`: SwiftPM names a path dependency after its
// directory, and bindings/swift would clash with a root package of the same name.
import PackageDescription

let package = Package(
    name: "PasserelleSwiftBench",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(path: "../../../../bindings/swift"),
    ],
    targets: [
        .executableTarget(
            name: "passerelle-swift-bench",
            dependencies: [.product(name: "Passerelle", package: "swift")],
            path: "Sources/passerelle-swift-bench"
        ),
    ]
)
