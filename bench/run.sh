#!/usr/bin/env bash
# Ardoise benchmark: Ardoise beside fio and nwipe on the same loop devices, backed by files on
# a tmpfs this script mounts and by files on disk (/var/tmp), for one drive and four at once.
# Runs the tools interleaved for ROUNDS rounds because the machine is noisy (Ardoise, fio, nwipe;
# then fio, nwipe, Ardoise; ...: the order rotates from round to round), and reports medians and
# the median of per-round ratios.
#
#   usage: bench/run.sh PATH-TO-ardoise        (as root; `make bench` builds and calls it)
#   env:   ROUNDS=3  SIZE_MIB=2048 (one drive)  SIZE4_MIB=1024 (each of four drives)
#          NWIPE_MIB=1024 NWIPE4_MIB=512 (nwipe devices: nwipe is ~20x slower, so it gets smaller devices;
#          rates are compared, not times)  BACKINGS="tmpfs disk"
#
# Creates only its own files, tmpfs and loop devices, and removes each by exact name on exit.
# Writes the table to stdout and to bench/results/latest.md.
set -euo pipefail

ARDOISE=${1:?usage: bench/run.sh PATH-TO-ardoise}
ARDOISE=$(readlink -f "$ARDOISE")
ROUNDS=${ROUNDS:-3}
SIZE_MIB=${SIZE_MIB:-2048}
SIZE4_MIB=${SIZE4_MIB:-1024}
NWIPE_MIB=${NWIPE_MIB:-1024}
NWIPE4_MIB=${NWIPE4_MIB:-512}
BACKINGS=${BACKINGS:-"tmpfs disk"}
DEPTHS=(1 4 16)

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
RESULTS=${RESULTS:-$HERE/results/latest.md}

[ "$(id -u)" -eq 0 ] || { echo "run as root (loop devices, tmpfs)" >&2; exit 1; }
[ -x "$ARDOISE" ] || { echo "not executable: $ARDOISE" >&2; exit 1; }

# The peers and the tools used to measure.
missing=()
command -v fio >/dev/null || missing+=(fio)
command -v nwipe >/dev/null || missing+=(nwipe)
[ -x /usr/bin/time ] || missing+=(time)
command -v python3 >/dev/null || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Memory: tmpfs holds one drive, four drives and the nwipe drives; keep 4 GiB spare.
TMPFS_MIB=$(( SIZE_MIB + 4 * SIZE4_MIB + NWIPE_MIB + 4 * NWIPE4_MIB + 72 ))
avail_mib=$(awk '/MemAvailable/ { print int($2 / 1024) }' /proc/meminfo)
if [[ " $BACKINGS " == *" tmpfs "* ]] && [ "$avail_mib" -lt $(( TMPFS_MIB + 4096 )) ]; then
  echo "not enough free memory for a ${TMPFS_MIB} MiB tmpfs (available: ${avail_mib} MiB); lower SIZE_MIB/SIZE4_MIB" >&2
  exit 1
fi

WORK=$(mktemp -d /tmp/ardoise-bench.XXXXXX)
DISKDIR=$(mktemp -d /var/tmp/ardoise-bench.XXXXXX)
TMPFS_DIR=$WORK/tmpfs
LOOPS=()
TMPFS_MOUNTED=0
cleanup() {
  set +e
  for l in "${LOOPS[@]}"; do losetup -d "$l"; done
  [ "$TMPFS_MOUNTED" = 1 ] && umount "$TMPFS_DIR"
  rm -rf "$WORK" "$DISKDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Built-in profiles plus the benchmark-only ones (ARDOISE_PROFILES_DIR replaces the built-in dir).
PROFILES=$WORK/profiles
mkdir -p "$PROFILES"
cp "$REPO"/Profiles/*.toml "$HERE"/profiles/*.toml "$PROFILES"/
export ARDOISE_PROFILES_DIR=$PROFILES
"$ARDOISE" profiles >/dev/null || { echo "ardoise profiles failed with ARDOISE_PROFILES_DIR=$PROFILES" >&2; exit 1; }

RAW=$WORK/raw.tsv
: > "$RAW"
# record BACKING CASE TOOL ROUND MBPS RSS_KIB WALL_S
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$RAW"; }

# make_loop DIR NAME MIB: a file of MIB MiB (allocated, not sparse) and a loop device on it.
# Sets LOOP. Not called in $(...) so that LOOPS is recorded in this shell.
make_loop() {
  local file=$1/$2.img
  fallocate -l "$(( $3 * 1024 * 1024 ))" "$file" 2>/dev/null || truncate -s "$(( $3 * 1024 * 1024 ))" "$file"
  LOOP=$(losetup -f --show "$file")
  LOOPS+=("$LOOP")
}

now() { date +%s.%N; }

# zero_dev DEV: fills DEV with zeros (preparation for the read-only checks; not measured).
zero_dev() { dd if=/dev/zero of="$1" bs=4M oflag=direct status=none 2>/dev/null || [ "$(blockdev --getsize64 "$1")" -gt 0 ]; }

# ardoise_run BACKING CASE ROUND PROFILE WORKFACTOR DEV...: one `ardoise wipe`; the rate is
# the engine's (bytes written + verified, over each job's own time, from the job-finished
# lines); for several drives, total work over the slowest job's time. WORKFACTOR is how many
# times each byte is touched (2 for a pass plus verification).
ardoise_run() {
  local backing=$1 case=$2 round=$3 profile=$4 factor=$5; shift 5
  local data=$WORK/data-$RANDOM$RANDOM out=$WORK/ardoise.json tv=$WORK/time.txt
  local t0 t1
  t0=$(now)
  # Exit 30: the benchmark-only profiles have no verification, so their certificates say
  # "erased with exceptions"; the job itself must still have succeeded (checked below).
  local rc=0
  /usr/bin/time -v -o "$tv" "$ARDOISE" wipe "$@" --profile "$profile" --yes --allow-virtual --json --data-dir "$data" > "$out" 2> "$WORK/ardoise.err" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 30 ]; then
    echo "ardoise wipe failed ($case, $profile, exit $rc):" >&2; tail -5 "$WORK/ardoise.err" >&2; tail -3 "$out" >&2
    rm -rf "$data"; exit 1
  fi
  t1=$(now)
  rm -rf "$data"
  local rss sizes=()
  rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tv")
  for d in "$@"; do sizes+=("$(blockdev --getsize64 "$d")"); done
  engine_rate "$out" "$factor" "$@" > "$WORK/rate"
  local wall total=0
  for s in "${sizes[@]}"; do total=$(( total + s )); done
  wall=$(python3 -c "print('%.3f' % ($t1 - $t0))")
  record "$backing" "$case" ardoise "$round" "$(cat "$WORK/rate")" "$rss" "$wall"
  record "$backing" "$case" ardoise-wall "$round" "$(python3 -c "print('%.1f' % ($factor * $total / $wall / 1e6))")" "$rss" "$wall"
}

# fio_run and engine_rate: bench/lib.sh.
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

# nwipe_run BACKING CASE ROUND FACTOR OPTIONS DEV...: timed externally (wall clock, start-up
# included; nwipe prints no precise rate).
nwipe_run() {
  local backing=$1 case=$2 round=$3 factor=$4 opts=$5; shift 5
  local t0 t1 total=0
  for d in "$@"; do total=$(( total + $(blockdev --getsize64 "$d") )); done
  t0=$(now)
  # shellcheck disable=SC2086
  (cd "$WORK" && nwipe --autonuke --nogui --nowait --rounds=1 --noblank $opts -l "$WORK/nwipe.log" "$@" < /dev/null > /dev/null 2>&1) \
    || { echo "nwipe failed:" >&2; tail -20 "$WORK/nwipe.log" >&2; exit 1; }
  t1=$(now)
  grep -q "Nwipe successfully completed" "$WORK/nwipe.log" || { echo "nwipe did not complete:" >&2; tail -20 "$WORK/nwipe.log" >&2; exit 1; }
  rm -f "$WORK/nwipe.log"
  [ "$case" = overhead ] && { NWIPE_OVERHEAD=$(python3 -c "print('%.3f' % ($t1 - $t0))"); return; }
  record "$backing" "$case" nwipe-wall "$round" "$(python3 -c "print('%.1f' % ($factor * $total / ($t1 - $t0) / 1e6))")" "" \
    "$(python3 -c "print('%.3f' % ($t1 - $t0))")"
  # Net of nwipe's fixed start-up and exit time (measured on a tiny device in the same round),
  # so that the small nwipe devices do not handicap it.
  record "$backing" "$case" nwipe "$round" \
    "$(python3 -c "print('%.1f' % ($factor * $total / max($t1 - $t0 - $NWIPE_OVERHEAD, 0.05) / 1e6))")" "" \
    "$(python3 -c "print('%.3f' % ($t1 - $t0 - $NWIPE_OVERHEAD))")"
}

# rotate ROUND COMMAND...: runs the commands (one per tool) once each, in an order that
# rotates from round to round (round 1: A B C, round 2: B C A, ...), so that whatever runs
# first or just after another tool (a loop worker still busy, writeback of nwipe's buffered
# writes) does not always hit the same tool.
rotate() {
  local round=$1; shift
  local count=$# k
  local commands=("$@")
  for (( k = 0; k < count; k++ )); do
    eval "${commands[$(( (k + round - 1) % count ))]}"
  done
}

START=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for backing in $BACKINGS; do
  if [ "$backing" = tmpfs ]; then
    mkdir -p "$TMPFS_DIR"
    mount -t tmpfs -o "size=${TMPFS_MIB}m" ardoise-bench "$TMPFS_DIR"
    TMPFS_MOUNTED=1
    dir=$TMPFS_DIR
  else
    dir=$DISKDIR
  fi
  make_loop "$dir" one "$SIZE_MIB"; ONE=$LOOP
  FOUR=()
  for i in 1 2 3 4; do make_loop "$dir" four$i "$SIZE4_MIB"; FOUR+=("$LOOP"); done
  make_loop "$dir" nwipe "$NWIPE_MIB"; NW=$LOOP
  make_loop "$dir" nwipe-tiny 8; NWT=$LOOP
  NW4=()
  for i in 1 2 3 4; do make_loop "$dir" nwipe4-$i "$NWIPE4_MIB"; NW4+=("$LOOP"); done
  echo "== $backing: one drive $ONE (${SIZE_MIB} MiB), four drives ${FOUR[*]} (${SIZE4_MIB} MiB each), nwipe $NW (${NWIPE_MIB} MiB), ${NW4[*]} (${NWIPE4_MIB} MiB each)" >&2

  # Fresh (fallocated) backing files are slower on their first write (tmpfs pages and disk
  # extents are made ready then), which would handicap whichever tool writes first in round
  # 1: write every device once before timing anything.
  for d in "$ONE" "${FOUR[@]}" "$NW" "${NW4[@]}"; do zero_dev "$d"; done
  for round in $(seq 1 "$ROUNDS"); do
    echo "-- $backing round $round/$ROUNDS" >&2
    nwipe_run "$backing" overhead "$round" 1 "--method=zero --verify=off" "$NWT"
    # Zero pass.
    rotate "$round" \
      'ardoise_run "$backing" zero "$round" bench-zero 1 "$ONE"' \
      'fio_run "$backing" zero "$round" write "--zero_buffers" "$ONE"' \
      'nwipe_run "$backing" zero "$round" 1 "--method=zero --verify=off" "$NW"'
    # PRNG pass: fio writes fresh random buffers on every submit.
    rotate "$round" \
      'ardoise_run "$backing" prng "$round" bench-prng 1 "$ONE"' \
      'fio_run "$backing" prng "$round" write "--refill_buffers" "$ONE"' \
      'nwipe_run "$backing" prng "$round" 1 "--method=prng --prng=isaac64 --verify=off" "$NW"'
    # Verification read of a zeroed drive (Ardoise: the read-only verify-zero profile).
    ardoise_run "$backing" prep "$round" bench-zero 1 "$ONE"   # only preparation, not reported
    zero_dev "$NW"
    rotate "$round" \
      'ardoise_run "$backing" read "$round" verify-zero 1 "$ONE"' \
      'fio_run "$backing" read "$round" read "" "$ONE"' \
      'nwipe_run "$backing" read "$round" 1 "--method=verify_zero --verify=off" "$NW"'
    # A zero pass plus full read-back: rate counts every byte twice (written, then read).
    rotate "$round" \
      'ardoise_run "$backing" zero+verify "$round" zero 2 "$ONE"' \
      'nwipe_run "$backing" zero+verify "$round" 2 "--method=zero --verify=last" "$NW"'
    # Four drives at once: aggregate.
    rotate "$round" \
      'ardoise_run "$backing" zero-4 "$round" bench-zero 1 "${FOUR[@]}"' \
      'fio_run "$backing" zero-4 "$round" write "--zero_buffers" "${FOUR[@]}"' \
      'nwipe_run "$backing" zero-4 "$round" 1 "--method=zero --verify=off" "${NW4[@]}"'
    rotate "$round" \
      'ardoise_run "$backing" prng-4 "$round" bench-prng 1 "${FOUR[@]}"' \
      'fio_run "$backing" prng-4 "$round" write "--refill_buffers" "${FOUR[@]}"' \
      'nwipe_run "$backing" prng-4 "$round" 1 "--method=prng --prng=isaac64 --verify=off" "${NW4[@]}"'
  done

  # This backing's loop devices and files are no longer needed.
  for l in "$ONE" "${FOUR[@]}" "$NW" "$NWT" "${NW4[@]}"; do
    losetup -d "$l"
    for i in "${!LOOPS[@]}"; do [ "${LOOPS[$i]}" = "$l" ] && unset 'LOOPS[i]'; done
  done
  rm -f "$dir"/*.img
  if [ "$backing" = tmpfs ]; then umount "$TMPFS_DIR"; TMPFS_MOUNTED=0; fi
done
END=$(date -u '+%Y-%m-%d %H:%M UTC')

mkdir -p "$(dirname "$RESULTS")"
cp "$RAW" "${RESULTS%.md}.tsv"
python3 "$HERE/report.py" "$RAW" \
  --started "$START" --ended "$END" --rounds "$ROUNDS" \
  --sizes "one drive ${SIZE_MIB} MiB; four drives ${SIZE4_MIB} MiB each; nwipe ${NWIPE_MIB} MiB (four: ${NWIPE4_MIB} MiB each)" \
  --machine "$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2/1048576 }' /proc/meminfo), $(uname -sr), load before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg)" \
  --versions "$("$ARDOISE" --version 2>/dev/null || echo ardoise) ($(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)); $(fio --version); nwipe package $(dpkg-query -W -f='${Version}' nwipe 2>/dev/null) (banner: $(nwipe --version 2>/dev/null | head -1))" \
  --command "ROUNDS=$ROUNDS SIZE_MIB=$SIZE_MIB SIZE4_MIB=$SIZE4_MIB NWIPE_MIB=$NWIPE_MIB NWIPE4_MIB=$NWIPE4_MIB BACKINGS=\"$BACKINGS\" bench/run.sh $ARDOISE" \
  | tee "$RESULTS"
echo "written: $RESULTS (raw: ${RESULTS%.md}.tsv)" >&2
