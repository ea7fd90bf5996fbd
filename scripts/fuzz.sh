#!/usr/bin/env bash
# Fuzzes every parser that reads untrusted input (libFuzzer through cargo-fuzz), each for a time
# budget, starting from the seed corpora made from the sandbox's real payloads.
#
#   scripts/fuzz.sh [seconds per target, default 60] [target ...]
#
# Installs cargo-fuzz when missing. cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP=1 lets the
# stable toolchain accept them. Regenerate the seeds with:
#   cargo run -p passerelle-e2e --bin passerelle-fuzz-seeds -- fuzz/corpus
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(callback_url token_response order_json event_page money)

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
for target in "${targets[@]}"; do
  echo "==> $target ($seconds s)"
  # A copy of the seeds: libFuzzer adds what it finds to the first corpus directory.
  work="fuzz/target/corpus/$target"
  mkdir -p "$work"
  cp -n fuzz/corpus/"$target"/* "$work"/ 2>/dev/null || true
  (cd fuzz && cargo fuzz run "$target" "../$work" -- -max_total_time="$seconds" -print_final_stats=1)
done
