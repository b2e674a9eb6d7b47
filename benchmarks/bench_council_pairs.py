"""Before/after pairs of a user's load: `python -m ingest FILE --store COPY --quiet` from two source trees, alternating.

Run: .venv/bin/python -m benchmarks.bench_council_pairs --before /tmp/base9 --after . --seed /tmp/cm9/seed.duckdb \
         --pairs 3 /work/bench-data/r3-month/month.xlsx
(`--after-seed S` when the after tree defines the derived tables otherwise: a copy of the seed it brought up to date)
Each run copies the seed store (never written) into a fresh folder and runs the command as a user does, in a new
process from that tree's root with PYTHONPATH set to it (checks and Data Docs on), printing wall and CPU seconds
(user+sys of the process and its threads), its peak memory, the seconds between its last line of output and its end
(the exit), and the load average: on a shared host only pairs run back to back compare. Ends with the median of each
column per tree.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    """One timed load: wall and CPU seconds, peak memory (MB), seconds after its last output line, the load average at
    its start."""

    wall: float
    cpu: float
    peak_mb: float
    after_output: float
    load: float


def timed_load(root: Path, seed: Path, files: list[Path]) -> Run:
    """Load `files` into a copy of `seed` with the command of the tree at `root`; its timings."""
    with tempfile.TemporaryDirectory(prefix="council-pair-") as folder:
        store = Path(folder) / "s.duckdb"
        shutil.copyfile(seed.resolve(), store)
        command = [str(root / ".venv" / "bin" / "python"), "-m", "ingest", *map(str, files), "--store", str(store)]
        load, started = os.getloadavg()[0], time.perf_counter()
        proc = subprocess.Popen(
            [*command, "--quiet"], cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, stdout=subprocess.PIPE
        )
        assert proc.stdout is not None
        last_line = started
        for _ in proc.stdout:
            last_line = time.perf_counter()
        _, status, used = os.wait4(proc.pid, 0)  # this process's own resource use (CPU of all its threads, peak RSS)
        ended = time.perf_counter()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"{root}: the load failed (exit {proc.returncode})")
        cpu = used.ru_utime + used.ru_stime
        return Run(ended - started, cpu, used.ru_maxrss / 1024, ended - last_line, load)


def _line(name: str, run: Run) -> str:
    return f"| {name} | {run.wall:.2f} | {run.cpu:.2f} | {run.peak_mb:.0f} | {run.after_output:.2f} | {run.load:.2f} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--before", type=Path, required=True, help="root of the tree before the change")
    parser.add_argument("--after", type=Path, required=True, help="root of the tree after the change")
    parser.add_argument("--seed", type=Path, required=True, help="the store each run loads into a copy of")
    parser.add_argument(
        "--after-seed",
        type=Path,
        default=None,
        help="the store the after tree loads into a copy of (default --seed): a seed brought up to date by that tree"
        " when the change alters the derived tables' definitions (store/derived_built.py)",
    )
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args(argv)
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    seeds = {"before": args.seed, "after": args.after_seed or args.seed}
    runs: dict[str, list[Run]] = {name: [] for name in trees}
    print("| tree | wall s | CPU s | peak MB | s after last output | load average |\n|---|---:|---:|---:|---:|---:|")
    for _ in range(args.pairs):
        for name, root in trees.items():
            runs[name].append(timed_load(root, seeds[name], args.files))
            print(_line(name, runs[name][-1]), flush=True)
    for name, done in runs.items():
        fields = ("wall", "cpu", "peak_mb", "after_output", "load")
        median = Run(*(statistics.median(getattr(r, f) for r in done) for f in fields))
        print(_line(f"{name} (median)", median))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
