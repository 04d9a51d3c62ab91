#!/usr/bin/env bash
# A real ardoise-store for the bench sender's contract tests (Tests/StoreClientTests/
# ContractTests): a SQLite store in a temporary directory on 127.0.0.1 and a free port, with a
# test bench enrolled (its key in that directory). `stop` ends it by its exact PID and removes
# the directory. Nothing else is touched.
#
#   scripts/test-store.sh start STATE_FILE BIN_DIR   prints the ARDOISE_TEST_STORE_* assignments
#   scripts/test-store.sh stop  STATE_FILE
#
# BIN_DIR holds the built `ardoise` and `ardoise-store` (swift build --show-bin-path).
set -euo pipefail

action=${1:-}
state=${2:-}
if [[ -z "$action" || -z "$state" ]]; then
    echo "usage: $0 start STATE_FILE BIN_DIR | stop STATE_FILE" >&2
    exit 64
fi

case "$action" in
start)
    bin=${3:?usage: $0 start STATE_FILE BIN_DIR}
    dir=$(mktemp -d /tmp/ardoise-test-store.XXXXXX)
    printf 'dir=%q\n' "$dir" >"$state"
    "$bin/ardoise" key export-public --data-dir "$dir/bench" --output "$dir/bench.jwk" >/dev/null
    "$bin/ardoise-store" benches add --db "$dir/store.sqlite" --name "Banc des tests" --organisation "Tests Ardoise" \
        --jwk "$dir/bench.jwk" --token-file "$dir/token" >/dev/null
    "$bin/ardoise-store" serve --listen 127.0.0.1:0 --db "$dir/store.sqlite" </dev/null >"$dir/serve.log" 2>&1 &
    pid=$!
    printf 'pid=%q\n' "$pid" >>"$state"
    port=
    for _ in $(seq 1 300); do
        port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$dir/serve.log" | head -n 1)
        [[ -n "$port" ]] && break
        kill -0 "$pid" 2>/dev/null || { cat "$dir/serve.log" >&2; exit 1; }
        sleep 0.1
    done
    [[ -n "$port" ]] || { echo "test-store: ardoise-store did not start" >&2; exit 1; }
    echo "ARDOISE_TEST_STORE_URL=http://127.0.0.1:$port ARDOISE_TEST_STORE_TOKEN_FILE=$dir/token ARDOISE_TEST_STORE_BENCH_DATA=$dir/bench"
    ;;
stop)
    [[ -f "$state" ]] || exit 0
    dir= pid=
    # shellcheck disable=SC1090
    source "$state"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    [[ -n "$dir" && "$dir" == /tmp/ardoise-test-store.* ]] && rm -rf "$dir"
    rm -f "$state"
    ;;
*)
    echo "usage: $0 start STATE_FILE BIN_DIR | stop STATE_FILE" >&2
    exit 64
    ;;
esac
