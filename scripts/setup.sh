#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine, when it is missing: Chromium and
# ChromeDriver (the consent-page and back-office browser tests) and shellcheck (scripts). Needs
# root for apt; without it, says what to install. The Swift toolchain comes from SWIFT_RUNNER
# (../shared/tools/with-swift provisions it on first use).
set -euo pipefail

missing=()
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium chromium-driver)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "setup: please install: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}"
timeout 900 apt-get update -qq
DEBIAN_FRONTEND=noninteractive timeout 1200 apt-get install -y -qq "${missing[@]}" >/dev/null
