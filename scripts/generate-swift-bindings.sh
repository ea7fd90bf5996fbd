#!/usr/bin/env bash
# Regenerates the Swift bindings in bindings/swift from the built passerelle-ffi library.
#
#   scripts/generate-swift-bindings.sh           build (debug), generate, write into bindings/swift
#   scripts/generate-swift-bindings.sh --check   same, but fail if the committed copy differs
#
# The Swift goes to Sources/PasserelleBindings, a target of its own that the package's
# `Passerelle` module wraps without re-exporting it (bindings/swift/README.md, "Names"); the C
# headers to Sources/PasserelleFFI/include.
#
# The generated files are never edited by hand: change the Rust code and run this again.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-write}
swift_dir=bindings/swift/Sources
cargo build --quiet -p passerelle-ffi
cargo build --quiet -p passerelle-ffi --features cli --bin uniffi-bindgen
# The bindgen build links the library with extra features; rebuild the plain one the tests load.
cargo build --quiet -p passerelle-ffi
# Honours CARGO_TARGET_DIR (a target directory shared between work trees).
debug=${CARGO_TARGET_DIR:-target}/debug
lib=$debug/libpasserelle_ffi.so
[ -f "$lib" ] || lib=$debug/libpasserelle_ffi.dylib

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/Generated" "$out/include"
# One crate at a time: both crates share the Swift module name, hence the output file name.
for crate in passerelle_core passerelle_ffi; do
  "$debug/uniffi-bindgen" generate --library "$lib" --crate "$crate" --language swift \
    --out-dir "$out/$crate" 2>&1 | grep -v "swift-format" || true
  mv "$out/$crate/Passerelle.swift" "$out/Generated/$crate.swift"
  mv "$out/$crate/"*.h "$out/include/"
done

compare_or_copy() { # $1 generated dir, $2 committed dir
  if [ "$mode" = "--check" ]; then
    if ! diff -r "$1" "$2" >/dev/null; then
      echo "Swift bindings in $2 are stale: run scripts/generate-swift-bindings.sh" >&2
      diff -r "$1" "$2" | head -20 >&2
      exit 1
    fi
  else
    mkdir -p "$2"
    cp "$1"/* "$2"/
  fi
}
compare_or_copy "$out/Generated" "$swift_dir/PasserelleBindings"
# Only the headers are generated in the C target; its module map and shim are written by hand.
for header in "$out"/include/*.h; do
  name=$(basename "$header")
  if [ "$mode" = "--check" ]; then
    cmp -s "$header" "$swift_dir/PasserelleFFI/include/$name" \
      || { echo "stale header $name: run scripts/generate-swift-bindings.sh" >&2; exit 1; }
  else
    cp "$header" "$swift_dir/PasserelleFFI/include/$name"
  fi
done
if [ "$mode" = "--check" ]; then echo "Swift bindings are up to date"; else echo "Swift bindings written to $swift_dir"; fi
