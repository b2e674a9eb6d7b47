"""The fixed cost of a load: three tiny files (tests/test_field_merge's), each loaded in its own publish, checks off.

Run: .venv/bin/python -m benchmarks.bench_small_loads [--repeat 3] [--checks] [--top 0]
Writes the two Annex A workbooks and the CIN census file of tests/test_field_merge.py (a few rows
each) and loads them one publish each into a new store, as the loader tests do, `--repeat` times.
Prints each round's wall and CPU seconds, the number of DuckDB statements the loads ran on the
store connection and their summed wall time, and the load average: with a few rows, a load costs
what its statements cost to plan and run, so the count is the figure to watch. `--top N` lists
the N statements that took longest (summed over the last round, by their first 70 characters).
The test suite's one DuckDB thread per connection (FRONTDOOR_DUCKDB_THREADS=1) is used.

With `--read FILE [--threads N]`, times the Annex A reader alone on FILE instead (an in-memory
connection with N DuckDB threads, default 2): wall and CPU seconds and its statements.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("FRONTDOOR_DUCKDB_THREADS", "1")

import store.connection  # after the thread setting above, as in the tests
from ingest.pipeline import load_files
from tests.test_field_merge import AS_OF, _annex_a_april, _annex_a_august, _census

_LOG: list[tuple[float, str]] = []


class _Timed:
    """A store connection that records each statement's wall time."""

    def __init__(self, con: Any) -> None:
        self._con = con

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return self._con.execute(sql, *args, **kwargs)
        finally:
            _LOG.append((time.perf_counter() - start, " ".join(sql.split())[:70]))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _one_round(checks: bool) -> tuple[float, float, int, float]:
    _LOG.clear()
    with tempfile.TemporaryDirectory(prefix="small_loads_") as folder:
        files = [_annex_a_august(Path(folder)), _census(Path(folder)), _annex_a_april(Path(folder))]
        wall, cpu = time.perf_counter(), time.process_time()
        for path in files:
            summaries = load_files([path], store=Path(folder) / "s.duckdb", as_of=AS_OF[path.name], validate=checks)
            if [s.status for s in summaries] != ["loaded"]:
                raise SystemExit(f"{path.name} did not load: {[s.error for s in summaries]}")
        return time.perf_counter() - wall, time.process_time() - cpu, len(_LOG), sum(d for d, _ in _LOG)


def _read_only(path: Path, threads: int, top: int) -> None:
    import duckdb

    from ingest.readers.annex_a import read_annex_a

    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    wall, cpu = time.perf_counter(), time.process_time()
    result = read_annex_a(path, _Timed(con))  # type: ignore[arg-type]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"read {path.name}: {result.rows_read} rows, {wall:.2f} s wall, {cpu:.2f} s CPU, {len(_LOG)} statements"
        f" ({sum(d for d, _ in _LOG):.2f} s in them); load average {load}"
    )
    _print_top(top)


def _print_top(top: int) -> None:
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for duration, sql in _LOG:
        totals[sql][0] += 1
        totals[sql][1] += duration
    for sql, (n, seconds) in sorted(totals.items(), key=lambda item: -item[1][1])[:top]:
        print(f"{seconds:6.3f} s {int(n):3d}x  {sql}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--checks", action="store_true", help="run the data quality checks at each publish")
    parser.add_argument("--top", type=int, default=0)
    parser.add_argument("--read", type=Path, default=None, help="time the Annex A reader alone on this file")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads for --read")
    args = parser.parse_args()
    if args.read:
        _read_only(args.read, args.threads, args.top)
        return
    opened = store.connection._open_work_copy
    store.connection._open_work_copy = lambda p, work: _Timed(opened(p, work))  # type: ignore[assignment]
    for _ in range(args.repeat):
        wall, cpu, count, in_statements = _one_round(args.checks)
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"3 loads: {wall:.2f} s wall, {cpu:.2f} s CPU, {count} statements ({in_statements:.2f} s in them);"
            f" load average {load}"
        )
    _print_top(args.top)


if __name__ == "__main__":
    main()
