"""Where a load's time and writes go: each step, and the statements that cost most (CPU, wall, bytes written).

Run: .venv/bin/python -m benchmarks.bench_load_steps FILE... --store NEW_OR_COPIED_STORE [--from STORE] [--top 25]
Loads the files with the loaders in this process, data quality checks off (their cost is measured
by benchmarks/bench_expectations.py), into `--store`; with `--from`, into a fresh copy of that
store first (a monthly load into an existing store). Prints the time between the loader's progress
messages, the `--top` statements by CPU time with their wall time and the bytes they wrote to disk
(Linux /proc/self/io), and the whole load's wall and CPU time, bytes written and load average: on
a shared machine wall time varies with the other work, CPU time and bytes written much less.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb

import store.connection
from ingest.pipeline import load_files

MEMORY_LIMIT = "8GB"  # the shared machine's rule for benchmarks


def bytes_written() -> int:
    """Bytes this process has caused to be written to storage so far (0 where /proc/self/io is missing)."""
    try:
        with open("/proc/self/io") as io:
            return next(int(line.split()[1]) for line in io if line.startswith("write_bytes"))
    except (OSError, StopIteration):
        return 0


class TimedConnection:
    """A DuckDB connection that adds each statement's CPU, wall time and bytes written to `costs`."""

    def __init__(self, con: duckdb.DuckDBPyConnection, costs: dict[str, list[float]]) -> None:
        self._con, self._costs = con, costs

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        cpu, wall, written = time.process_time(), time.perf_counter(), bytes_written()
        try:
            return self._con.execute(sql, *args, **kwargs)
        finally:
            cost = self._costs[re.sub(r"\s+", " ", sql.strip())[:80]]
            cost[0] += time.process_time() - cpu
            cost[1] += time.perf_counter() - wall
            cost[2] += bytes_written() - written
            cost[3] += 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--store", type=Path, required=True, help="the store to load into (made if missing)")
    parser.add_argument("--from", dest="source", type=Path, help="copy this store to --store first")
    parser.add_argument("--top", type=int, default=25, help="statements to list")
    args = parser.parse_args(argv)
    if args.source:
        args.store.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.source.resolve(), args.store)
    costs: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0])
    open_copy = store.connection._open_work_copy

    def timed_copy(path: Path, work: Path) -> Any:
        con = open_copy(path, work)
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        return TimedConnection(con, costs)

    store.connection._open_work_copy = timed_copy  # type: ignore[assignment]
    steps: list[tuple[str, float]] = []
    since, current = [time.perf_counter()], ["opening the store"]

    def step(message: str) -> None:
        now = time.perf_counter()
        steps.append((current[0], now - since[0]))
        since[0], current[0] = now, message

    written, cpu, wall = bytes_written(), time.process_time(), time.perf_counter()
    summaries = load_files(args.files, store=args.store, validate=False, progress=step)
    wall, cpu, written = time.perf_counter() - wall, time.process_time() - cpu, bytes_written() - written
    step("done")
    print("| step | wall s |\n|---|---:|")
    print("\n".join(f"| {name} | {secs:.2f} |" for name, secs in steps))
    print("\n| CPU s | wall s | MB written | runs | statement |\n|---:|---:|---:|---:|---|")
    for sql, (c, w, b, n) in sorted(costs.items(), key=lambda item: -item[1][0])[: args.top]:
        print(f"| {c:.2f} | {w:.2f} | {b / 1e6:.1f} | {int(n)} | `{sql}` |")
    rows = sum(sum(s.rows.values()) for s in summaries)
    print(
        f"\n{rows:,} rows: wall {wall:.2f} s, CPU {cpu:.2f} s, {written / 1e6:,.0f} MB written (store"
        f" {args.store.resolve().stat().st_size / 1e6:,.0f} MB), load average {os.getloadavg()[0]:.1f}"
    )
    for s in summaries:
        print(f"- {s.file}: {s.status}, superseded {s.superseded}, replaced {s.replaced}, unchanged {s.unchanged}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
