#!/usr/bin/env bash
# The store part of the demo (docs/store.md): starts ardoise-store on a SQLite file in WORK,
# enrols the demo bench's public key, pushes every certificate of DATA/certificates, pushes one
# again (already stored) and a tampered copy (refused), shows the donor page's verdict and its
# URL. The store is stopped by its exact PID and WORK's store files are removed on exit.
#
#   scripts/demo-store.sh ARDOISE ARDOISE_STORE DATA_DIR WORK_DIR
#
# Pushes with curl, the exact request the bench's outbox sender makes (docs/store-api.yaml).
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

# push FILE: prints the HTTP status and the store's answer.
push() {
  local status
  status=$(curl -sS -o "$STORE_DIR/reply.json" -w '%{http_code}' -X POST "$BASE/api/v1/records" \
    -H "Authorization: Bearer $(cat "$STORE_DIR/bench.token")" -H 'Content-Type: application/jose+json' \
    --data-binary @"$1")
  printf '%s %s  %s\n' "$status" "$(cat "$STORE_DIR/reply.json")" "$(basename "$1")"
}

say "Envoi des certificats / pushing the certificates (POST $BASE/api/v1/records)"
FIRST=
for f in "$DATA"/certificates/*.json; do
  push "$f"
  [ -z "$FIRST" ] && FIRST=$f
done
[ -n "$FIRST" ] || { echo "no certificate to push" >&2; exit 1; }
say "Le même envoi deux fois / the same push twice (idempotent)"
push "$FIRST"
say "Une copie modifiée / a tampered copy"
sed 's/"signature":"\(.\)/"signature":"A\1/' "$FIRST" >"$STORE_DIR/tampered.json"
push "$STORE_DIR/tampered.json" || true

ID=$(basename "$FIRST" .json)
SHA=$(sha256sum "$FIRST" | cut -d' ' -f1)
say "Ce que voit le donateur / what the donor sees: $BASE/c/$ID?h=$SHA"
curl -sS -H 'Accept-Language: fr' "$BASE/c/$ID?h=$SHA" | sed -n 's|.*id="verdict">\([^<]*\)<.*|\1|p'
echo "Octet pour octet / byte for byte: $(curl -sS "$BASE/api/v1/certificates/$ID" | sha256sum | cut -d' ' -f1) = $SHA"
