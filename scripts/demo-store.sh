#!/usr/bin/env bash
# The store part of the demo (docs/store.md): starts ardoise-store on a SQLite file in WORK,
# enrols the demo bench's public key, sends the bench's outbox (every certificate and the
# inventory) with the bench's own `ardoise push`, sends it again from a backup of the journal
# taken before (the store answers "already stored"), sends a tampered copy with curl (the bench
# never sends what it did not sign; refused), shows the donor page's verdict and its URL. The
# store is stopped by its exact PID and WORK's store files are removed on exit.
#
#   scripts/demo-store.sh ARDOISE ARDOISE_STORE DATA_DIR WORK_DIR
set -euo pipefail
ARDOISE=${1:?usage: demo-store.sh ARDOISE ARDOISE_STORE DATA_DIR WORK_DIR}
STORE=${2:?usage}
DATA=${3:?usage}
WORK=${4:?usage}

STORE_DIR=$WORK/store
mkdir -p "$STORE_DIR"
STORE_PID=
stop_store() {
  set +e
  if [ -n "$STORE_PID" ]; then kill "$STORE_PID" 2>/dev/null; wait "$STORE_PID" 2>/dev/null; STORE_PID=; fi
  rm -rf "$STORE_DIR"
}
trap stop_store EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
DB=$STORE_DIR/store.sqlite

say "Registre de traçabilité / traceability store: ardoise-store serve --db $DB"
"$ARDOISE" key export-public --data-dir "$DATA" --output "$STORE_DIR/bench.jwk"
"$STORE" benches add --db "$DB" --name "Banc de démonstration" --organisation "Atelier de démonstration" \
  --jwk "$STORE_DIR/bench.jwk" --token-file "$STORE_DIR/bench.token"
"$STORE" serve --listen 127.0.0.1:0 --db "$DB" >"$STORE_DIR/serve.log" 2>&1 &
STORE_PID=$!
PORT=
for _ in $(seq 1 200); do
  PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$STORE_DIR/serve.log" | head -n 1)
  [ -n "$PORT" ] && break
  kill -0 "$STORE_PID" 2>/dev/null || { cat "$STORE_DIR/serve.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$PORT" ] || { echo "ardoise-store did not start" >&2; exit 1; }
BASE=http://127.0.0.1:$PORT

# The bench's configuration for `ardoise push`: its data directory and this store.
bench_config() {  # bench_config DATA_DIR FILE
  cat >"$2" <<TOML
[bench]
id = "banc-demo"

[paths]
data-directory = "$1"
control-socket = "$STORE_DIR/control.sock"

[store]
url = "$BASE"
token-file = "$STORE_DIR/bench.token"
TOML
}
bench_config "$DATA" "$STORE_DIR/ardoise.toml"

# A backup of the bench's journal taken before sending (SQLite's online backup): sent again
# later, as after a bench restored from its backup, the store must store nothing twice.
mkdir -m 0700 "$STORE_DIR/backup"
python3 -c 'import sqlite3, sys; src = sqlite3.connect(sys.argv[1]); dst = sqlite3.connect(sys.argv[2]); src.backup(dst); dst.close(); src.close()' \
  "$DATA/journal.sqlite" "$STORE_DIR/backup/journal.sqlite"
bench_config "$STORE_DIR/backup" "$STORE_DIR/backup.toml"

# push CONFIG: `ardoise push --json`, shown as one plain line per record with the store's HTTP answer.
push() {
  local status=0
  "$ARDOISE" push --config "$1" --json >"$STORE_DIR/push.json" || status=$?
  python3 - "$STORE_DIR/push.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for i in d["sent"]:
    print(f'201 enregistré      {i["kind"]} {i["recordID"]}')
for i in d["alreadyStored"]:
    print(f'200 déjà présent    {i["kind"]} {i["recordID"]}')
for i in d["refused"]:
    print(f'{i.get("httpStatus")} refusé ({i.get("code")})  {i["kind"]} {i["recordID"]} : {i.get("message")}')
p = d["pending"]
print(f'{len(d["sent"])} envoyé(s), {len(d["alreadyStored"])} déjà présent(s), {len(d["refused"])} refusé(s), '
      f'{p["count"]} en attente d\'envoi' + (f' ({p["code"]})' if p.get("code") else ''))
PY
  return "$status"
}

say "Envoi par le banc / the bench sends its outbox: ardoise push (POST $BASE/api/v1/records)"
push "$STORE_DIR/ardoise.toml"
FIRST=
for f in "$DATA"/certificates/*.json; do
  case $(basename "$f") in inventory-*) continue ;; esac
  FIRST=$f
  break
done
[ -n "$FIRST" ] || { echo "no certificate to push" >&2; exit 1; }
say "Le même envoi deux fois / the same records again, from a backup of the journal (idempotent)"
push "$STORE_DIR/backup.toml"
say "Une copie modifiée, envoyée avec curl / a tampered copy, sent with curl (ardoise push only sends what the bench signed)"
sed 's/"signature":"\(.\)/"signature":"A\1/' "$FIRST" >"$STORE_DIR/tampered.json"
status=$(curl -sS -o "$STORE_DIR/reply.json" -w '%{http_code}' -X POST "$BASE/api/v1/records" \
  -H "Authorization: Bearer $(cat "$STORE_DIR/bench.token")" -H 'Content-Type: application/jose+json' \
  --data-binary @"$STORE_DIR/tampered.json")
printf '%s %s  copie modifiée de %s (curl) : refusée\n' "$status" \
  "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["error"]["code"])' "$STORE_DIR/reply.json")" "$(basename "$FIRST")"

ID=$(basename "$FIRST" .json)
SHA=$(sha256sum "$FIRST" | cut -d' ' -f1)
say "Ce que voit le donateur / what the donor sees: $BASE/c/$ID?h=$SHA"
curl -sS -H 'Accept-Language: fr' "$BASE/c/$ID?h=$SHA" | sed -n 's|.*id="verdict">\([^<]*\)<.*|\1|p'
echo "Octet pour octet / byte for byte: $(curl -sS "$BASE/api/v1/certificates/$ID" | sha256sum | cut -d' ' -f1) = $SHA"
