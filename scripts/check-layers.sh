#!/usr/bin/env bash
# Keeps the core's layers as docs/architecture.md draws them, by reading every `crate::` path in
# core/src (comments left out):
#   facade (passerelle.rs)  ->  services/  ->  context.rs  ->  clients/  ->  foundations
# - no module imports the facade;
# - the context imports no service; the protocol clients import no service and not the context;
# - foundations (model, config, store, secrets, http, events, logging, time, error) import none
#   of the layers above them;
# - clients/hubrise never imports clients/pos (the POS broker forwards HubRise's token, so the
#   arrow goes the other way);
# - a service imports only services listed before it in SERVICE_ORDER (no cycle between them).
# Exits 1 and names each offending line.
set -euo pipefail
cd "$(dirname "$0")/../core/src"

SERVICE_ORDER=(retention health inbox sign_in connect off_device sync restart account)
failures=0

# `file:line:text` of every non-comment line of $1 (a file list) naming crate::$2.
uses() {
  local pattern=$1; shift
  [ "$#" -eq 0 ] && return 0
  grep -nHE "crate::(\\{[^}]*)?\\b(${pattern})\\b" "$@" | grep -vE '^[^:]+:[0-9]+:\s*//' || true
}

forbid() {
  local rule=$1 pattern=$2; shift 2
  local found
  found=$(uses "$pattern" "$@")
  if [ -n "$found" ]; then
    printf 'layer rule broken: %s\n%s\n\n' "$rule" "$found" >&2
    failures=$((failures + 1))
  fi
}

mapfile -t all < <(find . -name '*.rs' ! -path ./lib.rs | sort)
mapfile -t clients < <(find clients -name '*.rs' | sort)
mapfile -t hubrise < <(find clients/hubrise -name '*.rs' | sort)
mapfile -t foundations < <(find . -name '*.rs' ! -path ./lib.rs ! -path ./passerelle.rs \
  ! -path ./context.rs ! -path ./fuzzing.rs ! -path './clients/*' ! -path './services/*' | sort)

forbid "no module imports the facade" "passerelle" "${all[@]}"
forbid "the context imports no service" "services" context.rs
forbid "protocol clients import no service and not the context" "services|context" "${clients[@]}"
forbid "foundations import no client, service or context" "clients|services|context" "${foundations[@]}"
forbid "HubRise's clients do not import the POS backend's" "clients::pos" "${hubrise[@]}"

for index in "${!SERVICE_ORDER[@]}"; do
  service=${SERVICE_ORDER[$index]}
  later=("${SERVICE_ORDER[@]:$((index + 1))}")
  [ "${#later[@]}" -eq 0 ] && continue
  mapfile -t files < <(find "services/$service.rs" "services/$service" -name '*.rs' 2>/dev/null | sort)
  pattern="services::($(IFS='|'; echo "${later[*]}"))"
  forbid "services/$service uses only services listed before it" "$pattern" "${files[@]}"
  # Within services/, siblings are also reached as `super::`.
  found=$(grep -nHE "\\bsuper::($(IFS='|'; echo "${later[*]}"))\\b" "${files[@]}" || true)
  if [ -n "$found" ]; then
    printf 'layer rule broken: services/%s uses a later service\n%s\n\n' "$service" "$found" >&2
    failures=$((failures + 1))
  fi
done

if [ "$failures" -gt 0 ]; then
  echo "$failures layer rule(s) broken; see docs/architecture.md" >&2
  exit 1
fi
echo "layers: ok (${#all[@]} modules)"
