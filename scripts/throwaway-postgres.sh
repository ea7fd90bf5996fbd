#!/usr/bin/env bash
# A throwaway Postgres cluster for tests, from Debian's packages (no Docker):
#   scripts/throwaway-postgres.sh start       initdb in a new temporary DIR, start on a free loopback
#                                             port, print its URL (postgres://postgres@127.0.0.1:
#                                             PORT/postgres) then DIR, one a line
#   scripts/throwaway-postgres.sh stop DIR    stop it (fast) and keep DIR
#   scripts/throwaway-postgres.sh restart DIR start it again on the same port
#   scripts/throwaway-postgres.sh remove DIR  stop it if running and delete DIR
# Trust authentication, loopback and DIR's socket only: test data, nothing else. As root (CI),
# the cluster runs as the `postgres` user, since Postgres refuses to run as root.
set -euo pipefail
command=${1:?start, stop, restart or remove}
bin=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "throwaway-postgres: no postgresql installed (apt-get install postgresql)" >&2; exit 3; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_on() { # port
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 \
    -o "-p $1 -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
}

case $command in
  start)
    # Its own folder under /tmp, which the postgres user can reach when we are root.
    dir=$(mktemp -d /tmp/passerelle-postgres.XXXXXX)
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync >/dev/null
    for _ in $(seq 1 20); do
      port=$((20000 + RANDOM % 30000))
      if start_on "$port" 2>/dev/null; then
        echo "$port" >"$dir/port"
        echo "postgres://postgres@127.0.0.1:$port/postgres"
        echo "$dir"
        exit 0
      fi
    done
    echo "throwaway-postgres: no free port found" >&2
    exit 1
    ;;
  stop)
    dir=${2:?a directory}
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  restart)
    dir=${2:?a directory}
    start_on "$(cat "$dir/port")"
    ;;
  remove)
    dir=${2:?a directory}
    case $dir in /tmp/passerelle-postgres.*) ;; *) echo "throwaway-postgres: not one of ours: $dir" >&2; exit 2 ;; esac
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "throwaway-postgres: unknown command $command" >&2
    exit 2
    ;;
esac
