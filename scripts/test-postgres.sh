#!/usr/bin/env bash
# A private PostgreSQL cluster for the store's tests: created as the `postgres` user in a
# temporary directory, listening on 127.0.0.1 and a free port only (no Unix socket outside
# that directory), removed by `stop`. Nothing of the machine's own PostgreSQL is touched.
#
#   scripts/test-postgres.sh start STATE_FILE   prints the URL, writes STATE_FILE (dir, pid, url)
#   scripts/test-postgres.sh stop  STATE_FILE   stops that cluster by its exact PID, removes its directory
#
# The URL has the form postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable; the tests read
# it from ARDOISE_TEST_POSTGRES_URL.
set -euo pipefail

action=${1:-}
state=${2:-}
if [[ -z "$action" || -z "$state" ]]; then
    echo "usage: $0 start|stop STATE_FILE" >&2
    exit 64
fi

find_bin() {
    local dir
    for dir in ${PG_BIN:-} /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then echo "$dir"; return 0; fi
    done
    echo "test-postgres: initdb not found (install Debian's postgresql)" >&2
    return 1
}

free_port() {
    python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

# Runs a command as the postgres user (initdb refuses root), or as ourselves when not root.
as_postgres() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "$action" in
start)
    bin=$(find_bin)
    dir=$(mktemp -d /tmp/ardoise-test-pg.XXXXXX)
    chmod 0755 "$dir"
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; fi
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2; rm -rf "$dir"; exit 1; }
    port=$(free_port)
    # fsync stays on: the fault tests kill the store, not PostgreSQL, but the cluster should
    # behave as in production.
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200" start >/dev/null || {
        cat "$dir/server.log" >&2; rm -rf "$dir"; exit 1; }
    pid=$(head -1 "$dir/data/postmaster.pid")
    url="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
    printf 'dir=%s\npid=%s\nurl=%s\nbin=%s\n' "$dir" "$pid" "$url" "$bin" >"$state"
    echo "$url"
    ;;
stop)
    [[ -f "$state" ]] || exit 0
    dir=$(sed -n 's/^dir=//p' "$state")
    pid=$(sed -n 's/^pid=//p' "$state")
    bin=$(sed -n 's/^bin=//p' "$state")
    if [[ -z "$dir" ]]; then rm -f "$state"; exit 0; fi  # start failed before creating anything
    case "$dir" in /tmp/ardoise-test-pg.*) ;; *) echo "test-postgres: refusing to remove '$dir'" >&2; exit 1 ;; esac
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
        # Still there (pg_ctl failed): end that exact postmaster.
        if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; sleep 2; kill -KILL "$pid" 2>/dev/null || true; fi
    fi
    rm -rf "$dir"
    rm -f "$state"
    ;;
*)
    echo "usage: $0 start|stop STATE_FILE" >&2
    exit 64
    ;;
esac
