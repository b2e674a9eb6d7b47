"""Benchmark the data quality validation on the national-scale store (target: <= 60 s on this 2-core machine).

Times exactly what a load runs before publishing (`expectations.runner.validate_store`: every
GE suite and SQL check, storing results and failing rows, building Data Docs) on a writable
copy of the store, and prints a Markdown table for BENCHMARKS.md with the slowest steps.

    .venv/bin/python -m benchmarks.bench_expectations [--store PATH] [--scale 1.0] [--repeat 1]

Without --store a national store is built first with benchmarks.national_store (not timed).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from benchmarks.national_store import build_national_store
from expectations.data_docs import build_data_docs
from expectations.model import CheckParams
from expectations.runner import ValidationRun, run_checks, store_results
from store.connection import open_for_update

TARGET_SECONDS = 60.0


def _row_counts(con) -> dict[str, int]:
    tables = ("contacts", "referrals", "assessments", "cin_episodes", "recordings")
    return {t: int(con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]) for t in tables}


def validate_once(store: Path, docs: Path) -> tuple[float, float, ValidationRun, dict[str, int], dict[str, float]]:
    """One full validation on a writable copy of the store, published like a load: seconds, run, rows, steps.

    The first run in a process includes importing Great Expectations (a load pays it too).
    Returns wall seconds, CPU seconds (all threads of this process), the run, row counts, steps.
    """
    with open_for_update(store) as con:
        counts = _row_counts(con)
        started, cpu_started = time.perf_counter(), time.process_time()
        params = CheckParams.from_store(con)
        run = run_checks(con, params)
        t_checks = time.perf_counter()
        store_results(con, params.load_id, run)
        t_store = time.perf_counter()
        if run.ge_session is not None:
            build_data_docs(run.ge_session, docs)
        finished, cpu = time.perf_counter(), time.process_time() - cpu_started
    steps = dict(run.timings)
    steps["store results"] = t_store - t_checks
    steps["Data Docs"] = finished - t_store
    return finished - started, cpu, run, counts, steps


def _markdown(
    seconds: list[float],
    cpu: list[float],
    load: list[float],
    run: ValidationRun,
    counts: dict[str, int],
    steps: dict[str, float],
) -> str:
    failing = run.results[~run.results["success"]]
    first = seconds[0]
    runs = ", ".join(f"{s:.1f} s (CPU {c:.0f} s, load {a:.1f})" for s, c, a in zip(seconds, cpu, load))
    lines = [
        f"### Data quality validation, national scale ({platform.machine()}, {os.cpu_count()} cores)",
        "",
        "| rows | checks | failing checks | failing rows stored | validation wall (first run includes the GE import) | target |",
        "|---|---|---|---|---|---|",
        f"| {sum(counts.values()):,} ({', '.join(f'{t} {n:,}' for t, n in counts.items())}) | {len(run.results)}"
        f" | {len(failing)} | {len(run.failures):,} | {runs} | <= {TARGET_SECONDS:.0f} s"
        f" {'met' if first <= TARGET_SECONDS else 'NOT met'} |",
        "",
        "Slowest steps of the last run:",
        "",
        "| step | seconds |",
        "|---|---|",
    ]
    lines += [f"| {step} | {sec:.2f} |" for step, sec in sorted(steps.items(), key=lambda kv: -kv[1])[:12]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_expectations", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--store", type=Path, help="an existing national store (default: build one in a temp folder)")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench_dq_") as tmp:
        store = args.store
        if store is None:
            store = Path(tmp) / "national.duckdb"
            started = time.perf_counter()
            build_national_store(store, args.scale)
            print(f"built the national store (scale {args.scale}) in {time.perf_counter() - started:.0f} s")
        seconds, cpu, load = [], [], []
        for _ in range(args.repeat):
            elapsed, cpu_seconds, run, counts, steps = validate_once(store, Path(tmp) / "data_docs")
            seconds.append(elapsed)
            cpu.append(cpu_seconds)
            load.append(os.getloadavg()[0])
        print(_markdown(seconds, cpu, load, run, counts, steps))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
