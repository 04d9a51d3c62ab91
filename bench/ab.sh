#!/usr/bin/env bash
# Quick interleaved A/B of engine variants against fio on the same loop devices, for tuning
# (the full table with nwipe is bench/run.sh). Each round runs every variant and fio once,
# in an order that rotates from round to round, so that the machine's noise hits them alike;
# medians and per-round ratios to fio are printed at the end.
#
#   usage: bench/ab.sh VARIANT...          (as root)
#   VARIANT: LABEL=BINARY[,ENV=VALUE...]   e.g. old=/work/main/.build/release/ardoise
#            new=.build/release/ardoise    or  depth2=.build/release/ardoise,SOME_ENV=2
#   env:     ROUNDS=5  CASES="zero read zero-4"  (zero, prng, read, zero+verify, zero-4, prng-4)
#            BACKINGS="tmpfs disk"  SIZE_MIB=2048  SIZE4_MIB=1024  FIO_DEPTHS="1 4 16"
#
# Ardoise's rate is the engine's (job-finished averageBytesPerSecond; several drives: all bytes
# over the slowest job), as in bench/run.sh. fio: best of FIO_DEPTHS (libaio, direct, 1 MiB,
# writes end with fsync). Creates only its own files and loop devices (tmpfs ones in /dev/shm,
# disk ones in /var/tmp) and detaches/removes each by exact name on exit.
set -euo pipefail

[ "$(id -u)" -eq 0 ] || { echo "run as root (loop devices)" >&2; exit 1; }
[ $# -gt 0 ] || { sed -n '2,16p' "$0" >&2; exit 1; }
ROUNDS=${ROUNDS:-5}
CASES=${CASES:-"zero read zero-4"}
BACKINGS=${BACKINGS:-"tmpfs disk"}
SIZE_MIB=${SIZE_MIB:-2048}
SIZE4_MIB=${SIZE4_MIB:-1024}
read -r -a DEPTHS <<< "${FIO_DEPTHS:-1 4 16}"

WORK=$(mktemp -d /tmp/ardoise-ab.XXXXXX)
SHMDIR=$(mktemp -d /dev/shm/ardoise-ab.XXXXXX)
DISKDIR=$(mktemp -d /var/tmp/ardoise-ab.XXXXXX)
LOOPS=()
cleanup() {
  set +e
  for l in "${LOOPS[@]}"; do losetup -d "$l"; done
  rm -rf "$WORK" "$SHMDIR" "$DISKDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# fio_run, engine_rate and use_bench_profiles: bench/lib.sh.
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
use_bench_profiles "$WORK/profiles"
RAW=$WORK/raw.tsv
: > "$RAW"

make_loop() {
  local file=$1/$2.img
  fallocate -l "$(( $3 * 1024 * 1024 ))" "$file"
  LOOP=$(losetup -f --show "$file")
  LOOPS+=("$LOOP")
}

# ardoise LABEL SPEC BACKING CASE ROUND PROFILE FACTOR DEV...
ardoise() {
  local label=$1 spec=$2 backing=$3 case=$4 round=$5 profile=$6 factor=$7; shift 7
  local binary=${spec%%,*} envs=() out=$WORK/out.json data=$WORK/data
  [[ "$spec" == *,* ]] && IFS=, read -r -a envs <<< "${spec#*,}"
  rm -rf "$data"
  # Exit 30: benchmark-only profiles (no verification) are certified "erased with exceptions";
  # the job's own success is checked below.
  local rc=0
  env "${envs[@]}" "$binary" wipe "$@" --profile "$profile" --yes --allow-virtual --json --data-dir "$data" > "$out" 2> "$WORK/err" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 30 ]; then
    echo "ardoise ($label) failed (exit $rc):" >&2; tail -5 "$WORK/err" >&2; exit 1
  fi
  local rate
  rate=$(engine_rate "$out" "$factor" "$@" | cut -d" " -f1)
  printf '%s\t%s\t%s\t%s\t%s\n' "$backing" "$case" "$label" "$round" "$rate" >> "$RAW"
}

# record BACKING CASE TOOL ROUND MB/S [...]: one raw line (this script keeps five fields).
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >> "$RAW"; }

echo "start $(date -u '+%H:%M:%S') load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for backing in $BACKINGS; do
  dir=$DISKDIR; [ "$backing" = tmpfs ] && dir=$SHMDIR
  make_loop "$dir" one "$SIZE_MIB"; ONE=$LOOP
  FOUR=()
  for i in 1 2 3 4; do make_loop "$dir" four$i "$SIZE4_MIB"; FOUR+=("$LOOP"); done
  # Fresh (fallocated) backing files are slower on their first write (tmpfs pages and disk
  # extents are made ready then): write every device once before timing anything.
  for d in "$ONE" "${FOUR[@]}"; do dd if=/dev/zero of="$d" bs=4M oflag=direct status=none 2>/dev/null || true; done
  for round in $(seq 1 "$ROUNDS"); do
    echo "-- $backing round $round/$ROUNDS $(date -u '+%H:%M:%S') load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    for case in $CASES; do
      case $case in
        zero)        profile=bench-zero; factor=1; rw=write; extra=--zero_buffers; devs=("$ONE") ;;
        prng)        profile=bench-prng; factor=1; rw=write; extra=--refill_buffers; devs=("$ONE") ;;
        read)        profile=verify-zero; factor=1; rw=read; extra=; devs=("$ONE") ;;
        zero+verify) profile=zero; factor=2; rw=; extra=; devs=("$ONE") ;;
        zero-4)      profile=bench-zero; factor=1; rw=write; extra=--zero_buffers; devs=("${FOUR[@]}") ;;
        prng-4)      profile=bench-prng; factor=1; rw=write; extra=--refill_buffers; devs=("${FOUR[@]}") ;;
        *) echo "unknown case $case" >&2; exit 1 ;;
      esac
      # The read-only check needs a zeroed drive (not measured).
      [ "$case" = read ] && { dd if=/dev/zero of="$ONE" bs=4M oflag=direct status=none 2>/dev/null || true; }
      # The order rotates from round to round: whatever runs first or last (a loop worker
      # waking up, another agent's build) does not always hit the same tool.
      runs=("$@" fio)
      count=${#runs[@]}
      for (( k = 0; k < count; k++ )); do
        variant=${runs[$(( (k + round - 1) % count ))]}
        if [ "$variant" = fio ]; then
          [ -n "$rw" ] && fio_run "$backing" "$case" "$round" "$rw" "$extra" "${devs[@]}"
        else
          ardoise "${variant%%=*}" "${variant#*=}" "$backing" "$case" "$round" "$profile" "$factor" "${devs[@]}"
        fi
      done
    done
  done
  for l in "$ONE" "${FOUR[@]}"; do
    losetup -d "$l"
    for i in "${!LOOPS[@]}"; do [ "${LOOPS[$i]}" = "$l" ] && unset 'LOOPS[i]'; done
  done
  rm -f "$dir"/*.img
done
echo "end $(date -u '+%H:%M:%S') load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

cp "$RAW" "${AB_RAW:-/tmp/ardoise-ab-last.tsv}"
python3 - "$RAW" <<'PY'
import collections, statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
rate = collections.defaultdict(dict)  # (backing, case, tool) -> round -> MB/s
for backing, case, tool, rnd, mbps in rows:
    rate[(backing, case, tool)][rnd] = float(mbps)
groups = collections.OrderedDict()
for backing, case, tool, _, _ in rows:
    groups.setdefault((backing, case), []).append(tool) if tool not in groups.get((backing, case), []) else None
print("| backing | case | tool | median MB/s | rounds | median ratio to fio |")
print("|---|---|---|---:|---|---:|")
for (backing, case), tools in groups.items():
    fio = rate.get((backing, case, "fio"), {})
    for tool in tools:
        values = rate[(backing, case, tool)]
        ratios = [values[r] / fio[r] for r in values if r in fio and fio[r] > 0]
        print("| %s | %s | %s | %.0f | %s | %s |" % (
            backing, case, tool, statistics.median(values.values()),
            " ".join("%.0f" % values[r] for r in sorted(values, key=int)),
            "%.3f" % statistics.median(ratios) if ratios and not tool.startswith("fio") else ""))
PY
