#!/usr/bin/env bash
# What an iOS app gains from Passerelle, measured on Linux: libpasserelle_ffi.so built with the
# dependency choices of Apple targets (decision 23: platform TLS through native-tls, here OpenSSL
# linked dynamically; the system's SQLite), in the release profile, stripped. The debug
# information is kept beside it (`.debug`, with a GNU debuglink), as a crash report needs.
#
#   scripts/size-proxy.sh              the proxy only (about 3 min the first time)
#   scripts/size-proxy.sh --baseline   also today's Linux choices (rustls + ring, bundled SQLite)
#
# Prints the sizes and checks the proxy links libssl and libsqlite3 instead of carrying them.
# Writes target/size-proxy/ (the stripped library and its .debug).
set -euo pipefail
cd "$(dirname "$0")/.."

target=x86_64-unknown-linux-gnu # explicit, so RUSTFLAGS reach the library and not build scripts
target_dir=${CARGO_TARGET_DIR:-target}
out=$target_dir/size-proxy
mkdir -p "$out"

RUSTFLAGS="--cfg passerelle_platform_libs" CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
  CARGO_PROFILE_RELEASE_STRIP=none \
  cargo build --locked --release --target "$target" -p passerelle-ffi --lib
built=$target_dir/$target/release/libpasserelle_ffi.so

needed=$(readelf -d "$built" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
for library in libssl libsqlite3; do
  [[ " $needed" == *" $library."* ]] || { echo "the proxy does not link $library: $needed" >&2; exit 1; }
done
if nm -D --defined-only "$built" | grep -qE ' (sqlite3_|ring_core_)'; then
  echo "the proxy carries SQLite or ring" >&2
  exit 1
fi

objcopy --only-keep-debug "$built" "$out/libpasserelle_ffi.so.debug"
objcopy --strip-all --add-gnu-debuglink="$out/libpasserelle_ffi.so.debug" "$built" "$out/libpasserelle_ffi.so"
size_of() { wc -c <"$1"; }
printf 'proxy (native-tls, system SQLite), stripped: %9d bytes (%s MB)  debug info beside it: %d bytes\n' \
  "$(size_of "$out/libpasserelle_ffi.so")" "$(awk "BEGIN { printf \"%.2f\", $(size_of "$out/libpasserelle_ffi.so") / 1e6 }")" \
  "$(size_of "$out/libpasserelle_ffi.so.debug")"
echo "  links: $needed"

if [ "${1:-}" = "--baseline" ]; then
  cargo build --locked --release -p passerelle-ffi --lib
  baseline=$target_dir/release/libpasserelle_ffi.so
  printf 'Linux today (rustls + ring, bundled SQLite), stripped: %9d bytes (%s MB)\n' \
    "$(size_of "$baseline")" "$(awk "BEGIN { printf \"%.2f\", $(size_of "$baseline") / 1e6 }")"
fi
