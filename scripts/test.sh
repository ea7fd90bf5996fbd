#!/usr/bin/env bash
# Runs every test of Passerelle: rustfmt, clippy (warnings are errors), the Rust tests of the whole
# workspace, the freshness of the generated Swift bindings, and the Swift package's XCTests.
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

step "layers of the core (scripts/check-layers.sh)"
scripts/check-layers.sh

step "rustfmt"
cargo fmt --all -- --check

step "clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test --workspace"
# The sandbox binary is started by the Swift tests and some Rust tests.
cargo build --locked -p passerelle-sandbox --bin passerelle-sandbox
timeout 2400 cargo test --workspace --locked

step "generated Swift bindings are up to date"
scripts/generate-swift-bindings.sh --check

step "shell scripts"
shellcheck scripts/*.sh .ci/run
for script in bindings/swift/*.sh ios-demo/*.sh; do
  [ -e "$script" ] && { bash -n "$script"; shellcheck "$script"; }
done

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
swift_packages=(bindings/swift ios-demo/PasserelleDemoKit)
for package in "${swift_packages[@]}"; do
  log=$(mktemp)
  # Zero warnings in our Swift (Swift 6 language mode): a warning fails the run.
  timeout 1200 "${runner[@]}" swift build --package-path "$package" --build-tests 2>&1 | tee "$log"
  if grep -E "warning:" "$log"; then
    echo "Swift warnings in $package" >&2; exit 1
  fi
  timeout 1200 "${runner[@]}" swift test --package-path "$package" --skip-build
done

# The Apple-only Swift (SwiftUI views, Keychain, os_log): parsed and type-checked against stand-ins.
timeout 300 "${runner[@]}" ios-demo/check-apple-sources.sh

printf '\nAll tests passed in %s s\n' "$(( $(date +%s) - start ))"
