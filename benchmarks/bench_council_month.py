"""A council's month: a 50,000-row Annex A workbook loaded into a five-year council store, checks on, as a user runs it.

Run: .venv/bin/python -m benchmarks.bench_council_month [--store STORE] [--extracts DIR] [--repeat 3]
Builds the council store first if it is missing (`python -m synthetic extracts --children 10000
--years 5`, every file loaded with the loaders: several minutes), validates a copy of it once on
the whole store (so the checks' kept rows are there, as after any load), writes a 50,000-row List 3
workbook (benchmarks/bench_ingest.py), then, `--repeat` times, loads the workbook into a fresh copy
in a new process (imports, checks and Data Docs included) and prints its wall time, CPU time, the
machine's load average and the time of each step of the load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ROOT = Path("/work/bench-data/i13-checks")
CHILDREN, YEARS = 10_000, 5


def build_council(store: Path, extracts: Path) -> None:
    """Five years of a synthetic council's extracts, loaded into `store` in one publish."""
    from ingest.pipeline import load_files

    if not extracts.is_dir():
        subprocess.run(
            [sys.executable, "-m", "synthetic", "extracts", "--children", str(CHILDREN), "--years", str(YEARS)]
            + ["--out", str(extracts)],
            check=True,
        )
    files = sorted(p for p in extracts.iterdir() if p.suffix in (".xlsx", ".xls", ".csv", ".xml"))
    load_files(files, store=store, validate=True)


def _child(workbook: Path, store: Path) -> None:
    """In the timed process: load the workbook with the loaders, print the time of each step as JSON."""
    started = time.perf_counter()
    from ingest.pipeline import load_files

    steps: dict[str, float] = {"import the loaders": time.perf_counter() - started}
    last, step = time.perf_counter(), "read, normalise, write versions"

    def progress(message: str) -> None:
        nonlocal last, step
        now = time.perf_counter()
        steps[step] = steps.get(step, 0.0) + now - last
        last, step = now, "read, normalise, write versions" if message.startswith("reading") else message

    summaries = load_files([workbook], store=store, validate=True, progress=progress)
    progress("done")
    assert summaries[0].status == "loaded", summaries[0].error
    print(json.dumps(steps))


def _run(args: list[str]) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run(args, check=True, capture_output=True, text=True, cwd=PROJECT_ROOT).stdout
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=DEFAULT_ROOT / "council.duckdb")
    parser.add_argument("--extracts", type=Path, default=DEFAULT_ROOT / "council_extracts")
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("WORKBOOK", "STORE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(Path(args.child[0]), Path(args.child[1]))
        return 0
    from benchmarks.bench_ingest import write_list3_workbook
    from store.connection import published_file

    if not args.store.exists():
        build_council(args.store, args.extracts)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        prepared = folder / "prepared.duckdb"
        shutil.copyfile(published_file(args.store), prepared)
        _run([sys.executable, "-m", "expectations", "validate", "--save", "--no-docs", "--store", str(prepared)])
        workbook = write_list3_workbook(folder / "annex_a_list_3_month.xlsx", args.rows)
        print(
            f"council store {args.store} ({published_file(args.store).stat().st_size / 1e6:.0f} MB), {args.rows} rows"
        )
        for i in range(args.repeat):
            store = folder / f"run{i}.duckdb"
            shutil.copyfile(published_file(prepared), store)
            load = os.getloadavg()[0]
            wall, cpu, out = _run(
                [sys.executable, "-m", "benchmarks.bench_council_month", "--child", str(workbook), str(store)]
            )
            steps = json.loads(out.strip().splitlines()[-1])
            shown = ", ".join(f"{k} {v:.1f}" for k, v in steps.items())
            print(f"run {i + 1}: {wall:.1f} s wall, {cpu:.1f} s CPU, load average {load:.1f} | {shown}")
            shutil.rmtree(store.with_name(store.name + ".data_docs"), ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
