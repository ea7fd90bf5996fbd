#!/usr/bin/env bash
# Builds Passerelle's Rust core for iOS and assembles PasserelleFFI.xcframework, on Linux (CI, no
# Xcode needed) or on a Mac (Xcode's tools are used when present).
#
#   bindings/swift/build-xcframework.sh        from the project root; about 10 min the first time
#
# Steps, each checked:
#   1. the generated bindings match the Rust code (scripts/generate-swift-bindings.sh --check);
#   2. libpasserelle_ffi.a for aarch64-apple-ios, aarch64-apple-ios-sim and x86_64-apple-ios, in
#      release (the size profile) with line tables, built as static libraries (`cargo rustc
#      --crate-type staticlib`: archived, not linked, so no Apple linker is needed). Apple targets
#      use the system's TLS and SQLite (decision 23, core/Cargo.toml), so no C code needs the iOS SDK;
#   3. each slice is for the right platform (iOS, iOS simulator; minimum iOS 16.0), exports every
#      function the generated C headers declare, and has no SQLite or TLS library inside
#      (check-static-library.sh); the native libraries rustc says the archive needs are exactly the
#      ones the Swift manifests link (Security, CoreFoundation, sqlite3, iconv);
#   4. debug symbols are kept beside the release: the shipped slices are stripped of DWARF (symbol
#      names stay, for linking and function-level crash reports) and of the LLVM bitcode Rust embeds
#      (unused since Xcode 14); the same archives with line tables are in Apple/debug/ (link those
#      instead to get Rust file:line in the app's dSYM);
#   5. the two simulator slices are merged (lipo), PasserelleFFI.xcframework is assembled (Info.plist,
#      headers, module map), zipped, and its SwiftPM checksum computed;
#   6. a self-contained Swift package for apps outside this repository is assembled.
#
# Writes, in bindings/swift/Apple/ (ignored by git):
#   PasserelleFFI.xcframework                 what bindings/swift/Package.swift links by default
#   PasserelleFFI.xcframework.zip(.checksum)  for `.binaryTarget(name: "PasserelleFFI", url:, checksum:)`
#   debug/PasserelleFFI.xcframework(.zip)     the same with line tables (crash reports)
#   Passerelle/                               the release package (Package.xcframework.swift), for a
#                                             local path; release.sh makes the downloadable one
#   sizes.txt                                 each slice's size
#
# Needs: rustup, cargo; on Linux Debian's `llvm` package (llvm-lipo, llvm-nm, llvm-objcopy,
# llvm-objdump, llvm-size: `apt-get install llvm`), zip, a C compiler (the checker's self-test); on
# a Mac, Xcode.
# When rustup cannot download a target's prebuilt standard library, the standard library is built
# from source for that target (rust-src, `-Zbuild-std`), and the script says so.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)

device=aarch64-apple-ios
simulators=(aarch64-apple-ios-sim x86_64-apple-ios)
deployment_target=16.0 # Package.swift: .iOS(.v16); the oldest iOS whose SQLite has what the store uses
target_dir=${CARGO_TARGET_DIR:-target}
out=bindings/swift/Apple
work=$target_dir/xcframework
headers_dir=bindings/swift/Sources/PasserelleFFI/include
say() { printf '\n--> %s\n' "$*"; }

# --- tools: Xcode's on a Mac, LLVM's elsewhere ---------------------------------------------------
find_tool() { # first of the names on PATH (llvm-lipo, llvm-lipo-19, ...)
  local name version
  for name in "$@"; do
    command -v "$name" >/dev/null 2>&1 && { echo "$name"; return 0; }
    for version in 22 21 20 19 18 17 16 15 14; do
      command -v "$name-$version" >/dev/null 2>&1 && { echo "$name-$version"; return 0; }
    done
  done
  return 1
}
if command -v xcrun >/dev/null 2>&1; then
  mac=1
  lipo=(xcrun lipo) nm=(xcrun nm) objdump=(xcrun objdump) size=(xcrun size)
else
  mac=""
  missing_tool() { echo "$1 not found: install Debian's llvm package (apt-get install llvm)" >&2; exit 1; }
  lipo=("$(find_tool llvm-lipo)") || missing_tool llvm-lipo
  nm=("$(find_tool llvm-nm)") || missing_tool llvm-nm
  objcopy=("$(find_tool llvm-objcopy)") || missing_tool llvm-objcopy
  objdump=("$(find_tool llvm-objdump)") || missing_tool llvm-objdump
  size=("$(find_tool llvm-size)") || missing_tool llvm-size
fi

# Rust embeds LLVM bitcode in its standard library's objects (__LLVM,__bitcode). Xcode has not
# used bitcode since Xcode 14, and an LLVM older than Rust's cannot read it (llvm-lipo fails on
# it), so the slices ship without it.
without_bitcode() { # $1 archive in, $2 archive out
  if [ -n "$mac" ]; then
    xcrun bitcode_strip -r "$1" -o "$2"
  else
    "${objcopy[@]}" --remove-section=__LLVM,__bitcode --remove-section=__LLVM,__cmdline "$1" "$2"
  fi
}
# DWARF out, symbol names kept (the app still links; crash reports still name functions).
strip_debug_info() { # $1 archive, in place
  if [ -n "$mac" ]; then xcrun strip -S "$1"; else "${objcopy[@]}" --strip-debug "$1"; fi
}
command -v zip >/dev/null 2>&1 || { echo "zip not found (apt-get install zip)" >&2; exit 1; }
export NM="${nm[*]}"

say "checker self-test"
bindings/swift/check-static-library.sh --self-test

say "the generated Swift bindings and headers match the Rust code"
scripts/generate-swift-bindings.sh --check

# --- the three static libraries ----------------------------------------------------------------
# Prebuilt standard library when rustup has it; otherwise built from source for that target.
# (Plain arrays and strings: macOS's bash is 3.2.)
targets=("$device" "${simulators[@]}")
from_source=" "
installed=$(rustup target list --installed)
for target in "${targets[@]}"; do
  grep -qx "$target" <<<"$installed" && continue
  if ! rustup target add "$target" >/dev/null 2>&1; then
    echo "rustup could not download the standard library for $target: building it from source (rust-src)"
    rustup component add rust-src >/dev/null
    from_source="$from_source$target "
  fi
done
std_from_source() { [[ "$from_source" == *" $1 "* ]]; }

rust_version=$(rustc --version)
native_libs_expected="-framework Security -lsqlite3 -liconv -framework CoreFoundation -lSystem -lc -lm"
# The libraries as a sorted set: rustc lists them in the order its dependency graph happens to
# give (a new crate can reorder them), and the linker resolves system libraries in any order.
native_lib_set() { tr ' ' '\n' <<<"${1//-framework /-framework:}" | sed '/^$/d' | sort -u | tr '\n' ' '; }
build_seconds=()
for target in "${targets[@]}"; do
  env=("IPHONEOS_DEPLOYMENT_TARGET=$deployment_target" CARGO_PROFILE_RELEASE_DEBUG=line-tables-only
    CARGO_PROFILE_RELEASE_STRIP=none)
  extra=()
  if std_from_source "$target"; then
    say "libpasserelle_ffi.a for $target (standard library built from source)"
    extra=("-Zbuild-std=std,panic_unwind")
    env+=(RUSTC_BOOTSTRAP=1)
  else
    say "libpasserelle_ffi.a for $target"
  fi
  t0=$(date +%s)
  log=$(mktemp)
  if ! env "${env[@]}" cargo rustc --locked --release --target "$target" -p passerelle-ffi --lib \
    --crate-type staticlib ${extra[@]+"${extra[@]}"} -- --print native-static-libs 2>&1 \
    | tee "$log" | sed '/^ *Compiling /d'; then
    echo "the build for $target failed" >&2
    exit 1
  fi
  build_seconds+=($(($(date +%s) - t0)))
  native=$(sed -n 's/.*native-static-libs: //p' "$log" | tail -1)
  rm -f "$log"
  # rustc prints the line only when it compiled the crate; a fresh build has nothing to say.
  if [ -n "$native" ] && [ "$(native_lib_set "$native")" != "$(native_lib_set "$native_libs_expected")" ]; then
    echo "$target needs other native libraries than the Swift manifests link:" >&2
    echo "  rustc: $native" >&2
    echo "  linked: $native_libs_expected (bindings/swift/Package*.swift)" >&2
    exit 1
  fi
done

# The manifests link what the static library needs (see native_libs_expected).
for manifest in bindings/swift/Package.swift bindings/swift/Package.xcframework.swift; do
  for needed in 'linkedFramework("Security"' 'linkedFramework("CoreFoundation"' \
    'linkedLibrary("sqlite3"' 'linkedLibrary("iconv"'; do
    grep -qF "$needed" "$manifest" || { echo "$manifest does not link $needed)" >&2; exit 1; }
  done
done

# --- check, strip, merge ------------------------------------------------------------------------
rm -rf "$work" "$out"
mkdir -p "$work" "$out"
echo '*' >"$out/.gitignore" # build output, never committed

platform_of() { # the LC_BUILD_VERSION platform and minos of the archive's Passerelle object
  local archive dir member
  archive=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
  dir=$(mktemp -d)
  member=$(ar t "$archive" | grep -m1 '^passerelle_ffi')
  (cd "$dir" && ar x "$archive" "$member")
  "${objdump[@]}" --macho --private-headers "$dir/$member" \
    | awk '/LC_BUILD_VERSION/ { found = 1 } found && $1 == "platform" { p = $2 } found && $1 == "minos" { print p, $2; exit }'
  rm -rf "$dir"
}

sizes=$work/sizes.txt
: >"$sizes"
index=0
for target in "${targets[@]}"; do
  built=$target_dir/$target/release/libpasserelle_ffi.a
  slice=$work/$target/libpasserelle_ffi.a
  mkdir -p "$work/$target/debug"
  without_bitcode "$built" "$work/$target/debug/libpasserelle_ffi.a"
  cp "$work/$target/debug/libpasserelle_ffi.a" "$slice"
  strip_debug_info "$slice"
  if "${objdump[@]}" --section-headers "$slice" | grep -q __bitcode; then
    echo "$target: LLVM bitcode left in $slice" >&2
    exit 1
  fi
  expected_platform=ios
  [ "$target" = "$device" ] || expected_platform=iossimulator
  read -r platform minos <<<"$(platform_of "$slice")"
  if [ "$platform" != "$expected_platform" ] || [ "$minos" != "$deployment_target" ]; then
    echo "$target: built for platform '$platform' minimum '$minos', expected $expected_platform $deployment_target" >&2
    exit 1
  fi
  bindings/swift/check-static-library.sh "$slice" "$headers_dir"/*.h
  # What the app links in at most: __TEXT and __DATA of every member (compact unwind and bitcode
  # sections are not copied as such into the app).
  code=$("${size[@]}" "$slice" | awk 'NR > 1 && $1 ~ /^[0-9]+$/ { sum += $1 + $2 } END { print sum + 0 }')
  printf '%-21s %-12s archive %8d bytes (with line tables %9d)  __TEXT+__DATA %8d bytes  built in %3d s%s\n' \
    "$target" "$platform" "$(wc -c <"$slice")" "$(wc -c <"$work/$target/debug/libpasserelle_ffi.a")" "$code" \
    "${build_seconds[$index]}" "$(std_from_source "$target" && echo ' (std from source)')" | tee -a "$sizes"
  index=$((index + 1))
done

say "merging the simulator slices"
simulator_id=ios-arm64_x86_64-simulator
device_id=ios-arm64
for variant in release debug; do
  suffix=""
  [ "$variant" = debug ] && suffix=/debug
  mkdir -p "$work/$variant/$device_id" "$work/$variant/$simulator_id"
  cp "$work/$device$suffix/libpasserelle_ffi.a" "$work/$variant/$device_id/"
  "${lipo[@]}" -create "$work/${simulators[0]}$suffix/libpasserelle_ffi.a" \
    "$work/${simulators[1]}$suffix/libpasserelle_ffi.a" -output "$work/$variant/$simulator_id/libpasserelle_ffi.a"
done
archs=$("${lipo[@]}" -info "$work/release/$simulator_id/libpasserelle_ffi.a")
for arch in arm64 x86_64; do
  grep -qw "$arch" <<<"$archs" || { echo "the simulator library lacks $arch: $archs" >&2; exit 1; }
done
echo "$simulator_id: $archs"

# --- the XCFramework ----------------------------------------------------------------------------
plist_library() { # $1 identifier, $2 architectures (space separated), $3 platform variant or ""
  local arch
  echo "		<dict>"
  echo "			<key>BinaryPath</key>"
  echo "			<string>libpasserelle_ffi.a</string>"
  echo "			<key>HeadersPath</key>"
  echo "			<string>Headers</string>"
  echo "			<key>LibraryIdentifier</key>"
  echo "			<string>$1</string>"
  echo "			<key>LibraryPath</key>"
  echo "			<string>libpasserelle_ffi.a</string>"
  echo "			<key>SupportedArchitectures</key>"
  echo "			<array>"
  for arch in $2; do echo "				<string>$arch</string>"; done
  echo "			</array>"
  echo "			<key>SupportedPlatform</key>"
  echo "			<string>ios</string>"
  if [ -n "$3" ]; then
    echo "			<key>SupportedPlatformVariant</key>"
    echo "			<string>$3</string>"
  fi
  echo "		</dict>"
}

assemble() { # $1 variant (release|debug), $2 destination directory
  local framework=$2/PasserelleFFI.xcframework id header
  rm -rf "$framework"
  for id in "$device_id" "$simulator_id"; do
    mkdir -p "$framework/$id/Headers/PasserelleFFI"
    cp "$work/$1/$id/libpasserelle_ffi.a" "$framework/$id/"
    # Headers in a PasserelleFFI/ subdirectory: Xcode copies every xcframework's Headers/ into one
    # include directory, where two module.modulemap files at the top would collide.
    cp "$headers_dir"/*.h "$framework/$id/Headers/PasserelleFFI/"
    {
      echo "// The C declarations of every UniFFI crate linked into libpasserelle_ffi, as one module."
      echo "module PasserelleFFI {"
      for header in "$headers_dir"/*.h; do echo "    header \"$(basename "$header")\""; done
      echo "    export *"
      echo "}"
    } >"$framework/$id/Headers/PasserelleFFI/module.modulemap"
  done
  {
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">'
    echo '<plist version="1.0">'
    echo '<dict>'
    echo '	<key>AvailableLibraries</key>'
    echo '	<array>'
    plist_library "$device_id" "arm64" ""
    plist_library "$simulator_id" "arm64 x86_64" "simulator"
    echo '	</array>'
    echo '	<key>CFBundlePackageType</key>'
    echo '	<string>XFWK</string>'
    echo '	<key>XCFrameworkFormatVersion</key>'
    echo '	<string>1.0</string>'
    echo '</dict>'
    echo '</plist>'
  } >"$framework/Info.plist"
  if command -v plutil >/dev/null 2>&1; then plutil -lint "$framework/Info.plist" >/dev/null; fi
  # Same inputs, same zip, same checksum: entries in path order, fixed timestamps and modes, no
  # extra attributes (reproducible-zip.sh; the umask and the file system's order no longer count).
  bindings/swift/reproducible-zip.sh "$framework" "$2/PasserelleFFI.xcframework.zip"
}

say "assembling PasserelleFFI.xcframework"
assemble release "$out"
mkdir -p "$out/debug"
assemble debug "$out/debug"

# SwiftPM's checksum of a binary target's archive is the SHA-256 of the zip file.
if command -v swift >/dev/null 2>&1; then
  checksum=$(swift package compute-checksum "$out/PasserelleFFI.xcframework.zip")
elif command -v sha256sum >/dev/null 2>&1; then
  checksum=$(sha256sum "$out/PasserelleFFI.xcframework.zip" | cut -d' ' -f1)
else
  checksum=$(shasum -a 256 "$out/PasserelleFFI.xcframework.zip" | cut -d' ' -f1)
fi
echo "$checksum" >"$out/PasserelleFFI.xcframework.zip.checksum"

# The self-contained package for other repositories.
mkdir -p "$out/Passerelle/Sources"
cp bindings/swift/Package.xcframework.swift "$out/Passerelle/Package.swift"
cp -R "$out/PasserelleFFI.xcframework" "$out/Passerelle/"
cp -R bindings/swift/Sources/Passerelle bindings/swift/Sources/PasserelleBindings "$out/Passerelle/Sources/"

{
  echo "Passerelle iOS static libraries ($rust_version, release profile, minimum iOS $deployment_target)"
  cat "$sizes"
  printf 'PasserelleFFI.xcframework.zip %d bytes, SwiftPM checksum %s\n' \
    "$(wc -c <"$out/PasserelleFFI.xcframework.zip")" "$checksum"
} >"$out/sizes.txt"

say "done in $(($(date +%s) - start)) s"
cat "$out/sizes.txt"
echo "Built $out/PasserelleFFI.xcframework (debug symbols in $out/debug/) and the package $out/Passerelle"
echo "To publish it (a manifest with url: and checksum:, a version tag): bindings/swift/release.sh --url-base https://…"
