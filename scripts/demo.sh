#!/usr/bin/env bash
# The Ardoise bench demo: builds loop "drives" holding realistic data (partition table,
# filesystem, files), shows what Ardoise sees, erases them, verifies and certifies, then
# cleans up everything it created (by exact name). Needs root (loop devices).
set -euo pipefail
ARDOISE=${1:?usage: demo.sh PATH-TO-ardoise}
[ "$(id -u)" -eq 0 ] || { echo "La démo doit être lancée en root (périphériques loop) / run the demo as root." >&2; exit 1; }

WORK=$(mktemp -d /tmp/ardoise-demo.XXXXXX)
LOOPS=()
MOUNTS=()
cleanup() {
  set +e
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
"$ARDOISE" list --allow-virtual --data-dir "$WORK/data"

say "Un disque système est toujours protégé / the system disk is always protected"
"$ARDOISE" list --allow-virtual --data-dir "$WORK/data" -o name,hsize,tran,verdict,reasons | grep -v "^loop.* 0B " || true

say "Démo terminée ; nettoyage / demo done; cleaning up"
