#!/usr/bin/env bash
# Where the spread of job times comes from when many drives are written at once (issue 15:
# slowest/fastest job ≤ 1.25 on sixteen drives): for Ardoise and for fio on the same loop
# devices, each job's time is cut into its writes (from the open of the device to the start
# of its final flush) and that flush (fdatasync / fsync), traced with strace through seccomp
# (only openat, fdatasync and fsync stop the process, so the writes run at full speed); and
# the machine's CPU time during the run is split by who spent it (perf record -a, grouped by
# thread name: the tool's own threads, the loop devices' and writeback's kernel workers, idle).
# PASS=read: the verification read of zeroed drives (Ardoise's verify-zero profile, fio's
# sequential read); each job's time is then the tool's own (Ardoise's job-finished lines,
# fio's job runtime), not cut, and the CPU split is the same.
#
#   usage: bench/spread.sh PATH-TO-ardoise          (as root)
#   env:   BACKING=tmpfs|disk  PASS=zero|prng|read  N=16 (drives)  MIB=512 (each)  ROUNDS=3
#
# Creates only its own files and loop devices, removes each by exact name on exit.
set -euo pipefail

ARDOISE=$(readlink -f "${1:?usage: bench/spread.sh PATH-TO-ardoise}")
BACKING=${BACKING:-tmpfs}
PASS=${PASS:-zero}
N=${N:-16}
MIB=${MIB:-512}
ROUNDS=${ROUNDS:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "run as root (loop devices)" >&2; exit 1; }
for tool in fio strace perf python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install fio strace linux-perf python3)" >&2; exit 1; }
done

case $BACKING in
  tmpfs) DIR=$(mktemp -d /dev/shm/ardoise-spread.XXXXXX) ;;
  disk) DIR=$(mktemp -d /var/tmp/ardoise-spread.XXXXXX) ;;
  *) echo "BACKING is tmpfs or disk" >&2; exit 1 ;;
esac
case $PASS in
  zero) PROFILE=bench-zero; FIO_DATA=--zero_buffers ;;
  prng) PROFILE=bench-prng; FIO_DATA=--refill_buffers ;;
  read) PROFILE=verify-zero ;;
  *) echo "PASS is zero, prng or read" >&2; exit 1 ;;
esac
WORK=$(mktemp -d /tmp/ardoise-spread.XXXXXX)
LOOPS=()
cleanup() {
  set +e
  for l in "${LOOPS[@]}"; do losetup -d "$l"; done
  rm -rf "$WORK" "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# settle and use_bench_profiles: bench/lib.sh.
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"
use_bench_profiles "$WORK/profiles"

for i in $(seq 1 "$N"); do
  fallocate -l "$(( MIB * 1024 * 1024 ))" "$DIR/d$i.img"
  LOOPS+=("$(losetup -f --show "$DIR/d$i.img")")
done

# traced TOOL COMMAND...: runs COMMAND under strace (openat/fdatasync/fsync only) and perf.
traced() {
  local tool=$1; shift
  local rc=0
  settle "${LOOPS[@]}"
  perf record -q -a -F 499 -e cpu-clock -o "$WORK/perf.data" -- \
    strace -f --seccomp-bpf -qq -tt -T -e trace=openat,fdatasync,fsync -o "$WORK/strace.txt" "$@" \
    > "$WORK/out.txt" 2> "$WORK/err.txt" || rc=$?
  # Exit 30: the benchmark profiles have no verification ("erased with exceptions").
  if [ "$rc" -ne 0 ] && { [ "$tool" != ardoise ] || [ "$rc" -ne 30 ]; }; then
    echo "$tool failed (exit $rc):" >&2; tail -5 "$WORK/err.txt" >&2; exit 1
  fi
  perf report -q -i "$WORK/perf.data" --sort comm --stdio -F overhead,comm 2> /dev/null > "$WORK/comm.txt"
  python3 - "$tool" "$WORK/strace.txt" "$WORK/comm.txt" "${LOOPS[*]}" "$PASS" "$WORK/out.txt" "$MIB" <<'PY'
import json, re, statistics, sys
tool, trace, comms, loops = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split()
kind, output, size = sys.argv[5], sys.argv[6], int(sys.argv[7]) << 20

# CPU samples by thread name, grouped: kernel workers by their work queue (the 15-character
# name keeps its start: "-lo" is a loop device's, "-fl" a writeback flush's, "-ev" events),
# the tool's threads without their number, "swapper" is the idle loop.
groups = {}
for line in open(comms):
    parts = line.split(None, 1)
    if len(parts) != 2 or not parts[0].endswith("%"):
        continue
    pct, comm = float(parts[0][:-1]), parts[1].strip()
    if comm.startswith("kworker"):
        key = "kworker" + ("-" + comm.rsplit("-", 1)[1] if "-" in comm else "")
    elif comm == "swapper":
        key = "idle"
    else:
        key = re.sub(r"[-:/]?\d+$", "", comm)
    groups[key] = groups.get(key, 0.0) + pct
cpu = ", ".join(f"{k} {v:.0f} %" for k, v in sorted(groups.items(), key=lambda kv: -kv[1])[:8])

if kind == "read":
    # No flush to cut at: each job's own time, as the tool reports it.
    if tool == "ardoise":
        done = [json.loads(l) for l in open(output) if '"job-finished"' in l]
        times = [size / d["averageBytesPerSecond"] for d in done]
    else:
        times = [j["job_runtime"] / 1000 for j in json.load(open(output))["jobs"]]
    if len(times) != len(loops):
        print(f"{tool}: {len(times)} of {len(loops)} jobs reported")
        sys.exit(0)
    print(f"{tool:8s} job slowest/fastest {max(times) / min(times):.2f} | CPU by thread: {cpu}")
    sys.exit(0)

def seconds(stamp):
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)

# fd -> device for the opens made for writing with O_DIRECT (Ardoise's threads and fio's
# --thread jobs share one fd table); the last such open of a device starts its job.
fds, opened, flush = {}, {}, {}
pending = {}  # pid -> (start, fd) of an unfinished fdatasync/fsync
opening = {}  # pid -> (start, device) of an unfinished openat
for line in open(trace):
    m = re.match(r"(\d+)\s+(\S+)\s+(.*)", line)
    if not m:
        continue
    pid, stamp, rest = m.group(1), seconds(m.group(2)), m.group(3)
    # A call another thread's output interrupts is printed in two parts (strace -f):
    # "openat(...) <unfinished ...>", later "<... openat resumed>) = 7".
    o = re.match(r'openat\(AT_FDCWD, "(/dev/loop\d+)", ([^)<]*?)\s*(?:\) = (\d+)|<unfinished)', rest)
    if o and "O_DIRECT" in o.group(2) and ("O_WRONLY" in o.group(2) or "O_RDWR" in o.group(2)):
        if o.group(3) is None:
            opening[pid] = (stamp, o.group(1))
        else:
            fds[o.group(3)] = o.group(1)
            opened[o.group(1)] = stamp
        continue
    o = re.match(r"<\.\.\. openat resumed>\)\s*= (\d+)", rest)
    if o and pid in opening:
        start, dev = opening.pop(pid)
        fds[o.group(1)] = dev
        opened[dev] = start
        continue
    f = re.match(r"f(?:data)?sync\((\d+)\)\s*= 0 <([\d.]+)>", rest)
    if f and f.group(1) in fds:
        flush[fds[f.group(1)]] = (stamp, float(f.group(2)))
        continue
    u = re.match(r"f(?:data)?sync\((\d+) <unfinished", rest)
    if u:
        pending[pid] = (stamp, u.group(1))
        continue
    r = re.match(r"<\.\.\. f(?:data)?sync resumed>\)\s*= 0 <([\d.]+)>", rest)
    if r and pid in pending:
        start, fd = pending.pop(pid)
        if fd in fds:
            flush[fds[fd]] = (start, float(r.group(1)))

jobs = []
for dev in loops:
    if dev in opened and dev in flush:
        start, duration = flush[dev]
        jobs.append((start - opened[dev], duration))
if len(jobs) != len(loops):
    print(f"{tool}: traced {len(jobs)} of {len(loops)} jobs (opens {len(opened)}, flushes {len(flush)})")
    sys.exit(0)
writes = [w for w, _ in jobs]
flushes = [f for _, f in jobs]
totals = [w + f for w, f in jobs]

print(f"{tool:8s} job slowest/fastest {max(totals) / min(totals):.2f} | writes {min(writes):.2f}–{max(writes):.2f} s "
      f"({max(writes) / min(writes):.2f}) | flush {min(flushes):.2f}/{statistics.median(flushes):.2f}/{max(flushes):.2f} s "
      f"(min/median/max) | CPU by thread: {cpu}")
PY
}

echo "== $BACKING, $PASS pass, $N × $MIB MiB: ${LOOPS[*]}"
jobs=()
for d in "${LOOPS[@]}"; do jobs+=(--name="$(basename "$d")" --filename="$d"); done
for round in $(seq 1 "$ROUNDS"); do
  echo "-- round $round"
  traced ardoise "$ARDOISE" wipe "${LOOPS[@]}" --profile "$PROFILE" --yes --allow-virtual --json --data-dir "$WORK/data-$round"
  rm -rf "$WORK/data-$round"
  if [ "$PASS" = read ]; then
    traced fio fio --thread --ioengine=libaio --direct=1 --bs=1M --rw=read --iodepth=4 --output-format=json "${jobs[@]}"
  else
    traced fio fio --thread --ioengine=libaio --direct=1 --bs=1M --rw=write --iodepth=4 "$FIO_DATA" --end_fsync=1 "${jobs[@]}"
  fi
done
