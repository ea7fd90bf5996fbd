#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine, when it is missing: Chromium and
# ChromeDriver (the consent-page and back-office browser tests), shellcheck (scripts), gdb (the
# test watchdog's stacks), and for the
# iOS build (bindings/swift/build-xcframework.sh) LLVM's Mach-O tools (llvm-lipo, llvm-nm,
# llvm-objcopy, llvm-objdump, llvm-size: Debian's `llvm`), zip and a C compiler, and the system
# SQLite and OpenSSL headers (the core's tests with the Apple targets' choices). Needs root for
# apt; without it, says what to install. The iOS standard libraries come from rustup (the script
# adds them), the Swift toolchain from SWIFT_RUNNER (../shared/tools/with-swift provisions it on
# first use).
set -euo pipefail

commands=$(compgen -c)
has_llvm_tool() { # llvm-lipo or llvm-lipo-NN
  grep -qE "^$1(-[0-9]+)?$" <<<"$commands"
}

missing=()
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium chromium-driver)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
# scripts/watchdog.sh prints a hung test's stacks with gdb.
command -v gdb >/dev/null 2>&1 || missing+=(gdb)
if ! command -v xcrun >/dev/null 2>&1; then
  for tool in llvm-lipo llvm-nm llvm-objcopy llvm-objdump llvm-size; do
    has_llvm_tool "$tool" || { missing+=(llvm); break; }
  done
fi
command -v zip >/dev/null 2>&1 || missing+=(zip)
command -v cc >/dev/null 2>&1 || missing+=(gcc)
# The core built with the Apple targets' choices on Linux links the system's SQLite and OpenSSL.
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
pkg-config --exists sqlite3 2>/dev/null || missing+=(libsqlite3-dev)
pkg-config --exists openssl 2>/dev/null || missing+=(libssl-dev)
# The bridge's Postgres tests start a throwaway cluster (scripts/throwaway-postgres.sh).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "setup: please install: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}"
timeout 900 apt-get update -qq
DEBIAN_FRONTEND=noninteractive timeout 1200 apt-get install -y -qq "${missing[@]}" >/dev/null
