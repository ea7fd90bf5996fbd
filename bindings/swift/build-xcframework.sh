#!/usr/bin/env bash
# Builds Passerelle's Rust core for iOS as an XCFramework (macOS with Xcode only).
#
#   bindings/swift/build-xcframework.sh            release build (about 5 min per target the first time)
#
# Makes, in bindings/swift/Apple/ (ignored by git):
#   PasserelleRust.xcframework   static libraries for iOS devices (arm64) and the simulator
#                                (arm64 + x86_64, lipo-merged), with the C headers and module map
#                                of the `PasserelleFFI` module the generated Swift imports;
#   Passerelle/                  a self-contained Swift package (Package.xcframework.swift as its
#                                Package.swift, the xcframework, Sources/Passerelle) to ship to a
#                                POS app's repository or a release.
# bindings/swift/Package.swift links the xcframework for iOS as soon as it exists, so the demo app
# (ios-demo) builds against it; Linux and macOS `swift test` keep using target/debug.
#
# Needs: Xcode (xcodebuild, lipo), rustup with the three iOS targets (added below if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."

[ "$(uname -s)" = Darwin ] || { echo "build-xcframework.sh runs on macOS with Xcode" >&2; exit 1; }
targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios)
out=bindings/swift/Apple
work=target/xcframework

# The generated Swift and headers must match the Rust code being built.
scripts/generate-swift-bindings.sh --check

rustup target add "${targets[@]}"
export IPHONEOS_DEPLOYMENT_TARGET=16.0 # also for SQLite's C code (cc crate)
for target in "${targets[@]}"; do
  cargo build --locked --release -p passerelle-ffi --lib --target "$target"
done

rm -rf "$work" "$out"
mkdir -p "$work/ios" "$work/ios-simulator" "$work/headers/PasserelleFFI" "$out"
echo '*' >"$out/.gitignore" # build output, never committed
cp target/aarch64-apple-ios/release/libpasserelle_ffi.a "$work/ios/"
lipo -create \
  target/aarch64-apple-ios-sim/release/libpasserelle_ffi.a \
  target/x86_64-apple-ios/release/libpasserelle_ffi.a \
  -output "$work/ios-simulator/libpasserelle_ffi.a"

# Headers in a PasserelleFFI/ subdirectory: Xcode copies every xcframework's Headers/ into one
# include directory, where two module.modulemap files at the top would collide.
cp bindings/swift/Sources/PasserelleFFI/include/*.h "$work/headers/PasserelleFFI/"
{
  echo "module PasserelleFFI {"
  for header in "$work"/headers/PasserelleFFI/*.h; do echo "    header \"$(basename "$header")\""; done
  echo "    export *"
  echo "}"
} >"$work/headers/PasserelleFFI/module.modulemap"

xcodebuild -create-xcframework \
  -library "$work/ios/libpasserelle_ffi.a" -headers "$work/headers" \
  -library "$work/ios-simulator/libpasserelle_ffi.a" -headers "$work/headers" \
  -output "$out/PasserelleRust.xcframework"

# The self-contained package for other repositories.
mkdir -p "$out/Passerelle/Sources"
cp bindings/swift/Package.xcframework.swift "$out/Passerelle/Package.swift"
cp -R "$out/PasserelleRust.xcframework" "$out/Passerelle/"
cp -R bindings/swift/Sources/Passerelle "$out/Passerelle/Sources/"
(cd "$out/Passerelle" && zip -qry ../PasserelleRust.xcframework.zip PasserelleRust.xcframework)
echo "Built $out/PasserelleRust.xcframework and the package $out/Passerelle"
echo "Checksum of $out/PasserelleRust.xcframework.zip (for a remote binaryTarget):"
swift package compute-checksum "$out/PasserelleRust.xcframework.zip"
