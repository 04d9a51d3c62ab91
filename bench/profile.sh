#!/usr/bin/env bash
# Where Ardoise's CPU and memory go, on loop devices backed by /dev/shm: figures that hold on
# a loaded machine (CPU seconds, system call counts, peak RSS and its breakdown), not rates.
#
#   usage: bench/profile.sh PATH-TO-ardoise          (as root)
#   env:   SIZE_MIB=1024 (each drive)  DRIVES=4 (the several-drive PRNG run)  PERF=1 (perf record, if it works)
#
# For each of: zero pass (1 drive), PRNG pass (1 drive), verification read (1 drive), PRNG pass
# (DRIVES drives), and an 8 MiB drive (the fixed cost), prints user/system CPU seconds and CPU
# per GB, peak RSS (getrusage, via /usr/bin/time), the process's memory at its peak sampled
# every 20 ms from /proc/PID/smaps_rollup and status (anonymous vs file-backed, threads),
# the system calls made (strace -c -f, in a separate run: strace slows the process), and with
# PERF=1 the hottest symbols (perf record -e cpu-clock; this VM has no hardware counters).
# Creates only its own files and loop devices, removes each by exact name on exit.
set -euo pipefail

ARDOISE=$(readlink -f "${1:?usage: bench/profile.sh PATH-TO-ardoise}")
SIZE_MIB=${SIZE_MIB:-1024}
DRIVES=${DRIVES:-4}
PERF=${PERF:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "run as root (loop devices)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/ardoise-profile.XXXXXX)
SHM=$(mktemp -d /dev/shm/ardoise-profile.XXXXXX)
LOOPS=()
cleanup() {
  set +e
  for l in "${LOOPS[@]}"; do losetup -d "$l"; done
  rm -rf "$WORK" "$SHM"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
use_bench_profiles "$WORK/profiles"

make_loop() {
  fallocate -l "$(( $2 * 1024 * 1024 ))" "$SHM/$1.img"
  LOOP=$(losetup -f --show "$SHM/$1.img")
  LOOPS+=("$LOOP")
}
make_loop tiny 8; TINY=$LOOP
DEVS=()
for i in $(seq 1 "$DRIVES"); do make_loop d$i "$SIZE_MIB"; DEVS+=("$LOOP"); done
for d in "${DEVS[@]}"; do dd if=/dev/zero of="$d" bs=4M oflag=direct status=none 2>/dev/null || true; done

# sample PID OUT: the largest smaps_rollup/status seen while PID lives (every 20 ms).
sample() {
  local pid=$1 out=$2 best=0
  while kill -0 "$pid" 2>/dev/null; do
    local rss
    rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
    if [ "${rss:-0}" -gt "$best" ]; then
      best=$rss
      { grep -E '^(Rss|Anonymous|AnonHugePages|Shared_Clean|Private_Clean|Private_Dirty)' "/proc/$pid/smaps_rollup"
        grep -E '^(VmRSS|RssAnon|RssFile|RssShmem|Threads)' "/proc/$pid/status"; } > "$out.tmp" 2>/dev/null && mv "$out.tmp" "$out"
    fi
    sleep 0.02
  done
}

# run LABEL PROFILE BYTES-FACTOR DEV...
run() {
  local label=$1 profile=$2 factor=$3; shift 3
  local total=0
  for d in "$@"; do total=$(( total + $(blockdev --getsize64 "$d") )); done
  echo "== $label: $* ($profile)"
  rm -rf "$WORK/data"
  /usr/bin/time -v -o "$WORK/time" "$ARDOISE" wipe "$@" --profile "$profile" --yes --allow-virtual --json --data-dir "$WORK/data" > "$WORK/out" 2>&1 &
  local tpid=$!
  sleep 0.05
  local apid
  apid=$(pgrep -P "$tpid" | head -1 || true)
  [ -n "$apid" ] && sample "$apid" "$WORK/smaps" &
  local spid=$!
  wait "$tpid" || true
  wait "$spid" 2>/dev/null || true
  awk -F': ' -v total="$total" -v factor="$factor" '
    /User time/ { u = $2 } /System time/ { s = $2 } /Maximum resident/ { r = $2 }
    /Voluntary context/ { v = $2 } /Involuntary context/ { iv = $2 }
    END { printf "   CPU user %.2f s, system %.2f s; %.3f s per GB; peak RSS %.1f MiB; context switches %d voluntary, %d involuntary\n",
                 u, s, (u + s) / (factor * total / 1e9), r / 1024, v, iv }' "$WORK/time"
  [ -f "$WORK/smaps" ] && { echo "   at the peak (kB):"; sed 's/^/     /' "$WORK/smaps"; rm -f "$WORK/smaps"; }
  rm -rf "$WORK/data"
  echo "   system calls (strace -c -f, separate run):"
  strace -c -f -o "$WORK/strace" "$ARDOISE" wipe "$@" --profile "$profile" --yes --allow-virtual --json --data-dir "$WORK/data" > /dev/null 2>&1 || true
  head -14 "$WORK/strace" | sed 's/^/     /' || true
  rm -rf "$WORK/data"
  if [ "$PERF" = 1 ] && perf stat -e cpu-clock true >/dev/null 2>&1; then
    echo "   hottest symbols (perf record -e cpu-clock, separate run; children excluded):"
    perf record -q -e cpu-clock -F 999 -o "$WORK/perf.data" "$ARDOISE" wipe "$@" --profile "$profile" --yes --allow-virtual --json --data-dir "$WORK/data" > /dev/null 2>&1 || true
    perf report -i "$WORK/perf.data" --stdio --no-children --sort dso,symbol 2>/dev/null > "$WORK/perf.txt" || true
    grep -E '^ +[0-9]' "$WORK/perf.txt" | head -12 | cut -c1-160 | sed 's/ *$//; s/^/     /' || true
    rm -rf "$WORK/data" "$WORK/perf.data"
  fi
}

echo "load: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $("$ARDOISE" --version 2>/dev/null) ($(git -C "$REPO" rev-parse --short HEAD))"
run "fixed cost (8 MiB drive)" bench-zero 1 "$TINY"
run "zero pass, 1 drive" bench-zero 1 "${DEVS[0]}"
run "PRNG pass, 1 drive" bench-prng 1 "${DEVS[0]}"
dd if=/dev/zero of="${DEVS[0]}" bs=4M oflag=direct status=none 2>/dev/null || true   # the read expects zeros
run "verification read, 1 drive" verify-zero 1 "${DEVS[0]}"
run "PRNG pass, $DRIVES drives" bench-prng 1 "${DEVS[@]}"
