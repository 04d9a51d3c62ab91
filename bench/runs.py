#!/usr/bin/env python3
"""Which issue-15 targets hold from run to run: reads several raw files of bench/run.sh
(bench/results/*.tsv), judges each with today's report.py, and prints one row per target
with its figure in every run and how many runs met it.

    usage: bench/runs.py bench/results/2026-12-07-0304-quiet-full.tsv bench/results/2026-12-07-0511-quiet-full.tsv ...

A target met in some runs and missed in others sits within the run-to-run spread of this
machine; one missed in every run is a real gap.
"""
import os
import subprocess
import sys


def targets(raw):
    """[(what, figure, verdict met?)] from report.py's "Targets" table for one raw file."""
    report = subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "report.py"), raw],
                            check=True, capture_output=True, text=True).stdout
    rows, inside = [], False
    for line in report.splitlines():
        if line.startswith("## "):
            inside = line == "## Targets (issue 15)"
            continue
        if inside and line.startswith("| ") and not line.startswith("| what"):
            what, figure, _target, verdict = [cell.strip() for cell in line.strip("|").split(" | ")]
            rows.append((what, figure, verdict == "met"))
    return rows


def main():
    raws = sys.argv[1:]
    if not raws:
        sys.exit(__doc__)
    runs = [dict((what, (figure, ok)) for what, figure, ok in targets(raw)) for raw in raws]
    order = []
    for run in runs:
        order += [what for what in run if what not in order]
    names = [os.path.basename(raw).removesuffix(".tsv") for raw in raws]
    print("| target | " + " | ".join(names) + " | met in |")
    print("|---|" + "---|" * len(names) + "---|")
    for what in order:
        cells = []
        for run in runs:
            figure, ok = run.get(what, ("–", None))
            cells.append(figure if ok is None or ok else f"**{figure}**")
        met = sum(1 for run in runs if run.get(what, (None, False))[1])
        present = sum(1 for run in runs if what in run)
        print(f"| {what} | " + " | ".join(cells) + f" | {met} of {present} |")
    print()
    print("Bold: not met in that run. Every run judged with today's bench/report.py.")


if __name__ == "__main__":
    main()
