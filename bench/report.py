#!/usr/bin/env python3
"""Turns bench/run.sh's raw measurements (TSV) into the Markdown table of bench/results/latest.md.

Raw columns: backing, case, tool, round, MB/s, peak RSS (KiB, Ardoise only), wall seconds.
Medians are over rounds; ratios are the median of per-round ratios (each Ardoise run against
the peer run right after it), which is what the interleaving is for.
"""
import argparse
import csv
import statistics
from collections import defaultdict

CASES = [
    # case, label, drives, ratio target against fio (None: no target)
    ("zero", "zero pass, 1 drive", 1, 0.95),
    ("prng", "PRNG pass, 1 drive", 1, 0.90),
    ("read", "verification read, 1 drive", 1, 0.90),
    ("zero+verify", "zero pass + full verification, 1 drive", 1, None),
    ("zero-4", "zero pass, 4 drives (aggregate)", 4, 0.90),
    ("prng-4", "PRNG pass, 4 drives (aggregate)", 4, 0.90),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("raw")
    for option in ("started", "ended", "rounds", "sizes", "machine", "versions", "command"):
        parser.add_argument("--" + option, default="")
    args = parser.parse_args()

    rate = defaultdict(dict)   # (backing, case, tool) -> {round: MB/s}
    rss = defaultdict(list)    # (backing, case) -> [KiB]
    net_seconds = defaultdict(list)  # (backing, case) -> nwipe's time net of start-up, per round
    backings = []
    with open(args.raw) as raw:
        for backing, case, tool, rnd, mbps, rss_kib, _wall in csv.reader(raw, delimiter="\t"):
            if backing not in backings:
                backings.append(backing)
            rate[(backing, case, tool)][int(rnd)] = float(mbps)
            if tool == "nwipe" and _wall:
                net_seconds[(backing, case)].append(float(_wall))
            if tool == "ardoise" and rss_kib:
                rss[(backing, case)].append(int(rss_kib))

    def median(values):
        return statistics.median(values) if values else None

    def fmt(value, digits=0):
        return "–" if value is None else f"{value:,.{digits}f}"

    def fio_for(backing, case):
        """fio's per-round rate; for a pass plus verification, its write and read chained."""
        if case != "zero+verify":
            return rate.get((backing, case, "fio"), {})
        writes, reads = rate.get((backing, "zero", "fio"), {}), rate.get((backing, "read", "fio"), {})
        return {r: 2 / (1 / writes[r] + 1 / reads[r]) for r in writes if r in reads}

    def ratio(a, b):
        common = [r for r in a if r in b and b[r] > 0]
        return median([a[r] / b[r] for r in common])

    lines = []
    lines.append(f"# Ardoise benchmark — {args.started}")
    lines.append("")
    lines.append(f"- Machine: {args.machine}")
    lines.append(f"- Versions: {args.versions}")
    lines.append(f"- Sizes: {args.sizes}; {args.rounds} interleaved rounds, the order rotating from round to round (Ardoise, fio, nwipe; fio, nwipe, Ardoise; …), ended {args.ended}")
    lines.append(f"- Command (as root): `{args.command}`")
    lines.append("")
    lines.append("MB/s = 10^6 bytes/s, medians over rounds. Ardoise: bytes over the engine's own time "
                 "(job-finished `averageBytesPerSecond`; several drives: all bytes over the slowest job); "
                 "`wall` includes process start-up, key and journal. fio: best of iodepth 1/4/16 "
                 "(libaio, direct, sequential, 1 MiB; one job per drive). nwipe: timed from outside on smaller "
                 "devices, net of its fixed start-up/exit time (a run on an 8 MiB device in the same round); "
                 "Ardoise/nwipe compares the engine rate with that net rate, and in brackets wall with wall "
                 "(n/r: nwipe's net time was under 1 s, lost in start-up noise; only wall/wall is given). "
                 "fio writes end with fsync, as every Ardoise write pass ends with fdatasync. Ratios: median of per-round ratios. "
                 "A pass plus verification counts each byte twice (fio: its write and read rates chained).")
    lines.append("")
    lines.append("| backing | case | Ardoise MB/s | Ardoise wall MB/s | fio MB/s | nwipe MB/s (net) | Ardoise/fio | target | Ardoise/nwipe (wall/wall) | peak RSS MiB (limit) |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---|---:|---:|")
    verdicts = []
    for backing in backings:
        for case, label, drives, target in CASES:
            ardoise = rate.get((backing, case, "ardoise"), {})
            if not ardoise:
                continue
            wall = rate.get((backing, case, "ardoise-wall"), {})
            fio = fio_for(backing, case)
            nwipe = rate.get((backing, case, "nwipe"), {})
            r_fio = ratio(ardoise, fio)
            # Under a second net of start-up, nwipe's rate is lost in its start-up noise: then
            # only the wall/wall ratio means something.
            resolved = median(net_seconds[(backing, case)]) is None or median(net_seconds[(backing, case)]) >= 1.0
            r_nwipe = ratio(ardoise, nwipe) if resolved else None
            r_nwipe_wall = ratio(wall, rate.get((backing, case, "nwipe-wall"), {}))
            peak = max(rss[(backing, case)]) / 1024 if rss[(backing, case)] else None
            limit = 64 + 40 * drives
            if target is None:
                target_text = "–"
            else:
                ok = r_fio is not None and r_fio >= target
                target_text = f"≥ {target:.2f} {'met' if ok else '**not met**'}"
                verdicts.append(ok)
            lines.append(
                f"| {backing} | {label} | {fmt(median(list(ardoise.values())))} | {fmt(median(list(wall.values())))} "
                f"| {fmt(median(list(fio.values())))} | {fmt(median(list(nwipe.values()))) if resolved else 'n/r'} "
                f"| {fmt(r_fio, 2)} | {target_text} | {fmt(r_nwipe, 1)} ({fmt(r_nwipe_wall, 1)}) | {fmt(peak, 1)} ({limit}) |")
    lines.append("")
    # fio's per-iodepth medians, to show which depth won.
    lines.append("fio medians per iodepth (MB/s):")
    lines.append("")
    lines.append("| backing | case | qd1 | qd4 | qd16 |")
    lines.append("|---|---|---:|---:|---:|")
    for backing in backings:
        for case, label, _, _ in CASES:
            depths = [median(list(rate.get((backing, case, f"fio-qd{d}"), {}).values())) for d in (1, 4, 16)]
            if any(d is not None for d in depths):
                lines.append(f"| {backing} | {label} | " + " | ".join(fmt(d) for d in depths) + " |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
