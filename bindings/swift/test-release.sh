#!/usr/bin/env bash
# Tests release.sh and reproducible-zip.sh on a stand-in XCFramework (no iOS build needed):
#   - the same framework made twice, its files written in another order, at other times, with
#     another umask, gives byte-identical zips: one SwiftPM checksum;
#   - the consumer manifest has the binary target's url (URL/VERSION/…zip) and that checksum, no
#     path, iOS only;
#   - versions that are not MAJOR.MINOR.PATCH[-PRERELEASE] (v1.2.0, 1.2) and http URLs are refused,
#     and so is a framework with a macOS slice the manifest would not declare.
# With SWIFT set (a command that runs swift, e.g. "../shared/tools/with-swift swift"), SwiftPM also
# reads the generated manifest and computes the same checksum.
#
#   bindings/swift/test-release.sh          from the project root (scripts/test.sh runs it)
set -euo pipefail
cd "$(dirname "$0")/../.."
work=target/release-test
rm -rf "$work" && mkdir -p "$work"
fail() { echo "release test: $*" >&2; exit 1; }

# A stand-in XCFramework: Info.plist, headers and "libraries", written in the order given.
make_framework() { # $1 dir, $2 umask, then the slices in the order to write them
  local dir=$1 mask=$2 slice
  shift 2
  (
    umask "$mask"
    mkdir -p "$dir"
    for slice in "$@"; do
      mkdir -p "$dir/$slice/Headers/PasserelleFFI"
      printf 'static library %s\n' "$slice" >"$dir/$slice/libpasserelle_ffi.a"
      printf 'module PasserelleFFI { header "passerelleFFI.h" export * }\n' >"$dir/$slice/Headers/PasserelleFFI/module.modulemap"
      printf '// %s\n' "$slice" >"$dir/$slice/Headers/PasserelleFFI/passerelleFFI.h"
    done
    printf '<plist><dict><key>AvailableLibraries</key><array>%s</array></dict></plist>\n' "$*" >"$dir/Info.plist"
  )
}
make_framework "$work/a/PasserelleFFI.xcframework" 022 ios-arm64 ios-arm64_x86_64-simulator
make_framework "$work/b/PasserelleFFI.xcframework" 002 ios-arm64_x86_64-simulator ios-arm64
# Same contents, another Info.plist order would differ in bytes: write it as the first one.
cp "$work/a/PasserelleFFI.xcframework/Info.plist" "$work/b/PasserelleFFI.xcframework/Info.plist"
touch -t 202401020304 "$work/b/PasserelleFFI.xcframework/ios-arm64/libpasserelle_ffi.a"
chmod +x "$work/a/PasserelleFFI.xcframework/ios-arm64/libpasserelle_ffi.a"
chmod +x "$work/b/PasserelleFFI.xcframework/ios-arm64/libpasserelle_ffi.a"

base=https://downloads.passerelle.example/swift
for build in a b; do
  bindings/swift/release.sh --url-base "$base" --version 1.4.0-rc.1 \
    --xcframework "$work/$build/PasserelleFFI.xcframework" --out "$work/$build/out" >"$work/$build.log"
done
zip_a=$work/a/out/1.4.0-rc.1/PasserelleFFI.xcframework.zip
zip_b=$work/b/out/1.4.0-rc.1/PasserelleFFI.xcframework.zip
sum_a=$(sha256sum "$zip_a" | cut -d' ' -f1)
sum_b=$(sha256sum "$zip_b" | cut -d' ' -f1)
[ "$sum_a" = "$sum_b" ] || fail "two builds of one framework gave two checksums: $sum_a, $sum_b"
cmp -s "$work/a/out/1.4.0-rc.1/Passerelle/Package.swift" "$work/b/out/1.4.0-rc.1/Passerelle/Package.swift" \
  || fail "two builds gave two manifests"
# Entries in path order, the framework's directory first.
listed=$(unzip -Z1 "$zip_a")
[ "$listed" = "$(LC_ALL=C sort <<<"$listed")" ] || fail "zip entries not in path order: $listed"
[ "$(head -n 1 <<<"$listed")" = "PasserelleFFI.xcframework/" ] || fail "the zip does not hold PasserelleFFI.xcframework/"

manifest=$work/a/out/1.4.0-rc.1/Passerelle/Package.swift
grep -qF ".binaryTarget(name: \"PasserelleFFI\", url: \"$base/1.4.0-rc.1/PasserelleFFI.xcframework.zip\", checksum: \"$sum_a\")" "$manifest" \
  || fail "the manifest lacks the binary target with url and checksum: $(grep -n binaryTarget "$manifest")"
! grep -q 'path: "PasserelleFFI.xcframework"' "$manifest" || fail "the manifest still points at a path"
grep -q 'platforms: \[\.iOS(\.v16)\]' "$manifest" || fail "the manifest should declare iOS 16 only"
! grep -q '\.macOS' "$manifest" || fail "the manifest declares macOS, which the XCFramework has no slice for"
[ -f "$work/a/out/1.4.0-rc.1/Passerelle/Sources/Passerelle/Resources/Localizable.xcstrings" ] || fail "no String Catalog in the package"
[ -f "$work/a/out/1.4.0-rc.1/Passerelle/Sources/PasserelleBindings/passerelle_ffi.swift" ] || fail "no generated bindings in the package"
grep -q "^tag:      1.4.0-rc.1$" "$work/a/out/1.4.0-rc.1/release.txt" || fail "release.txt lacks the tag"

refused() { # the arguments must make release.sh fail
  if bindings/swift/release.sh "$@" --xcframework "$work/a/PasserelleFFI.xcframework" --out "$work/refused" >/dev/null 2>&1; then
    fail "release.sh accepted $*"
  fi
}
refused --url-base "$base" --version v1.4.0
refused --url-base "$base" --version 1.4
refused --url-base http://downloads.passerelle.example --version 1.4.0
refused --version 1.4.0
make_framework "$work/mac/PasserelleFFI.xcframework" 022 ios-arm64 macos-arm64_x86_64
if bindings/swift/release.sh --url-base "$base" --version 1.4.0 --xcframework "$work/mac/PasserelleFFI.xcframework" \
  --out "$work/refused" >/dev/null 2>&1; then
  fail "release.sh accepted a framework with a macOS slice"
fi

if [ -n "${SWIFT:-}" ]; then
  read -r -a swift <<<"$SWIFT"
  swift_sum=$("${swift[@]}" package compute-checksum "$zip_a")
  [ "$swift_sum" = "$sum_a" ] || fail "SwiftPM computes $swift_sum, the release wrote $sum_a"
  "${swift[@]}" package dump-package --package-path "$(dirname "$manifest")" >"$work/dump.json" \
    || fail "SwiftPM cannot read the generated manifest"
  grep -q "\"checksum\" : \"$sum_a\"" "$work/dump.json" || fail "SwiftPM does not see the checksum: $(cat "$work/dump.json")"
  grep -q '"name" : "PasserelleBindings"' "$work/dump.json" || fail "the release manifest lacks the PasserelleBindings target"
fi
echo "release: two builds, one checksum ($sum_a); manifest with url and checksum, iOS only; bad versions refused"
