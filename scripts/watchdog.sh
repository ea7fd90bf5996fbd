#!/usr/bin/env bash
# Runs a test step so that a hang fails fast and explains itself.
#
#   scripts/watchdog.sh [--idle SECONDS] [--name NAME] -- COMMAND [ARG...]
#
# COMMAND runs in a session of its own; its output (stdout and stderr, merged) passes through.
# When it prints nothing for --idle seconds (default 300), or when this script is told to stop
# (SIGTERM from an outer `timeout`, SIGINT), the watchdog prints every thread's stack of every
# process of the session (gdb), kills the session and exits 124. Whatever the outcome, nothing
# COMMAND started (a sandbox child, a test runner's helpers) outlives the step. Otherwise it
# exits with COMMAND's status.
set -uo pipefail

idle=300
name=""
while [ $# -gt 0 ]; do
  case $1 in
    --idle) idle=$2; shift 2 ;;
    --name) name=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--idle SECONDS] [--name NAME] -- COMMAND [ARG...]" >&2; exit 2; }
name=${name:-$1}

fifo=$(mktemp -u "${TMPDIR:-/tmp}/watchdog.XXXXXX")
mkfifo "$fifo"
# A background child of a non-interactive shell is not a process-group leader, so setsid(1)
# makes the new session in place: the child's pid is the session's id.
setsid "$@" >"$fifo" 2>&1 </dev/null &
session=$!
exec 3<"$fifo"
rm -f "$fifo"

# Every process still in the session.
members() {
  ps -eo pid=,sid= | awk -v sid="$session" '$2 == sid { print $1 }'
}

# Every thread's stack of every process of the session; gdb reads each process's libraries
# through /proc/PID/root, so processes in a chroot (the Swift runner) are read too.
dump_stacks() {
  local pid
  if ! command -v gdb >/dev/null 2>&1; then
    echo "watchdog: gdb is missing, no stacks (scripts/setup.sh installs it)"
    ps -o pid,stat,etime,args --sid "$session" 2>/dev/null || true
    return
  fi
  for pid in $(members); do
    echo "---- process $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-200)"
    timeout 60 gdb -p "$pid" -batch -nx -q \
      -ex "set sysroot /proc/$pid/root" -ex "set pagination off" \
      -ex "thread apply all bt 40" 2>&1 | grep -vE '^(\[New LWP|warning: )' || true
  done
}

kill_session() {
  local pids
  pids=$(members)
  [ -n "$pids" ] || return 0
  # shellcheck disable=SC2086 # one pid per word
  kill -TERM $pids 2>/dev/null
  sleep 2
  pids=$(members)
  # shellcheck disable=SC2086
  [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
  return 0
}

hang() {
  printf '\n!!! watchdog: %s: %s; stacks of every thread follow, then the step is killed\n' "$name" "$1"
  dump_stacks
  kill_session
  printf '!!! watchdog: %s killed (%s)\n' "$name" "$1"
  exit 124
}

trap 'hang "stopped by a signal (the step timed out?)"' TERM INT

# Whether COMMAND itself is still running (it is a zombie until `wait` reaps it).
running() {
  local state
  state=$(ps -o stat= -p "$session" 2>/dev/null)
  [ -n "$state" ] && [ "${state:0:1}" != Z ]
}

last=$SECONDS
while true; do
  IFS= read -r -t 5 line <&3
  status=$?
  if [ "$status" -eq 0 ]; then
    printf '%s\n' "$line"
    last=$SECONDS
    continue
  fi
  # A partial line is kept by read when it times out: pass it on too.
  [ -n "${line:-}" ] && { printf '%s' "$line"; last=$SECONDS; }
  # Above 128: read's timeout; otherwise the output ended.
  [ "$status" -gt 128 ] || break
  # COMMAND ended, but something it started still holds the output open: killed below.
  running || break
  [ $((SECONDS - last)) -ge "$idle" ] && hang "no output for $idle s"
done
wait "$session"
rc=$?
kill_session
exit "$rc"
