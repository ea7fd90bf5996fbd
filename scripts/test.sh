#!/usr/bin/env bash
# Runs every test of Passerelle: rustfmt, clippy (warnings are errors), the Rust tests of the whole
# workspace (the bridge's start throwaway Postgres clusters through scripts/throwaway-postgres.sh
# and run its conformance check on the sandbox's fake and on the bridge), the end-to-end tests a
# second time with passerelle-bridge as the POS backend, the freshness of the
# generated Swift bindings, the iOS build (static libraries for
# the three iOS targets, checked, and PasserelleFFI.xcframework), the Swift packages' XCTests and
# the type check of the Apple-only Swift.
#
# Swift: `swift` from PATH when present; otherwise the runner named by SWIFT_RUNNER (for example
# ../shared/tools/with-swift, which provisions a Swift 6 toolchain root on first use). Without
# either the Swift tests are skipped loudly, and under CI=true that is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { printf '\n==> %s\n' "$*"; }

step "set-up (browser for the consent-page tests, shellcheck)"
scripts/setup.sh

step "layers of the core (tools/check-layers)"
cargo run -q --locked -p passerelle-check-layers

step "rustfmt"
cargo fmt --all -- --check

step "clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test --workspace"
# The sandbox binary is started by the Swift tests and some Rust tests.
cargo build --locked -p passerelle-sandbox --bin passerelle-sandbox
# Each test binary under the watchdog: a hang prints every thread's stack and fails in minutes,
# and nothing a test started outlives the step.
timeout 2400 scripts/watchdog.sh --idle 600 --name "cargo test" -- cargo test --workspace --locked --no-fail-fast

step "the end-to-end tests again, with passerelle-bridge as the POS backend"
# The same tests (tests/e2e), their World on the bridge (SQLite) behind the sandbox's POS
# listener instead of the sandbox's fake; the few that drive the fake's own switches stay on it
# (passerelle_test_support::World::start_on_the_fake). tests/e2e/tests/pos_backend.rs checks
# the run is on the bridge.
PASSERELLE_E2E_POS_BACKEND=bridge timeout 1200 scripts/watchdog.sh --idle 600 --name "e2e on the bridge" -- \
  cargo test --locked -p passerelle-e2e --test main --no-fail-fast

step "the core with the Apple targets' dependencies: the system's SQLite (3.40 here; iOS 16 has 3.39), platform TLS"
# --cfg passerelle_platform_libs gives this Linux build what Apple targets get (core/Cargo.toml);
# the explicit --target keeps the flag off build scripts.
host=$(rustc -vV | sed -n 's/^host: //p')
RUSTFLAGS="--cfg passerelle_platform_libs" timeout 1200 scripts/watchdog.sh --idle 600 --name "core, Apple dependencies" -- \
  cargo test --locked --target "$host" -p passerelle-core

step "every cargo run command of the READMEs works as written, from a clean checkout"
timeout 1800 scripts/check-documented-commands.sh

step "generated Swift bindings are up to date"
scripts/generate-swift-bindings.sh --check

step "shell scripts"
shellcheck scripts/*.sh .ci/run
for script in bindings/swift/*.sh ios-demo/*.sh; do
  [ -e "$script" ] && { bash -n "$script"; shellcheck "$script"; }
done

step "iOS: the three static libraries, their checks and PasserelleFFI.xcframework"
# Linux needs no Xcode: see bindings/swift/build-xcframework.sh (it adds the rustup targets).
timeout 3000 bindings/swift/build-xcframework.sh
# The release of that framework: made twice, one checksum (bindings/swift/release.sh).
rm -rf target/release-check
for build in 1 2; do
  bindings/swift/release.sh --url-base https://downloads.passerelle.example/swift --out "target/release-check/$build"
done
release_zips=(target/release-check/*/*/PasserelleFFI.xcframework.zip)
cmp "${release_zips[0]}" "${release_zips[1]}" \
  || { echo "two releases of one XCFramework gave two zips" >&2; exit 1; }
# The code compiled only for Apple targets (the platform-TLS branch of http.rs), linted too.
cargo clippy --locked --target aarch64-apple-ios -p passerelle-ffi -- -D warnings

step "Swift tests"
runner=()
if command -v swift >/dev/null 2>&1; then
  runner=()
elif [ -n "${SWIFT_RUNNER:-}" ]; then
  read -r -a runner <<<"$SWIFT_RUNNER"
else
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  echo "!!! SWIFT TESTS SKIPPED: no swift on PATH and SWIFT_RUNNER is not set.    !!!"
  echo "!!! Run: SWIFT_RUNNER=../shared/tools/with-swift scripts/test.sh          !!!"
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  [ "${CI:-}" = "true" ] && { echo "CI requires the Swift tests" >&2; exit 1; }
  exit 0
fi
# A build directory outside the project (CARGO_TARGET_DIR shared between checkouts): the Swift
# runner sees only the project, so the two artifacts the Swift tests load are copied into it.
target_dir=${CARGO_TARGET_DIR:-target}
if [ "$(cd "$target_dir" && pwd -P)" != "$(pwd -P)/target" ]; then
  mkdir -p target/debug
  cp -p "$target_dir/debug/libpasserelle_ffi.so" "$target_dir/debug/passerelle-sandbox" target/debug/
fi
swift_packages=(bindings/swift ios-demo/PasserelleDemoKit)
for package in "${swift_packages[@]}"; do
  log=$(mktemp)
  # The local library, not the XCFramework apps get (bindings/swift/Package.swift). Zero warnings
  # in our Swift (Swift 6 language mode): a warning fails the run.
  timeout 1200 "${runner[@]}" env PASSERELLE_FFI=local swift build --package-path "$package" --build-tests 2>&1 | tee "$log"
  if grep -E "warning:" "$log"; then
    echo "Swift warnings in $package" >&2; exit 1
  fi
  timeout 1200 scripts/watchdog.sh --idle 300 --name "swift test $package" -- \
    "${runner[@]}" env PASSERELLE_FFI=local swift test --package-path "$package" --skip-build
done

# Thread Sanitizer over the Swift package (the events hub, the model, the library's threads
# calling into Swift); a build of its own, so the plain one above stays as apps get it.
timeout 1800 scripts/watchdog.sh --idle 600 --name "swift test --sanitize=thread" -- \
  "${runner[@]}" env PASSERELLE_FFI=local TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/bindings/swift/tsan-suppressions.txt" \
  swift test --package-path bindings/swift --sanitize=thread --scratch-path bindings/swift/.build-tsan

# The Apple-only Swift (SwiftUI views, web authentication, Keychain, os_log): type-checked against
# stand-ins of Apple's frameworks.
timeout 600 "${runner[@]}" ios-demo/check-apple-sources.sh

# What apps get: the release package's manifest resolves its binary target, and SwiftPM computes
# the checksum build-xcframework.sh wrote.
apple=bindings/swift/Apple
timeout 300 "${runner[@]}" swift package describe --package-path "$apple/Passerelle" >/dev/null
checksum=$(timeout 300 "${runner[@]}" swift package compute-checksum "$apple/PasserelleFFI.xcframework.zip")
if [ "$checksum" != "$(cat "$apple/PasserelleFFI.xcframework.zip.checksum")" ]; then
  echo "SwiftPM computes $checksum for the XCFramework's zip, the build wrote another" >&2; exit 1
fi
echo "The release package resolves PasserelleFFI.xcframework; its zip's SwiftPM checksum is $checksum"
# The release step on a stand-in framework: reproducible zip, manifest with url and checksum read
# by SwiftPM, version tags.
SWIFT="${runner[*]} swift" timeout 300 bindings/swift/test-release.sh

printf '\nAll tests passed in %s s\n' "$(( $(date +%s) - start ))"
