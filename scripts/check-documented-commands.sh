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
[ "$failures" -eq 0 ] || { echo "$failures documented command(s) do not work as written" >&2; exit 1; }
echo "documented commands: ${#commands[@]} ok"
