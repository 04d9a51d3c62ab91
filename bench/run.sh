#!/usr/bin/env bash
# Ardoise benchmark: Ardoise beside fio and nwipe on the same loop devices, backed by files on
# a tmpfs this script mounts and by files on disk (/var/tmp), for one drive, four and sixteen
# at once; plus what issue 15 asks to measure beside the rates:
#   - CPU seconds per GB (user + system of the ardoise process, net of a run on an 8 MiB
#     device in the same round) for the zero, PRNG and verification passes, and fio's beside;
#     and the CPU of only storing 1 GB into a 4 MiB buffer, the floor of the PRNG/zero ratio;
#   - peak RSS of every run against 64 MiB + 16 MiB per active drive;
#   - start-up: from the exec of `ardoise wipe` to its first write on the drive (strace -f -tt,
#     only execve/openat/pwrite* traced through seccomp, so the rest runs at full speed);
#   - the control socket's latency (p50/p99/max, one connection per request every 50 ms) while
#     `ardoise daemon` wipes the sixteen drives at once, and the daemon's peak RSS;
#   - the slowest/fastest job time of the sixteen drives;
#   - cost growth: the same zero pass on a 512 MiB and an 8 GiB sparse file on disk, each
#     against fio on the same device, with the progress events and journal size of each;
#   - the measurement's own spread: fio at iodepth 4 runs twice in each round of each rate
#     case ("fio-again"), so a ratio near 1 is held against fio's ratio to itself;
#   - for the reads, fio checking every byte it reads as well ("fio-verify"), beside its
#     plain read (the targets' yardstick);
#   - after the rounds, the profiles that show why a target is missed (PROFILE=1):
#     bench/profile.sh (where each pass's CPU goes, perf's hottest symbols) and bench/spread.sh
#     (each of the sixteen jobs' times, a write's cut into writes and final flush; the CPU by
#     thread) for each backing and pass (zero, PRNG, read), saved beside the results as <name>-profiles.txt; report.py ends with
#     a "Not met, and why" section built from this run's figures and those profiles.
# Every case of one drive, four and sixteen: zero pass, PRNG pass and verification read.
# Runs the tools interleaved for ROUNDS rounds because the machine is noisy (the order rotates
# from round to round) and reports medians with their spread and the median of per-round ratios.
#
#   usage: bench/run.sh PATH-TO-ardoise        (as root; `make bench` builds and calls it)
#   env:   ROUNDS=5  SIZE_MIB=2048 (one drive)  MANY_MIB=512 (each of the sixteen drives; the
#          four-drive cases use the first four)  NWIPE_MIB=1024 NWIPE4_MIB=512 NWIPE16_MIB=64
#          (nwipe is ~20x slower, so it gets smaller devices; rates are compared, not times)
#          GROWTH_SMALL_MIB=512 GROWTH_MIB=8192 (0: no growth check)  DAEMON=1 (0: no daemon run)
#          BACKINGS="tmpfs disk"  PROFILE=1 (0: no profiles)  SPREAD_ROUNDS=3 (bench/spread.sh's rounds)
#   quick check: ROUNDS=1 SIZE_MIB=256 MANY_MIB=64 NWIPE_MIB=64 NWIPE4_MIB=32 NWIPE16_MIB=16 \
#                GROWTH_SMALL_MIB=64 GROWTH_MIB=512 SPREAD_ROUNDS=1 RESULTS=/tmp/quick.md bench/run.sh ...
#
# Ardoise's settings are fixed in advance (the defaults: 4 I/O threads per drive, cut to a
# process budget of 8 shared by the running jobs but never below 2 — so 4 for one drive, 2
# each for four or sixteen; 2 writers generating their own 4 MiB buffers for generated data;
# 4 MiB reads; 1 MiB pieces for a pattern; no tuning per case); fio's iodepth is fixed in
# advance too: the targets compare with its iodepth-4 run, and its best of iodepth 1/4/16
# in each round is reported beside.
#
# Creates only its own files, tmpfs, loop devices and daemon, and removes or stops each by
# exact name or PID on exit. Writes the table to stdout and to bench/results/latest.md (or RESULTS).
set -euo pipefail

ARDOISE=${1:?usage: bench/run.sh PATH-TO-ardoise}
ARDOISE=$(readlink -f "$ARDOISE")
ROUNDS=${ROUNDS:-5}
SIZE_MIB=${SIZE_MIB:-2048}
MANY_MIB=${MANY_MIB:-512}
NWIPE_MIB=${NWIPE_MIB:-1024}
NWIPE4_MIB=${NWIPE4_MIB:-512}
NWIPE16_MIB=${NWIPE16_MIB:-64}
GROWTH_SMALL_MIB=${GROWTH_SMALL_MIB:-512}
GROWTH_MIB=${GROWTH_MIB:-8192}
DAEMON=${DAEMON:-1}
PROFILE=${PROFILE:-1}
SPREAD_ROUNDS=${SPREAD_ROUNDS:-3}
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
command -v strace >/dev/null || missing+=(strace)
[ -x /usr/bin/time ] || missing+=(time)
command -v python3 >/dev/null || missing+=(python3)
[ "$PROFILE" = 1 ] && ! command -v perf >/dev/null && missing+=(linux-perf)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Memory: tmpfs holds every device of the tmpfs round at once; keep 4 GiB spare.
TMPFS_MIB=$(( SIZE_MIB + 16 * MANY_MIB + NWIPE_MIB + 4 * NWIPE4_MIB + 16 * NWIPE16_MIB + 16 + 72 ))
avail_mib=$(awk '/MemAvailable/ { print int($2 / 1024) }' /proc/meminfo)
if [[ " $BACKINGS " == *" tmpfs "* ]] && [ "$avail_mib" -lt $(( TMPFS_MIB + 4096 )) ]; then
  echo "not enough free memory for a ${TMPFS_MIB} MiB tmpfs (available: ${avail_mib} MiB); lower SIZE_MIB/MANY_MIB" >&2
  exit 1
fi

WORK=$(mktemp -d /tmp/ardoise-bench.XXXXXX)
DISKDIR=$(mktemp -d /var/tmp/ardoise-bench.XXXXXX)
TMPFS_DIR=$WORK/tmpfs
LOOPS=()
TMPFS_MOUNTED=0
DAEMON_PID=
cleanup() {
  set +e
  if [ -n "$DAEMON_PID" ]; then kill -TERM "$DAEMON_PID" 2>/dev/null; wait "$DAEMON_PID" 2>/dev/null; fi
  for l in "${LOOPS[@]}"; do losetup -d "$l"; done
  [ "$TMPFS_MOUNTED" = 1 ] && umount "$TMPFS_DIR"
  rm -rf "$WORK" "$DISKDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# fio_run, cpu_seconds, engine_rate, settle and use_bench_profiles: bench/lib.sh.
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
# Built-in profiles plus the benchmark-only ones.
PROFILES=$WORK/profiles
use_bench_profiles "$PROFILES"
"$ARDOISE" profiles >/dev/null || { echo "ardoise profiles failed with ARDOISE_PROFILES_DIR=$PROFILES" >&2; exit 1; }

RAW=$WORK/raw.tsv
: > "$RAW"
# record BACKING CASE TOOL ROUND MBPS RSS_KIB WALL_S CPU_S BYTES EXTRA
# (EXTRA: Ardoise's slowest/fastest job time ratio; TOOL "metric": MBPS holds the metric's value)
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "${6:-}" "${7:-}" "${8:-}" "${9:-}" "${10:-}" >> "$RAW"; }
metric() { record "$1" "$2" metric "$3" "$4"; }

# make_loop DIR NAME MIB [sparse]: a file of MIB MiB (allocated, unless "sparse") and a loop
# device on it. Sets LOOP. Not called in $(...) so that LOOPS is recorded in this shell.
make_loop() {
  local file=$1/$2.img
  if [ "${4:-}" = sparse ]; then
    truncate -s "$(( $3 * 1024 * 1024 ))" "$file"
  else
    fallocate -l "$(( $3 * 1024 * 1024 ))" "$file" 2>/dev/null || truncate -s "$(( $3 * 1024 * 1024 ))" "$file"
  fi
  LOOP=$(losetup -f --show "$file")
  LOOPS+=("$LOOP")
}

now() { date +%s.%N; }

# settle (bench/lib.sh) rewrites and flushes a case's devices before it; `rotate` settles the
# devices named in SETTLE, once per case.
SETTLE=()

# warm DEV...: reads each DEV once (not measured), so that the next read of it is served by
# its backing file's page cache. The read cases call it before every run of every tool
# (BEFORE_EACH, below): else the first reader after the preparation pays for the pages the
# cache lost, and which tool that is rotates with the round (disk-backed, 2026-12-07 00:00
# run: Ardoise/fio 0.54–1.30 over rounds). Reading cold instead measures this machine's
# virtual disk, whose back-to-back reads of the same 2 GiB varied from 956 to 1,613 MB/s.
warm() {
  local d
  for d in "$@"; do dd if="$d" of=/dev/null bs=4M iflag=direct status=none; done
}

# BEFORE_EACH: a command run (untimed) before each run of each tool, fio's depths included;
# set for one case, then cleared.
BEFORE_EACH=
before_each() { if [ -n "$BEFORE_EACH" ]; then eval "$BEFORE_EACH"; fi; }

# zero_dev DEV: fills DEV with zeros (preparation for the read-only checks; not measured).
zero_dev() { dd if=/dev/zero of="$1" bs=4M oflag=direct status=none 2>/dev/null || [ "$(blockdev --getsize64 "$1")" -gt 0 ]; }

# ardoise_run BACKING CASE ROUND PROFILE WORKFACTOR DEV...: one `ardoise wipe`; the rate is
# the engine's (bytes written + verified, over each job's own time, from the job-finished
# lines); for several drives, total work over the slowest job's time. WORKFACTOR is how many
# times each byte is touched (2 for a pass plus verification). Also records the process's
# CPU seconds and peak RSS (/usr/bin/time), and sets LAST_EVENTS (progress events printed)
# and LAST_DATA_BYTES (the data directory: journal, key, certificates) for the growth check.
ardoise_run() {
  local backing=$1 case=$2 round=$3 profile=$4 factor=$5; shift 5
  local data=$WORK/data-$RANDOM$RANDOM out=$WORK/ardoise.json tv=$WORK/time.txt
  local t0 t1
  before_each
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
  LAST_EVENTS=$(grep -c '"progress"' "$out" || true)
  LAST_DATA_BYTES=$(du -sb "$data" | cut -f1)
  rm -rf "$data"
  local rss cpu rates rate ratio
  rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tv")
  cpu=$(cpu_seconds "$tv")
  rates=$(engine_rate "$out" "$factor" "$@")
  read -r rate ratio <<< "$rates"
  local wall total=0
  for d in "$@"; do total=$(( total + $(blockdev --getsize64 "$d") )); done
  wall=$(python3 -c "print('%.3f' % ($t1 - $t0))")
  record "$backing" "$case" ardoise "$round" "$rate" "$rss" "$wall" "$cpu" "$(( factor * total ))" "$ratio"
  record "$backing" "$case" ardoise-wall "$round" "$(python3 -c "print('%.1f' % ($factor * $total / $wall / 1e6))")" "$rss" "$wall"
}

# store_floor BACKING ROUND: the CPU seconds per GB of only storing bytes into one 4 MiB
# buffer (the kernel fills dd's buffer from /dev/zero; /dev/null takes it for free): what a
# pass of generated data pays on top of a zero pass even if generating cost nothing, since
# each 4 MiB write needs its 4 MiB of fresh data in memory. The CPU target compares with it.
store_floor() {
  local t=$WORK/store.time count=2048
  /usr/bin/time -v -o "$t" dd if=/dev/zero of=/dev/null bs=4M count=$count status=none
  metric "$1" store-floor "$2" "$(python3 -c "print(round($(cpu_seconds "$t") / ($count * 4194304 / 1e9), 4))")"
}

# startup_run BACKING ROUND DEV: `ardoise wipe DEV` (zero pass) under strace; records the time
# from its execve to its first write on DEV. Only execve, openat and the positional writes are
# traced (seccomp-bpf filter): the other system calls run untraced. The process's own I/O
# path is pwrite64 (DeviceKit); pwritev/pwritev2 are listed in case that changes.
startup_run() {
  local backing=$1 round=$2 dev=$3 data=$WORK/data-startup trace=$WORK/startup.trace rc=0
  rm -rf "$data"
  strace -f -tt -s 0 --seccomp-bpf -e trace=execve,openat,pwrite64,pwritev,pwritev2 -o "$trace" \
    "$ARDOISE" wipe "$dev" --profile bench-zero --yes --allow-virtual --json --data-dir "$data" > /dev/null 2> "$WORK/startup.err" || rc=$?
  rm -rf "$data"
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 30 ]; then echo "ardoise wipe under strace failed (exit $rc):" >&2; tail -5 "$WORK/startup.err" >&2; exit 1; fi
  local seconds
  seconds=$(python3 - "$trace" "$dev" <<'PY'
import re, sys
from datetime import datetime
def t(text): return datetime.strptime(text, "%H:%M:%S.%f")
start = None; fds = set(); pending = {}; first = None
for line in open(sys.argv[1]):
    m = re.match(r"(\d+)\s+(\d\d:\d\d:\d\d\.\d+)\s+(.*)", line)
    if not m: continue
    pid, stamp, rest = m.group(1), t(m.group(2)), m.group(3)
    if start is None and rest.startswith("execve("): start = stamp
    if rest.startswith("openat("):
        target = '"%s"' % sys.argv[2] in rest
        r = re.search(r"= (\d+)", rest)
        if "<unfinished" in rest: pending[pid] = target
        elif r:
            (fds.add if target else fds.discard)(int(r.group(1)))
    elif rest.startswith("<... openat resumed>"):
        r = re.search(r"= (\d+)", rest)
        if r: (fds.add if pending.pop(pid, False) else fds.discard)(int(r.group(1)))
    else:
        w = re.match(r"(pwrite64|pwritev2?)\((\d+),", rest)
        if w and int(w.group(2)) in fds: first = stamp; break
if start is None or first is None: sys.exit("no execve or no write on the device in the trace")
print("%.3f" % (first - start).total_seconds())
PY
) || { echo "start-up: could not read the trace $trace" >&2; exit 1; }
  metric "$backing" startup "$round" "$seconds"
}

# daemon_run BACKING ROUND DIR DEV...: `ardoise daemon` (mode auto, no grace, every drive at
# once) on the loop devices whose backing files lie in DIR, wiping them with bench-prng; a
# client sends `{"command":"status"}` on a new connection every 50 ms until every drive is
# done. Records the latency percentiles of the requests made while a job was running, the
# daemon's peak RSS and the slowest/fastest time from start to done state.
daemon_run() {
  local backing=$1 round=$2 dir=$3; shift 3
  local data=$WORK/daemon-data socket=$WORK/control.sock config=$WORK/daemon.toml
  rm -rf "$data"; mkdir -p "$data"
  cat > "$config" <<TOML
[bench]
id = "bench-run"
name = "bench/run.sh"
[organisation]
name = "bench/run.sh"
address = "-"
[session]
technician = "bench"
donor = "bench"
lot = "bench"
[policy]
mode = "auto"
grace-seconds = 0
allow-virtual = true
loop-backing-directory = "$dir"
max-concurrent-jobs = $#
[profiles]
default = "bench-prng"
[paths]
data-directory = "$data"
control-socket = "$socket"
TOML
  "$ARDOISE" daemon --config "$config" --hotplug-source kernel 2> "$WORK/daemon.log" &
  DAEMON_PID=$!
  local rc=0
  python3 - "$socket" "$WORK/daemon.out" "$@" <<'PY' || rc=$?
import json, socket, sys, time
path, out, devices = sys.argv[1], sys.argv[2], sys.argv[3:]
final = {"done", "done-with-exceptions", "failed", "interrupted", "protected", "removed"}
begun = time.time(); deadline = begun + 900
latencies, states, started, finished = [], {}, {}, {}
while time.time() < deadline:
    t0 = time.perf_counter()
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.settimeout(10); s.connect(path)
    except OSError:
        time.sleep(0.05); continue
    s.sendall(b'{"command":"status"}\n')
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(1 << 16)
        if not chunk: break
        buf += chunk
    t1 = time.perf_counter(); s.close()
    slots = {x["device"]: x["state"] for x in json.loads(buf)["snapshot"]["slots"]}
    states = {d: slots.get(d) for d in devices}
    now = time.time()
    for d, st in states.items():
        if st in ("erasing", "verifying") and d not in started: started[d] = now
        if st in final and d not in finished: finished[d] = now
    if any(st in ("erasing", "verifying") for st in states.values()): latencies.append((t1 - t0) * 1000)
    if all(st in final for st in states.values()): break
    if now - begun > 30 and all(st is None for st in states.values()):
        sys.exit("the daemon shows none of the drives after 30 s")
    time.sleep(0.05)
bad = {d: st for d, st in states.items() if st not in ("done", "done-with-exceptions")}
if bad or not latencies: sys.exit("daemon run did not finish every drive: %s (%d samples)" % (bad, len(latencies)))
latencies.sort()
pct = lambda p: latencies[min(len(latencies) - 1, int(round(p / 100 * (len(latencies) - 1))))]
times = [finished[d] - started.get(d, finished[d]) for d in devices]
open(out, "w").write("%.1f %.1f %.1f %d %.3f\n" % (pct(50), pct(99), latencies[-1], len(latencies),
                                                   max(times) / max(min(times), 0.05)))
PY
  local hwm
  hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$DAEMON_PID/status" 2>/dev/null || echo "")
  kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" || true
  DAEMON_PID=
  [ "$rc" -eq 0 ] || { echo "daemon run failed:" >&2; tail -20 "$WORK/daemon.log" >&2; exit 1; }
  local p50 p99 max count ratio
  read -r p50 p99 max count ratio < "$WORK/daemon.out"
  metric "$backing" socket-p50-ms "$round" "$p50"
  metric "$backing" socket-p99-ms "$round" "$p99"
  metric "$backing" socket-max-ms "$round" "$max"
  metric "$backing" socket-samples "$round" "$count"
  metric "$backing" daemon-rss-kib "$round" "$hwm"
  metric "$backing" daemon-job-ratio "$round" "$ratio"
  rm -rf "$data"
}

# nwipe_run BACKING CASE ROUND FACTOR OPTIONS DEV...: timed externally (wall clock, start-up
# included; nwipe prints no precise rate).
nwipe_run() {
  local backing=$1 case=$2 round=$3 factor=$4 opts=$5; shift 5
  local t0 t1 total=0
  for d in "$@"; do total=$(( total + $(blockdev --getsize64 "$d") )); done
  before_each
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

# fio_again BACKING CASE ROUND RW EXTRA DEV...: fio at iodepth 4 a second time in the round
# (tool "fio-again"), at another place in the rotation. fio against itself is the spread this
# measurement has on its own: the yardstick report.py holds a ratio near 1 against.
fio_again() {
  local saved=("${DEPTHS[@]}")
  DEPTHS=(4)
  FIO_NAME=fio-again fio_run "$@"
  DEPTHS=("${saved[@]}")
}

# fio_verify BACKING CASE ROUND DEV...: fio reading the zeroed devices and checking every
# byte (tool "fio-verify", best of DEPTHS): what Ardoise's verification read does, where fio's
# plain read discards the bytes. The reads' targets stay against the plain read; this one
# shows what a verifying reader costs fio on the same devices in the same rounds.
fio_verify() {
  local backing=$1 case=$2 round=$3; shift 3
  FIO_NAME=fio-verify fio_run "$backing" "$case" "$round" verify "" "$@"
}

# rotate ROUND COMMAND...: runs the commands (one per tool) once each, in an order that
# rotates from round to round (round 1: A B C, round 2: B C A, ...), so that whatever runs
# first or just after another tool (a loop worker still busy, writeback of nwipe's buffered
# writes) does not always hit the same tool.
rotate() {
  local round=$1; shift
  local count=$# k
  local commands=("$@")
  if [ ${#SETTLE[@]} -gt 0 ]; then settle "${SETTLE[@]}"; SETTLE=(); fi
  for (( k = 0; k < count; k++ )); do
    eval "${commands[$(( (k + round - 1) % count ))]}"
  done
}

# detach DEV...: detaches this script's loop devices by exact name.
detach() {
  for l in "$@"; do
    losetup -d "$l"
    for i in "${!LOOPS[@]}"; do [ "${LOOPS[$i]}" = "$l" ] && unset 'LOOPS[i]'; done
  done
}

START=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)
for backing in $BACKINGS; do
  if [ "$backing" = tmpfs ]; then
    mkdir -p "$TMPFS_DIR"
    mount -t tmpfs -o "size=${TMPFS_MIB}m" ardoise-bench "$TMPFS_DIR"
    TMPFS_MOUNTED=1
    dir=$TMPFS_DIR
  else
    dir=$DISKDIR
  fi
  # The sixteen drives get their own directory: the daemon run lets only those through.
  mkdir -p "$dir/many"
  make_loop "$dir" one "$SIZE_MIB"; ONE=$LOOP
  make_loop "$dir" tiny 8; TINY=$LOOP
  MANY=()
  for i in $(seq 1 16); do make_loop "$dir/many" many$i "$MANY_MIB"; MANY+=("$LOOP"); done
  FOUR=("${MANY[@]:0:4}")
  make_loop "$dir" nwipe "$NWIPE_MIB"; NW=$LOOP
  make_loop "$dir" nwipe-tiny 8; NWT=$LOOP
  NW4=()
  for i in 1 2 3 4; do make_loop "$dir" nwipe4-$i "$NWIPE4_MIB"; NW4+=("$LOOP"); done
  NW16=()
  for i in $(seq 1 16); do make_loop "$dir" nwipe16-$i "$NWIPE16_MIB"; NW16+=("$LOOP"); done
  GROWTH=()
  if [ "$backing" = disk ] && [ "$GROWTH_MIB" -gt 0 ]; then
    make_loop "$dir" growth-small "$GROWTH_SMALL_MIB" sparse; GROWTH+=("$LOOP")
    make_loop "$dir" growth-big "$GROWTH_MIB" sparse; GROWTH+=("$LOOP")
  fi
  echo "== $backing: one drive $ONE (${SIZE_MIB} MiB), sixteen drives ${MANY[*]} (${MANY_MIB} MiB each), nwipe $NW, ${NW4[*]}, ${NW16[*]}${GROWTH:+, growth ${GROWTH[*]}}" >&2

  # Fresh (fallocated or sparse) backing files are slower on their first write (tmpfs pages
  # and disk extents are made ready then), which would handicap whichever tool writes first
  # in round 1: write every device once before timing anything.
  for d in "$ONE" "${MANY[@]}" "$NW" "${NW4[@]}" "${NW16[@]}" "${GROWTH[@]}"; do zero_dev "$d"; done
  for round in $(seq 1 "$ROUNDS"); do
    echo "-- $backing round $round/$ROUNDS $(date -u '+%H:%M:%S') load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    nwipe_run "$backing" overhead "$round" 1 "--method=zero --verify=off" "$NWT"
    # Ardoise's fixed cost (start-up, key, journal, certificate) in CPU and memory: an 8 MiB drive.
    ardoise_run "$backing" overhead "$round" bench-zero 1 "$TINY"
    startup_run "$backing" "$round" "$ONE"
    store_floor "$backing" "$round"
    # Zero pass.
    SETTLE=("$ONE" "$NW")
    rotate "$round" \
      'ardoise_run "$backing" zero "$round" bench-zero 1 "$ONE"' \
      'fio_run "$backing" zero "$round" write "--zero_buffers" "$ONE"' \
      'nwipe_run "$backing" zero "$round" 1 "--method=zero --verify=off" "$NW"' \
      'fio_again "$backing" zero "$round" write "--zero_buffers" "$ONE"'
    # PRNG pass: fio writes fresh random buffers on every submit.
    SETTLE=("$ONE" "$NW")
    rotate "$round" \
      'ardoise_run "$backing" prng "$round" bench-prng 1 "$ONE"' \
      'fio_run "$backing" prng "$round" write "--refill_buffers" "$ONE"' \
      'nwipe_run "$backing" prng "$round" 1 "--method=prng --prng=isaac64 --verify=off" "$NW"' \
      'fio_again "$backing" prng "$round" write "--refill_buffers" "$ONE"'
    # Verification read of a zeroed drive (Ardoise: the read-only verify-zero profile).
    ardoise_run "$backing" prep "$round" bench-zero 1 "$ONE"   # only preparation, not reported
    zero_dev "$NW"
    BEFORE_EACH='warm "$ONE" "$NW"'
    rotate "$round" \
      'ardoise_run "$backing" read "$round" verify-zero 1 "$ONE"' \
      'fio_run "$backing" read "$round" read "" "$ONE"' \
      'nwipe_run "$backing" read "$round" 1 "--method=verify_zero --verify=off" "$NW"' \
      'fio_again "$backing" read "$round" read "" "$ONE"' \
      'fio_verify "$backing" read "$round" "$ONE"'
    BEFORE_EACH=
    # A zero pass plus full read-back: rate counts every byte twice (written, then read).
    SETTLE=("$ONE" "$NW")
    rotate "$round" \
      'ardoise_run "$backing" zero+verify "$round" zero 2 "$ONE"' \
      'nwipe_run "$backing" zero+verify "$round" 2 "--method=zero --verify=last" "$NW"'
    # Four drives at once: aggregate.
    SETTLE=("${FOUR[@]}" "${NW4[@]}")
    rotate "$round" \
      'ardoise_run "$backing" zero-4 "$round" bench-zero 1 "${FOUR[@]}"' \
      'fio_run "$backing" zero-4 "$round" write "--zero_buffers" "${FOUR[@]}"' \
      'nwipe_run "$backing" zero-4 "$round" 1 "--method=zero --verify=off" "${NW4[@]}"' \
      'fio_again "$backing" zero-4 "$round" write "--zero_buffers" "${FOUR[@]}"'
    # Verification read of the four drives the zero pass just left zeroed (and nwipe's four).
    BEFORE_EACH='warm "${FOUR[@]}" "${NW4[@]}"'
    rotate "$round" \
      'ardoise_run "$backing" read-4 "$round" verify-zero 1 "${FOUR[@]}"' \
      'fio_run "$backing" read-4 "$round" read "" "${FOUR[@]}"' \
      'nwipe_run "$backing" read-4 "$round" 1 "--method=verify_zero --verify=off" "${NW4[@]}"' \
      'fio_again "$backing" read-4 "$round" read "" "${FOUR[@]}"' \
      'fio_verify "$backing" read-4 "$round" "${FOUR[@]}"'
    BEFORE_EACH=
    SETTLE=("${FOUR[@]}" "${NW4[@]}")
    rotate "$round" \
      'ardoise_run "$backing" prng-4 "$round" bench-prng 1 "${FOUR[@]}"' \
      'fio_run "$backing" prng-4 "$round" write "--refill_buffers" "${FOUR[@]}"' \
      'nwipe_run "$backing" prng-4 "$round" 1 "--method=prng --prng=isaac64 --verify=off" "${NW4[@]}"' \
      'fio_again "$backing" prng-4 "$round" write "--refill_buffers" "${FOUR[@]}"'
    # Sixteen drives at once: aggregate, and the slowest job against the fastest.
    SETTLE=("${MANY[@]}" "${NW16[@]}")
    rotate "$round" \
      'ardoise_run "$backing" zero-16 "$round" bench-zero 1 "${MANY[@]}"' \
      'fio_run "$backing" zero-16 "$round" write "--zero_buffers" "${MANY[@]}"' \
      'nwipe_run "$backing" zero-16 "$round" 1 "--method=zero --verify=off" "${NW16[@]}"' \
      'fio_again "$backing" zero-16 "$round" write "--zero_buffers" "${MANY[@]}"'
    BEFORE_EACH='warm "${MANY[@]}" "${NW16[@]}"'
    rotate "$round" \
      'ardoise_run "$backing" read-16 "$round" verify-zero 1 "${MANY[@]}"' \
      'fio_run "$backing" read-16 "$round" read "" "${MANY[@]}"' \
      'nwipe_run "$backing" read-16 "$round" 1 "--method=verify_zero --verify=off" "${NW16[@]}"' \
      'fio_again "$backing" read-16 "$round" read "" "${MANY[@]}"' \
      'fio_verify "$backing" read-16 "$round" "${MANY[@]}"'
    BEFORE_EACH=
    SETTLE=("${MANY[@]}" "${NW16[@]}")
    rotate "$round" \
      'ardoise_run "$backing" prng-16 "$round" bench-prng 1 "${MANY[@]}"' \
      'fio_run "$backing" prng-16 "$round" write "--refill_buffers" "${MANY[@]}"' \
      'nwipe_run "$backing" prng-16 "$round" 1 "--method=prng --prng=isaac64 --verify=off" "${NW16[@]}"' \
      'fio_again "$backing" prng-16 "$round" write "--refill_buffers" "${MANY[@]}"'
    # The daemon wiping the sixteen drives while a client polls its control socket.
    [ "$DAEMON" = 1 ] && daemon_run "$backing" "$round" "$dir/many" "${MANY[@]}"
    # Cost growth: a zero pass on a small and a large device, each against fio at iodepth 4.
    if [ ${#GROWTH[@]} -eq 2 ]; then
      SETTLE=("${GROWTH[@]}")
      rotate "$round" \
        'ardoise_run "$backing" growth-small "$round" bench-zero 1 "${GROWTH[0]}"; metric "$backing" growth-small-events "$round" "$LAST_EVENTS"; metric "$backing" growth-small-data-bytes "$round" "$LAST_DATA_BYTES"' \
        'ardoise_run "$backing" growth-big "$round" bench-zero 1 "${GROWTH[1]}"; metric "$backing" growth-big-events "$round" "$LAST_EVENTS"; metric "$backing" growth-big-data-bytes "$round" "$LAST_DATA_BYTES"' \
        'DEPTHS=(4); fio_run "$backing" growth-small "$round" write "--zero_buffers" "${GROWTH[0]}"; DEPTHS=(1 4 16)' \
        'DEPTHS=(4); fio_run "$backing" growth-big "$round" write "--zero_buffers" "${GROWTH[1]}"; DEPTHS=(1 4 16)'
    fi
  done

  # This backing's loop devices and files are no longer needed.
  detach "$ONE" "$TINY" "${MANY[@]}" "$NW" "$NWT" "${NW4[@]}" "${NW16[@]}" "${GROWTH[@]}"
  rm -f "$dir"/*.img "$dir"/many/*.img
  rmdir "$dir/many"
  if [ "$backing" = tmpfs ]; then umount "$TMPFS_DIR"; TMPFS_MOUNTED=0; fi
done

# The profiles that show why a target is missed, taken in the same run on the same binary
# (the rounds' devices are gone by now; each script makes and removes its own):
# bench/profile.sh (CPU, system calls, memory and perf's hottest symbols of each pass) and
# bench/spread.sh (the sixteen drives' job times cut into writes and final flush, and the
# machine's CPU by thread) for each backing and pass, fio beside. report.py reads both.
PROFILES_TXT=$WORK/profiles.txt
: > "$PROFILES_TXT"
if [ "$PROFILE" = 1 ]; then
  echo "-- profiles $(date -u '+%H:%M:%S') load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  SIZE_MIB=1024 DRIVES=4 PERF=1 "$HERE/profile.sh" "$ARDOISE" >> "$PROFILES_TXT"
  for backing in $BACKINGS; do
    for pass in zero prng read; do
      BACKING=$backing PASS=$pass N=16 MIB=$MANY_MIB ROUNDS=$SPREAD_ROUNDS "$HERE/spread.sh" "$ARDOISE" >> "$PROFILES_TXT"
    done
  done
fi

END=$(date -u '+%Y-%m-%d %H:%M UTC')
DURATION=$(( $(date +%s) - T_START ))

mkdir -p "$(dirname "$RESULTS")"
cp "$RAW" "${RESULTS%.md}.tsv"
REPORT_ARGS=()
if [ -s "$PROFILES_TXT" ]; then
  cp "$PROFILES_TXT" "${RESULTS%.md}-profiles.txt"
  REPORT_ARGS=(--profiles "${RESULTS%.md}-profiles.txt")
fi
python3 "$HERE/report.py" "$RAW" "${REPORT_ARGS[@]}" \
  --started "$START" --ended "$END ($(( DURATION / 60 )) min $(( DURATION % 60 )) s)" --rounds "$ROUNDS" \
  --sizes "one drive ${SIZE_MIB} MiB; four and sixteen drives ${MANY_MIB} MiB each; nwipe ${NWIPE_MIB} MiB (four: ${NWIPE4_MIB} MiB each, sixteen: ${NWIPE16_MIB} MiB each); growth ${GROWTH_SMALL_MIB} MiB and ${GROWTH_MIB} MiB sparse on disk" \
  --machine "$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2/1048576 }' /proc/meminfo), $(uname -sr), load before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg)" \
  --versions "$("$ARDOISE" --version 2>/dev/null || echo ardoise) ($(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)); $(fio --version); nwipe package $(dpkg-query -W -f='${Version}' nwipe 2>/dev/null) (banner: $(nwipe --version 2>/dev/null | head -1)); $(strace -V | head -1)" \
  --command "ROUNDS=$ROUNDS SIZE_MIB=$SIZE_MIB MANY_MIB=$MANY_MIB NWIPE_MIB=$NWIPE_MIB NWIPE4_MIB=$NWIPE4_MIB NWIPE16_MIB=$NWIPE16_MIB GROWTH_SMALL_MIB=$GROWTH_SMALL_MIB GROWTH_MIB=$GROWTH_MIB DAEMON=$DAEMON PROFILE=$PROFILE SPREAD_ROUNDS=$SPREAD_ROUNDS BACKINGS=\"$BACKINGS\" bench/run.sh $ARDOISE" \
  | tee "$RESULTS"
echo "written: $RESULTS (raw: ${RESULTS%.md}.tsv${REPORT_ARGS[1]:+; profiles: ${REPORT_ARGS[1]}})" >&2
