#!/usr/bin/env bash
# The Ardoise bench demo: builds loop "drives" holding realistic data (partition table,
# filesystem, files), shows what Ardoise sees, erases them, verifies and certifies, then
# cleans up everything it created (by exact name). Needs root (loop devices).
set -euo pipefail
ARDOISE=${1:?usage: demo.sh PATH-TO-ardoise}
[ "$(id -u)" -eq 0 ] || { echo "La démo doit être lancée en root (périphériques loop) / run the demo as root." >&2; exit 1; }

WORK=$(mktemp -d /tmp/ardoise-demo.XXXXXX)
DATA=$WORK/data
DAEMON=
LOOPS=()
MOUNTS=()
cleanup() {
  set +e
  [ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null
  for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
  for l in "${LOOPS[@]}"; do partx -d "$l" 2>/dev/null; losetup -d "$l" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# make_drive NAME SIZE TABLE: a sparse file, a loop device, a partition table (gpt, dos or
# none) and an ext4 filesystem holding a few "donor" files. Sets DRIVE to the loop device.
# (Not called in $(...): LOOPS must be recorded in this shell for the cleanup.)
make_drive() {
  local name=$1 size=$2 table=$3
  truncate -s "$size" "$WORK/$name.img"
  local loop
  loop=$(losetup -f --show -P "$WORK/$name.img")
  LOOPS+=("$loop")
  local fsdev=$loop
  if [ "$table" != none ]; then
    printf 'label: %s\n,\n' "$table" | sfdisk -q "$loop"
    partx -a "$loop" 2>/dev/null || true
    fsdev=${loop}p1
  fi
  mkfs.ext4 -q -F -L "$name" "$fsdev"
  mkdir -p "$WORK/mnt-$name"
  mount "$fsdev" "$WORK/mnt-$name"
  MOUNTS+=("$WORK/mnt-$name")
  mkdir -p "$WORK/mnt-$name/Documents"
  printf 'Facture 2024-%03d — client confidentiel\n' $(seq 1 200) > "$WORK/mnt-$name/Documents/factures.txt"
  head -c 2M /dev/urandom > "$WORK/mnt-$name/Documents/photos.tar"
  umount "$WORK/mnt-$name"
  unset 'MOUNTS[${#MOUNTS[@]}-1]'
  DRIVE=$loop
}

say "Création de 3 disques de démonstration / creating 3 demo drives"
make_drive poste-compta 96M gpt; D1=$DRIVE
make_drive portable-rh 64M dos; D2=$DRIVE
make_drive cle-usb 48M none; D3=$DRIVE
echo "$D1 (GPT + ext4), $D2 (MBR + ext4), $D3 (ext4)"

say "Ce que voit Ardoise / what Ardoise sees (ardoise list --allow-virtual)"
"$ARDOISE" list --allow-virtual --data-dir "$DATA"

say "1. Effacement direct / one-shot erasure: ardoise wipe $D1 $D2 --profile nist-800-88-clear"
"$ARDOISE" wipe "$D1" "$D2" --profile nist-800-88-clear --yes --allow-virtual \
  --data-dir "$DATA" --technician "Awa (démo)" --donor "Mairie de Rennes" --lot "DEMO-$(date +%Y%m%d)" || true

say "Le disque est-il vraiment vide ? / is the drive really blank? (ardoise wipe $D1 --profile verify-zero)"
"$ARDOISE" wipe "$D1" --profile verify-zero --yes --allow-virtual --data-dir "$DATA" || true

FIRST_JSON=$(ls "$DATA"/certificates/*.json | head -n 1)
say "2. Un donateur vérifie son certificat / a donor checks a certificate"
"$ARDOISE" cert verify "$FIRST_JSON" --data-dir "$DATA"
"$ARDOISE" cert verify "${FIRST_JSON%.json}.pdf" --data-dir "$DATA"
echo "Une copie modifiée d'un octet / a copy with one byte changed:"
sed 's/"payload":"e/"payload":"f/' "$FIRST_JSON" > "$WORK/tampered.json"
"$ARDOISE" cert verify "$WORK/tampered.json" --data-dir "$DATA" || echo "→ refusé, code $? / refused"

say "3. Le banc automatique / the unattended bench (ardoise daemon, mode auto)"
cat > "$WORK/ardoise.toml" <<TOML
[bench]
id = "demo-rennes-1"
name = "Banc de démonstration"
[organisation]
name = "Ordi Grand Ouest (démo)"
address = "Rennes"
[session]
technician = "Awa (démo)"
donor = "Mairie de Rennes"
lot = "DEMO-BANC"
[policy]
mode = "auto"
grace-seconds = 2
allow-virtual = true
loop-backing-directory = "$WORK/bench-drives"
max-concurrent-jobs = 4
[profiles]
# Three verified passes: long enough on the big drive to pull it out mid-erasure.
default = "dod-5220-22m"
[paths]
data-directory = "$DATA"
control-socket = "$WORK/control.sock"
TOML
mkdir -p "$WORK/bench-drives"
"$ARDOISE" daemon --config "$WORK/ardoise.toml" --hotplug-source kernel 2>"$WORK/daemon.log" &
DAEMON=$!
for _ in $(seq 1 100); do [ -S "$WORK/control.sock" ] && break; sleep 0.1; done

# Drives are "plugged in" one after another; the last one is pulled out mid-erasure.
# attach NAME SIZE: sets DRIVE (not called in $(...), so LOOPS is kept for the cleanup).
attach() {
  truncate -s "$2" "$WORK/bench-drives/$1.img"
  head -c 4M /dev/urandom | dd of="$WORK/bench-drives/$1.img" conv=notrunc status=none
  DRIVE=$(losetup -f --show "$WORK/bench-drives/$1.img")
  LOOPS+=("$DRIVE")
}
attach tour-dell 128M; B1=$DRIVE; echo "branché / plugged: $B1"
sleep 1
attach portable-hp 96M; B2=$DRIVE; echo "branché / plugged: $B2"
attach disque-usb 2048M; B3=$DRIVE; echo "branché / plugged: $B3 (gros disque / big drive)"
for _ in $(seq 1 100); do
  st=$("$ARDOISE" status --json --socket "$WORK/control.sock" 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); print(next((s["state"] for s in d["slots"] if s["device"]=="'"$B3"'"), "-"))' 2>/dev/null || true)
  [ "$st" = erasing ] || [ "$st" = verifying ] && break
  sleep 0.2
done
sleep 1
"$ARDOISE" status --socket "$WORK/control.sock" || true
echo "On débranche $B3 pendant l'effacement / pulling $B3 out mid-erasure"
losetup -d "$B3"
for _ in $(seq 1 300); do
  pending=$("$ARDOISE" status --json --socket "$WORK/control.sock" 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(1 for s in d["slots"] if s["state"] in ("waiting","queued","erasing","verifying")))' 2>/dev/null || echo 1)
  [ "$pending" = 0 ] && break
  sleep 0.3
done
"$ARDOISE" status --socket "$WORK/control.sock" || true
kill -TERM "$DAEMON"; wait "$DAEMON" || true

say "4. Le journal et le lot / the journal and the lot"
"$ARDOISE" journal verify --data-dir "$DATA"
"$ARDOISE" journal jobs --data-dir "$DATA"
VALID=()
for f in "$DATA"/certificates/*.json; do "$ARDOISE" cert verify "$f" --data-dir "$DATA" >/dev/null 2>&1 && VALID+=("$f"); done
# The lot of the unattended bench: certificates of the one-shot wipes (another lot) are left out, and said so.
"$ARDOISE" cert lot "${VALID[@]}" --lot DEMO-BANC --output "$DATA/certificates/lot-demo.pdf" --data-dir "$DATA"

say "5. Un SSD : la purge par son firmware, en simulation / an SSD: firmware purge, dry run (ardoise sanitize --method auto --dry-run)"
# Nothing is sent: a simulated SATA SSD answers, and every command the real run would send is
# printed in the audit grammar (the real run journals the same lines). Profiles
# nist-800-88-purge(-overwrite) run this from `ardoise wipe` and the daemon, then verify.
"$ARDOISE" sanitize /dev/sdX --method auto --dry-run --device-type sat

say "6. Santé des disques / drive health (ardoise health)"
# Saved smartctl outputs (the test fixtures) stand in for real drives: a healthy one and a
# failing one. A loop device has no SMART: its health is "unknown", never "reuse".
FIXTURES="$(cd "$(dirname "$0")/.." && pwd)/Tests/DiagnosticsTests/Fixtures"
"$ARDOISE" health --smart-from "$FIXTURES/ata-hdd-healthy.json" || true
"$ARDOISE" health --smart-from "$FIXTURES/ata-hdd-failing.json" || echo "→ code $? : à détruire / discard"
{ "$ARDOISE" health --smart-from "$FIXTURES/ata-hdd-failing.json" --json || true; } \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); print("JSON:", d["verdict"], [r["code"] for r in d["reasons"]])'
"$ARDOISE" health "$D1" || echo "→ code $? : SMART illisible sur un loop / no SMART on a loop device"
say "7. Ce PC / this PC: ardoise inventory --sign --pdf (modèle, processeur, mémoire, disques, écran, batterie)"
# Signed with the bench key and journaled like a certificate; the sheet is French then English.
"$ARDOISE" inventory --sign --data-dir "$DATA" --output-dir "$DATA/certificates" --pdf "$DATA/certificates/fiche-pc.pdf"
# 8. The network's store: enrol this bench, push its certificates, open the donor page.
STORE_BIN=$(dirname "$ARDOISE")/ardoise-store
if [ -x "$STORE_BIN" ]; then
  say "8. Le registre du réseau / the network's store (ardoise-store, SQLite)"
  "$(dirname "$0")/demo-store.sh" "$ARDOISE" "$STORE_BIN" "$DATA" "$WORK"
else
  echo "(ardoise-store absent à côté de $ARDOISE : étape du registre sautée / not built: store step skipped)"
fi

say "Certificats / certificates (JSON signés + PDF) : $DATA/certificates"
ls -1 "$DATA/certificates"
if [ -n "${ARDOISE_DEMO_KEEP:-}" ]; then
  mkdir -p "$ARDOISE_DEMO_KEEP" && cp -r "$DATA/certificates" "$ARDOISE_DEMO_KEEP/"
  echo "Copiés dans / copied to $ARDOISE_DEMO_KEEP/certificates"
else
  echo "(ARDOISE_DEMO_KEEP=/chemin pour les garder / to keep them; le reste est supprimé / the rest is removed)"
fi

say "Démo terminée ; nettoyage / demo done; cleaning up"
