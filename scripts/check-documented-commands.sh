#!/usr/bin/env bash
# Every `cargo run` command the READMEs show works as written, from a clean checkout of HEAD:
# each is run with `--help` in place of its arguments (after its subcommand, if it has one) and
# must exit 0. `--release` is dropped (the same binaries, without a second optimised build);
# what is checked is that cargo finds the package and the binary and that they start.
set -euo pipefail
cd "$(dirname "$0")/.."
readmes=(README.md tests/sandbox/README.md ios-demo/README.md bindings/swift/README.md)
target_dir=$(cd "${CARGO_TARGET_DIR:-target}" 2>/dev/null && pwd -P || echo "$PWD/target")
checkout=$(mktemp -d)
trap 'rm -rf "$checkout"' EXIT
git clone -q --no-hardlinks . "$checkout"

mapfile -t commands < <(grep -hoE '^\s*cargo run[^#`]*' "${readmes[@]}" | sed -E 's/^\s+//; s/\s+$//' | sort -u)
[ "${#commands[@]}" -gt 0 ] || { echo "no cargo run command found in ${readmes[*]}" >&2; exit 1; }
failures=0
for command in "${commands[@]}"; do
  cargo_part=${command%% -- *}
  args=""
  [ "$cargo_part" != "$command" ] && args=${command#* -- }
  help=(--help)
  [[ "$args" =~ ^([a-z][a-z-]*)( |$) ]] && help=("${BASH_REMATCH[1]}" --help)
  read -r -a cargo_words <<<"${cargo_part//--release/}"
  printf '%s  ->  ' "$command"
  if (cd "$checkout" && CARGO_TARGET_DIR="$target_dir" timeout 900 "${cargo_words[@]}" --locked -q -- "${help[@]}" >/dev/null 2>"$checkout/.err"); then
    echo ok
  else
    echo FAILED; sed 's/^/    /' "$checkout/.err" | tail -5
    failures=$((failures + 1))
  fi
done

# An HTTP/1.1 request to 127.0.0.1:$1 through bash's /dev/tcp (no curl on a fresh machine):
# prints the answer, status line first.
http() {
  local port=$1 method=$2 path=$3 body=${4:-}
  exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
  printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s' \
    "$method" "$path" "${#body}" "$body" >&3
  cat <&3
  exec 3<&-
}

# The bridge's one command (README, "Run the bridge") runs as written, its `export` line
# included: it starts, says it is ready, signs the demo account in, and stops on SIGTERM.
bridge_block=$(awk '/^## Run the bridge/{s=1} s&&/^```sh/{b=1;next} b&&/^```/{exit} b' README.md)
printf 'the bridge as README starts it  ->  '
bridge_ok=false
(
  cd "$checkout"
  eval "${bridge_block//cargo run --release/CARGO_TARGET_DIR=\"$target_dir\" exec cargo run --locked -q}"
) >"$checkout/.bridge.log" 2>&1 &
bridge_pid=$!
for _ in $(seq 1 600); do
  if http 8490 GET /readyz 2>/dev/null | head -1 | grep -q ' 200 '; then
    grant='grant_type=password&client_id=passerelle-ios&username=demo%40example.com&password=demo-password'
    http 8490 POST /oauth/token "$grant" | grep -q '"access_token"' && bridge_ok=true
    break
  fi
  kill -0 "$bridge_pid" 2>/dev/null || break
  sleep 1
done
kill -TERM "$bridge_pid" 2>/dev/null || true
if wait "$bridge_pid" && $bridge_ok; then
  echo ok
else
  echo FAILED; tail -5 "$checkout/.bridge.log" | sed 's/^/    /'
  failures=$((failures + 1))
fi

[ "$failures" -eq 0 ] || { echo "$failures documented command(s) do not work as written" >&2; exit 1; }
echo "documented commands: $(( ${#commands[@]} + 1 )) ok"
