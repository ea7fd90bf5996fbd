#!/usr/bin/env bash
# Checks one static library slice of Passerelle against the C headers Swift compiles with:
#   - every function the headers declare is defined (and exported) in the archive, so the app
#     links and no call lands on a missing symbol;
#   - no SQLite and no TLS library is compiled in (decision 23: on Apple platforms Passerelle uses
#     the system's SQLite and Security.framework; a bundled sqlite3_* would clash with the host
#     app's SQLite, GRDB's or Firebase's, and rustls/ring/OpenSSL would only add weight).
#
#   bindings/swift/check-static-library.sh LIBRARY.a HEADER.h...
#   bindings/swift/check-static-library.sh --self-test     (proves the checks fail when they should)
#
# NM names the nm to use (default: llvm-nm; `xcrun nm` on a Mac). Works on Mach-O and ELF archives
# (Mach-O symbols carry a leading underscore, ELF ones do not).
set -euo pipefail

read -r -a nm <<<"${NM:-llvm-nm}"

# Rust's objects embed LLVM bitcode newer than the nm may read: read the symbol tables only.
nm_flags=(--defined-only)
if "${nm[@]}" --no-llvm-bc --version >/dev/null 2>&1; then nm_flags+=(--no-llvm-bc); fi

# The functions a header declares: `type name(args` at the start of a line, typedefs excluded.
declared_functions() {
  grep -hoE '^[A-Za-z_][A-Za-z0-9_ ]*[ *]+(uniffi|ffi)_[A-Za-z0-9_]+\(' "$@" \
    | grep -v '^typedef' | grep -oE '(uniffi|ffi)_[A-Za-z0-9_]+' | sort -u
}

# Defined symbols as "BINDING NAME" (T/D/... global, t/d/... local), leading underscore removed.
defined_symbols() {
  "${nm[@]}" "${nm_flags[@]}" "$1" | awk 'NF >= 3 { print $(NF-1), $NF }' | sed -E 's/ _/ /'
}

check() { # $1 archive, $2... headers
  local archive=$1; shift
  [ -f "$archive" ] || { echo "no such library: $archive" >&2; return 1; }
  local symbols declared missing exported forbidden
  symbols=$(defined_symbols "$archive")
  declared=$(declared_functions "$@")
  [ -n "$declared" ] || { echo "no function declared in $*" >&2; return 1; }
  exported=$(awk '$1 ~ /^[A-Z]$/ { print $2 }' <<<"$symbols" | sort -u)
  missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
  if [ -n "$missing" ]; then
    echo "$archive: $(wc -l <<<"$missing") function(s) declared by the headers are not exported:" >&2
    head -20 <<<"$missing" | sed 's/^/  /' >&2
    return 1
  fi
  # Compiled in at all (any binding): SQLite's C API, ring's C and assembly, OpenSSL, BoringSSL,
  # aws-lc, and the Rust crates rustls, ring, openssl, aws-lc-rs (a mangled name carries its crate's
  # name after its length: `6rustls`; `16rustls_pki_types`, the shared certificate types, is fine).
  forbidden=$(awk '{ print $2 }' <<<"$symbols" \
    | grep -E '^(sqlite3_|sqlite3changeset_|ring_core_|GFp_|OPENSSL_|SSL_|ossl_|BORINGSSL_|aws_lc_)|(^|[^0-9])(6rustls|4ring|7openssl|9aws_lc_rs)([^_a-z]|$)' \
    | sort -u || true)
  if [ -n "$forbidden" ]; then
    echo "$archive: SQLite or a TLS library is compiled in ($(wc -l <<<"$forbidden") symbols), e.g.:" >&2
    head -10 <<<"$forbidden" | sed 's/^/  /' >&2
    return 1
  fi
  echo "$(basename "$(dirname "$archive")")/$(basename "$archive"): $(wc -l <<<"$declared") header functions exported, no SQLite or TLS library inside"
}

self_test() {
  local dir
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' RETURN
  cat >"$dir/api.h" <<'C'
typedef void (*UniffiCallback)(int);
void uniffi_demo_fn_func_hello(int value
);
int ffi_demo_rustbuffer_alloc(int size);
C
  printf 'void uniffi_demo_fn_func_hello(int v) { (void)v; }\nint ffi_demo_rustbuffer_alloc(int s) { return s; }\n' >"$dir/good.c"
  printf 'void uniffi_demo_fn_func_hello(int v) { (void)v; }\n' >"$dir/missing.c"
  printf 'int sqlite3_open(const char *f, void **db) { (void)f; (void)db; return 0; }\n' >"$dir/sqlite.c"
  # ring's C, and a local Rust function of the rustls crate (legacy mangling).
  printf 'static int ring_core_0_17_bn_mul(int a) { return a * 2; }\nint use_ring(int a) { return ring_core_0_17_bn_mul(a); }\n' >"$dir/ring.c"
  printf 'static int _ZN6rustls6client4connE(int a) { return a; }\nint use_rustls(int a) { return _ZN6rustls6client4connE(a); }\n' >"$dir/rustls.c"
  printf 'int _ZN16rustls_pki_types4DER3newE(int a) { return a; }\n' >"$dir/pki.c"
  for name in good missing sqlite ring rustls pki; do cc -c -O0 -o "$dir/$name.o" "$dir/$name.c"; done
  ar rcs "$dir/good.a" "$dir/good.o"
  ar rcs "$dir/missing.a" "$dir/missing.o"
  ar rcs "$dir/with-sqlite.a" "$dir/good.o" "$dir/sqlite.o"
  ar rcs "$dir/with-ring.a" "$dir/good.o" "$dir/ring.o"
  ar rcs "$dir/with-rustls.a" "$dir/good.o" "$dir/rustls.o"
  ar rcs "$dir/with-pki-types.a" "$dir/good.o" "$dir/pki.o"
  for ok in good with-pki-types; do
    check "$dir/$ok.a" "$dir/api.h" >/dev/null || { echo "self-test: $ok.a was refused" >&2; return 1; }
  done
  local bad
  for bad in missing with-sqlite with-ring with-rustls; do
    if check "$dir/$bad.a" "$dir/api.h" >/dev/null 2>&1; then
      echo "self-test: $bad.a passed the check" >&2
      return 1
    fi
  done
  echo "check-static-library self-test: a missing function, a bundled sqlite3_*, ring's C and rustls are refused"
}

if [ "${1:-}" = "--self-test" ]; then
  self_test
else
  [ $# -ge 2 ] || { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
  check "$@"
fi
