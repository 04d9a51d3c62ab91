# Shared by bench/run.sh, ab.sh, profile.sh and spread.sh (sourced). fio_run expects WORK,
# DEPTHS and a function `record BACKING CASE TOOL ROUND MB/S [RSS WALL CPU BYTES EXTRA]`
# from the caller.

# fio_run BACKING CASE ROUND RW EXTRA DEV...: best of DEPTHS (libaio, direct, 1 MiB,
# sequential), one fio job per device; each depth and the best recorded, as tool FIO_NAME
# (default "fio": "fio-qd4"... and "fio"; run.sh's second run of fio in a round is
# "fio-again"). The aggregate is measured as Ardoise's is: all bytes over the slowest job's
# runtime, and the slowest/fastest job runtime goes in the record's extra field (so fio's own
# fairness sits beside Ardoise's).
# fio runs under /usr/bin/time: its CPU seconds (user + system) go in the record's CPU field.
# RW "verify": fio reads the devices and checks that every byte is zero (pattern verification,
# --verify_only: nothing is written), as Ardoise's verify-zero profile does; only its reads count.
fio_run() {
  local backing=$1 case=$2 round=$3 rw=$4 extra=$5; shift 5
  local name=${FIO_NAME:-fio} best=0 best_cpu="" best_ratio="" depth jobs=() total=0
  for d in "$@"; do jobs+=(--name="$(basename "$d")" --filename="$d"); total=$(( total + $(blockdev --getsize64 "$d") )); done
  # Ardoise ends every write pass with fdatasync (an erasure only counts once it is on the
  # medium); fio must too, or on a disk-backed loop it stops timing with gigabytes still in
  # the backing file's page cache.
  [ "$rw" = write ] && extra="$extra --end_fsync=1"
  local counted="j['write']['io_bytes'] + j['read']['io_bytes']"
  if [ "$rw" = verify ]; then
    # verify_only runs the write job's verification phase alone (fio reports the write bytes
    # it skipped as written: only the reads count); no state files in the working directory.
    rw=write extra="$extra --verify=pattern --verify_pattern=0x00 --verify_only=1 --do_verify=1 --verify_state_save=0"
    counted="j['read']['io_bytes']"
  fi
  for depth in "${DEPTHS[@]}"; do
    if declare -F before_each >/dev/null; then before_each; fi
    # shellcheck disable=SC2086 # $extra is a list of fio options
    /usr/bin/time -v -o "$WORK/fio.time" fio --output-format=json --ioengine=libaio --direct=1 --bs=1M --rw="$rw" \
        --iodepth="$depth" $extra "${jobs[@]}" > "$WORK/fio.json" 2> "$WORK/fio.err" \
      || { echo "fio failed:" >&2; cat "$WORK/fio.err" >&2; exit 1; }
    local bw ratio cpu
    read -r bw ratio < <(python3 -c "
import json
for j in json.load(open('$WORK/fio.json'))['jobs']:
    print($counted, j['job_runtime'] / 1000)" | aggregate_rate)
    cpu=$(cpu_seconds "$WORK/fio.time")
    record "$backing" "$case" "$name-qd$depth" "$round" "$bw" "" "" "$cpu" "$total" "$ratio"
    if python3 -c "import sys; sys.exit(0 if $bw > $best else 1)"; then best=$bw; best_cpu=$cpu; best_ratio=$ratio; fi
  done
  record "$backing" "$case" "$name" "$round" "$best" "" "" "$best_cpu" "$total" "$best_ratio"
}

# aggregate_rate: reads one line per job, "BYTES SECONDS", and prints the aggregate rate in
# MB/s as every case counts it (all bytes over the slowest job's time), then the slowest/
# fastest job time ratio (1 for one job).
aggregate_rate() {
  python3 -c "
import sys
jobs = [tuple(map(float, line.split())) for line in sys.stdin if line.strip()]
times = [seconds for _, seconds in jobs]
print('%.1f %.3f' % (sum(b for b, _ in jobs) / max(times) / 1e6, max(times) / max(min(times), 1e-3)))"
}

# cpu_seconds TIME_V_OUTPUT: user + system seconds from a `/usr/bin/time -v` report.
cpu_seconds() {
  awk -F': ' '/User time \(seconds\)/ { u = $2 } /System time \(seconds\)/ { s = $2 } END { printf "%.3f", u + s }' "$1"
}

# engine_rate OUT FACTOR DEV...: Ardoise's rate in MB/s from `ardoise wipe --json` output OUT:
# each job's engine time from its own bytes and average rate (job-finished lines), total work
# over the slowest job. FACTOR is how many times each byte is touched. Fails unless every job
# succeeded. Prints the rate, then the slowest/fastest job time ratio (1 for one drive).
engine_rate() {
  local out=$1 factor=$2; shift 2
  local sizes=()
  for d in "$@"; do sizes+=("$(blockdev --getsize64 "$d")"); done
  python3 - "$out" "$factor" "${sizes[*]}" <<'PY' | aggregate_rate
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
done = [l for l in lines if l.get("event") == "job-finished"]
factor = float(sys.argv[2]); sizes = [int(s) for s in sys.argv[3].split()]
assert len(done) == len(sizes) and all(d["succeeded"] for d in done), done
for s, d in zip(sizes, done):
    print(factor * s, factor * s / d["averageBytesPerSecond"])
PY
}

# settle DEV...: rewrites each DEV and flushes it (in parallel; not measured), so that the
# tool that writes first in a case finds its devices in the state the next one does: just
# written and flushed. Without it the first writer of a case paid for what the cases before
# left (on disk-backed devices, 3-4x slower in the 2026-12-06 runs: Ardoise in the rounds it
# came first, fio's iodepth-1 run in the others, hidden by fio's best of three depths).
settle() {
  local d pids=()
  for d in "$@"; do dd if=/dev/zero of="$d" bs=4M oflag=direct conv=fsync status=none 2>/dev/null & pids+=($!); done
  for d in "${pids[@]}"; do wait "$d" || true; done
}

# use_bench_profiles DIR: copies the built-in profiles and the benchmark-only ones
# (bench/profiles) into DIR and points Ardoise at it (ARDOISE_PROFILES_DIR replaces the
# built-in directory).
use_bench_profiles() {
  local here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  mkdir -p "$1"
  cp "$here"/../Profiles/*.toml "$here"/profiles/*.toml "$1"/
  export ARDOISE_PROFILES_DIR=$1
}
